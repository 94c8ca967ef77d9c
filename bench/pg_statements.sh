#!/bin/sh
# What sending costs PostgreSQL, statement by statement: one node on a
# throw-away PostgreSQL 15 cluster with pg_stat_statements, a list of
# TARGETS imported through the API, a bulk campaign sent into the outbox
# (no relay: only the store's work), then the statements by total time with
# their calls per mail.  A diagnostic for bench/README.md's "sending on
# PostgreSQL", not a comparison.
# Usage: bench/pg_statements.sh [targets] [top]
# Environment: KUNREN_BIN (build/kunren).
set -eu
cd "$(dirname "$0")/.."
targets=${1:-2000}
top=${2:-15}
root=$(mktemp -d)
pgdir=$(mktemp -d)
trap '[ -f "$root/pid" ] && kill "$(cat "$root/pid")" 2>/dev/null; scripts/pg-test-cluster stop "$pgdir" > /dev/null 2>&1 || true; rm -rf "$root" "$pgdir"' EXIT
unset KUNREN_SMTP_URL KUNREN_DATA KUNREN_DATABASE_URL
PATH=$PATH:/usr/lib/postgresql/15/bin
key=benchkey0123456789abcdef
pgurl=$(scripts/pg-test-cluster start "$pgdir")
echo "shared_preload_libraries = 'pg_stat_statements'" >> "$pgdir/pgdata/postgresql.conf"
echo "pg_stat_statements.track = all" >> "$pgdir/pgdata/postgresql.conf"
as=
[ "$(id -u)" -ne 0 ] || as="runuser -u postgres --"
$as pg_ctl -D "$pgdir/pgdata" -w restart > /dev/null
pgq() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
pgq "$pgurl" -c "CREATE DATABASE bench" > /dev/null
url=$(echo "$pgurl" | sed 's|/postgres$|/bench|')
pgq "$url" -c "CREATE EXTENSION pg_stat_statements" > /dev/null

python3 - "$targets" "$root/list.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n")
    for i in range(n):
        f.write(f"山田{i},太郎,user{i}@example.co.jp,営業部,一般,,,,\r\n")
PY
mkdir -p "$root/data"
KUNREN_DATA=$root/data KUNREN_DATABASE_URL=$url KUNREN_CONSOLE_LISTEN=127.0.0.1:0 KUNREN_TRACKER_LISTEN=127.0.0.1:0 \
KUNREN_INITIAL_API_KEY=$key KUNREN_LOG_LEVEL=warn "${KUNREN_BIN:-build/kunren}" serve > "$root/out" 2> "$root/err" &
echo $! > "$root/pid"
for _ in $(seq 200); do grep -q '^Ready' "$root/out" 2> /dev/null && break; sleep 0.1; done
console=$(sed -n 's/^Kunren console: *//p' "$root/out")
api() { curl -sf -H "Authorization: Bearer $key" "$@" > /dev/null; }
api -d '{"name":"bench"}' "${console}api/v1/lists"
api --data-binary @"$root/list.csv" "${console}api/v1/lists/1/import"
api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios"
api -d '{"name":"bench","scenario_id":1,"list_ids":[1],"schedule":{"mode":"bulk"},"sender":{"name":"情報システム部","local":"it","domain":"example.co.jp"}}' \
	"${console}api/v1/campaigns"
pgq "$url" -c "SELECT pg_stat_statements_reset()" > /dev/null
api -X POST "${console}api/v1/campaigns/1/launch"
while [ "$(pgq "$url" -c "SELECT count(*) FROM targets WHERE state = 'sent'")" -lt "$targets" ]; do sleep 0.5; done
echo "$targets mails sent into the outbox; PostgreSQL $(pgq "$url" -c 'SHOW server_version'), $(nproc) vCPU"
echo "calls/mail  ms total  µs/call  statement"
pgq "$url" -F ' ' -c "SELECT to_char(calls::numeric / $targets, 'FM990.00'), round(total_exec_time)::int,
	round(1000 * total_exec_time / calls)::int, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
	FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE 'SELECT count(*) FROM targets WHERE state%'
	ORDER BY total_exec_time DESC LIMIT $top" | awk '{ printf "%9s %9s %8s  ", $1, $2, $3; $1 = $2 = $3 = ""; print substr($0, 4) }'
pgq "$url" -F ' ' -c "SELECT 'all statements: ' || to_char(sum(calls)::numeric / $targets, 'FM990.0') || ' calls and ' ||
	round(1000 * sum(total_exec_time) / $targets) || ' µs of execution per mail' FROM pg_stat_statements
	WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE 'SELECT count(*) FROM targets WHERE state%'"
