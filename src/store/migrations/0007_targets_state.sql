-- 0007: a campaign's targets by delivery state.  The campaign clock asks
-- every second whether a campaign has anything left to send, and cancels
-- what is pending when a training period ends; without this index both
-- read every target (bench/deliver.sh: 58% of the time at 100,000 targets).
CREATE INDEX targets_campaign_state ON targets(campaign_id, state, due_at);
