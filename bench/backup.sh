#!/bin/sh
# Online backup and restore (issue 11): `kunren backup` of a campaign of
# 100,000 targets and 500,000 events while the server runs, beside
# `sqlite3 .backup` of the same database in the same run (the reference:
# SQLite's own online backup, one step, no checks); then the tracker's
# opens/s alone, during a loop of `kunren backup`, and during a loop of
# `sqlite3 .backup` (what a backup costs the people being tracked); then
# `kunren restore` of the backup into a fresh folder.
# Needs wrk, sqlite3, curl.  Usage: bench/backup.sh [targets] [events_per_target] [seconds]
set -eu
cd "$(dirname "$0")/.."
targets=${1:-100000}
per=${2:-5}
secs=${3:-10}
work=$(mktemp -d)
bgpid=
trap 'kill $kpid $bgpid 2>/dev/null || true; rm -rf "$work"' EXIT

. bench/lib.sh
db=$work/data/kunren.db
api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
printf 'メールアドレス\r\nseed@example.co.jp\r\n' | api --data-binary @- "${console}api/v1/lists/1/import" > /dev/null
api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
api -d '{"name":"大規模訓練","scenario_id":1,"list_ids":[1],"sender":{"name":"b","local":"it","domain":"example.co.jp"}}' \
	"${console}api/v1/campaigns" > /dev/null
python3 bench/seed_campaign.py "$db" "$targets" "$per"
sqlite3 -cmd '.timeout 10000' "$db" "UPDATE campaigns SET target_count = $targets WHERE id = 1"
sqlite3 -cmd '.timeout 10000' "$db" "SELECT rid FROM targets WHERE campaign_id = 1 ORDER BY random() LIMIT 1000" \
	> "$work/rids.txt"
sleep 1 # the tracker's rid poll takes the campaign in
echo "database: $(du -k "$db" | cut -f1) KiB"

kb() { KUNREN_DATA=$work/data "$bin" backup "$1" > /dev/null; }
ref() { sqlite3 -cmd '.timeout 10000' "$db" ".backup '$1'"; }
secs_of() { # command... -> wall seconds
	t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
	python3 -c "print('%.2f' % ($t1 - $t0))"
}

echo "== one backup, server idle (3 runs each, seconds)"
printf 'kunren backup (copy, integrity_check, counts, sha256, fsync):'
for i in 1 2 3; do printf ' %s' "$(secs_of kb "$work/bk$i")"; done; echo
printf 'sqlite3 .backup (reference):                               '
for i in 1 2 3; do printf ' %s' "$(secs_of ref "$work/ref$i.db")"; done; echo
checked() { ref "$1" && sqlite3 "$1" 'PRAGMA integrity_check' > /dev/null && sha256sum "$1" > /dev/null; }
printf 'sqlite3 .backup + integrity_check + sha256sum (reference):  '
for i in 4 5 6; do printf ' %s' "$(secs_of checked "$work/ref$i.db")"; done; echo
rm -rf "$work"/bk2 "$work"/bk3 "$work"/ref*.db

echo "== tracker opens/s: alone, during kunren backup loops, during sqlite3 .backup loops (${secs}s each)"
loop() { # command -> runs it over and over into $work/loop until killed
	while :; do rm -rf "$work/loop" "$work/loop.db"; "$@" > /dev/null 2>&1 || true; done
}
wrk_rids alone "${tracker%/}" /o/ .gif "$secs" 32
loop kb "$work/loop" & bgpid=$!
wrk_rids kbackup "${tracker%/}" /o/ .gif "$secs" 32
kill $bgpid; wait $bgpid 2>/dev/null || true
loop ref "$work/loop.db" & bgpid=$!
wrk_rids sqlite "${tracker%/}" /o/ .gif "$secs" 32
kill $bgpid; wait $bgpid 2>/dev/null || true; bgpid=
for n in alone kbackup sqlite; do
	printf '%-8s %10s req/s  p99 %s\n' "$n" "$(rps $n)" "$(awk '$1 == "99%" { print $2 }' "$work/$n.txt")"
done
python3 -c "print('ratio during kunren backup: %.2f   during sqlite3 .backup: %.2f' % ($(rps kbackup) / $(rps alone), $(rps sqlite) / $(rps alone)))"

echo "== restore into a fresh folder"
mkdir -p "$work/fresh"
printf 'kunren restore (sha256, integrity_check, counts, rename): %s s\n' \
	"$(secs_of sh -c "KUNREN_DATA='$work/fresh' '$bin' restore '$work/bk1' > /dev/null")"
printf 'events in the restored database: %s\n' "$(sqlite3 "$work/fresh/kunren.db" 'SELECT count(*) FROM events')"
