-- 0008: a scenario's attachment declaration (docs/SCENARIOS.md, issue 4):
-- compact JSON, NULL for a URLリンク型 scenario.
ALTER TABLE scenarios ADD COLUMN attachment TEXT;
