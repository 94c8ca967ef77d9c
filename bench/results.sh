#!/bin/sh
# Results of a 100,000-target campaign with 500,000 events (issue 8):
# the dashboard API, results.csv, events.csv and report.xlsx — time and the
# server's peak memory growth — beside `sqlite3 -csv` writing the same joined
# rows in the same run (the floor).
# The campaign is seeded straight into SQLite (sending 100,000 mails is
# bench/tracker.sh's and issue 6's business, not this one's).
# Usage: bench/results.sh [targets] [events_per_target]   (needs sqlite3)
set -eu
cd "$(dirname "$0")/.."
targets=${1:-100000}
per=${2:-5}
work=$(mktemp -d)
trap 'kill $kpid 2>/dev/null || true; rm -rf "$work"' EXIT

. bench/lib.sh
api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
printf 'メールアドレス\r\nseed@example.co.jp\r\n' | api --data-binary @- "${console}api/v1/lists/1/import" > /dev/null
api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
api -d '{"name":"大規模訓練","scenario_id":1,"list_ids":[1],"exclusion_seconds":30,"sender":{"name":"b","local":"it","domain":"example.co.jp"}}' \
	"${console}api/v1/campaigns" > /dev/null

python3 bench/seed_campaign.py "$work/data/kunren.db" "$targets" "$per"

peak_reset() { echo 5 > "/proc/$kpid/clear_refs" 2>/dev/null || true; }
mem() { awk '/^VmHWM:/ { print $2 }' "/proc/$kpid/status"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$kpid/status"; }
timed() { # name url -> seconds, peak growth MiB, bytes
	peak_reset
	base=$(rss)
	t=$(api -o "$work/$1" -w '%{time_total}' "$2")
	printf '%-22s %6.2f s  %+5d MiB  %9d bytes\n' "$1" "$t" $(( ($(mem) - base) / 1024 )) "$(wc -c < "$work/$1")"
}

echo "== dashboard API (5 runs each, seconds)"
for path in "campaigns/1" "campaigns/1/breakdown?by=department" "campaigns/1/timeline" "campaigns/1/targets?limit=100"; do
	printf '%-40s' "$path"
	for _ in 1 2 3 4 5; do printf ' %.3f' "$(api -o /dev/null -w '%{time_total}' "${console}api/v1/$path")"; done
	echo
done
echo "== downloads"
timed results.csv "${console}api/v1/campaigns/1/results.csv"
timed events.csv "${console}api/v1/campaigns/1/events.csv"
timed report.xlsx "${console}api/v1/campaigns/1/report.xlsx" || echo "report.xlsx: failed"

echo "== floor: sqlite3 -csv of the same joined rows"
/usr/bin/time -f '%e s  max RSS %M kB' sqlite3 -csv "$work/data/kunren.db" \
	"SELECT c.name, t.rid, t.last_name, t.first_name, t.email, t.department, t.position, t.state, t.sent_at, \
	 min(e.at_ms), max(e.at_ms), t.field1, t.field2, t.field3 FROM targets t JOIN campaigns c ON c.id = t.campaign_id \
	 LEFT JOIN events e ON e.target_id = t.id GROUP BY t.id" > "$work/floor-results.csv"
echo "   (results-shaped, $(wc -l < "$work/floor-results.csv") rows)"
/usr/bin/time -f '%e s  max RSS %M kB' sqlite3 -csv "$work/data/kunren.db" \
	"SELECT c.name, t.rid, t.last_name, t.first_name, t.email, t.department, t.position, e.ip, e.at_ms, e.kind, \
	 e.os, e.browser, t.field1, t.field2, t.field3 FROM events e JOIN targets t ON t.id = e.target_id \
	 JOIN campaigns c ON c.id = e.campaign_id ORDER BY t.id, e.at_ms" > "$work/floor-events.csv"
echo "   (events-shaped, $(wc -l < "$work/floor-events.csv") rows)"
