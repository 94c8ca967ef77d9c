#!/bin/sh
# Several nodes on one PostgreSQL database (issue 10), against one node on
# PostgreSQL and one on SQLite, in the same run.  For each set-up:
#  - sending: a list of TARGETS imported through the API, a bulk campaign
#    launched on the first node; every node with smtp_connections = SMTP
#    (default 4) sends into one Postfix smtp-sink on 127.0.0.1.  Time: from
#    just before the launch to the last "sent" event (its at_ms, read from
#    the database afterwards); the sink's count must equal TARGETS.
#  - tracking: wrk (keep-alive, a random rid of that campaign per request,
#    bench/lib.sh's Lua script) on GET /o/<rid>.gif for SECONDS with
#    CONNECTIONS connections: -t2 on the one tracker, or one wrk -t1 with
#    half the connections on each of the two nodes' trackers at once
#    (requests/s added).  Afterwards the events the database gained are
#    compared with the 200 answers.
#  - CPU: utime + stime of the nodes and of the PostgreSQL cluster (the
#    postmaster and its backends) across each part, per mail and per open.
# PostgreSQL: a throw-away cluster (scripts/pg-test-cluster) made durable
# again for the bench (fsync, full_page_writes, synchronous_commit on: the
# server's defaults; the test cluster has them off), one database per
# set-up.  PG_FAST=1 keeps the test cluster's settings (no fsync at all).
# SQLite runs as Kunren always does (WAL, synchronous=NORMAL: no fsync per
# commit, only at checkpoints).  Every process -- the nodes, PostgreSQL,
# smtp-sink, wrk -- shares the same CPUs: on a small machine two nodes
# compete with each other and with the database for them.
# Usage: bench/nodes.sh [targets] [seconds] [connections]
# Environment: SMTP (smtp_connections per node, 4), KUNREN_BIN (build/kunren,
#   copied first), PG_FAST=1.  Needs wrk, psql and the PostgreSQL 15 server
#   (postgresql-15), sqlite3, Postfix's smtp-sink (installed as in
#   bench/deliver.sh when missing), python3.
set -eu
cd "$(dirname "$0")/.."
targets=${1:-20000}
secs=${2:-10}
conns=${3:-32}
smtpc=${SMTP:-4}
root=$(mktemp -d)
pgdir=$(mktemp -d)
spid=
trap 'for p in $spid $(cat "$root"/*.pid 2> /dev/null); do kill $p 2>/dev/null || true; done; scripts/pg-test-cluster stop "$pgdir" > /dev/null 2>&1 || true; rm -rf "$root" "$pgdir"' EXIT
unset KUNREN_SMTP_URL KUNREN_SMTP_CONNECTIONS KUNREN_SMTP_PER_CONNECTION KUNREN_DELIVERY_BATCH KUNREN_DATA KUNREN_DATABASE_URL

PATH=$PATH:/usr/sbin:/usr/lib/postgresql/15/bin
if ! command -v smtp-sink > /dev/null; then
	echo "installing postfix for smtp-sink (not configured, not started)" >&2
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix > "$root/apt.log" 2>&1 ||
		{ cat "$root/apt.log" >&2; exit 1; }
fi
bin_src=${KUNREN_BIN:-build/kunren}
cp "$bin_src" "$root/kunren"
bin=$root/kunren
key=benchkey0123456789abcdef
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sunk() { tr '\r' '\n' < "$root/sink" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0; }

# ---- PostgreSQL, durable unless PG_FAST=1
pgurl=$(scripts/pg-test-cluster start "$pgdir")
pgq() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
if [ "${PG_FAST:-0}" != 1 ]; then
	pgq "$pgurl" -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET full_page_writes = on" \
		-c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" > /dev/null
fi
sleep 0.2
pgmode="fsync=$(pgq "$pgurl" -c 'SHOW fsync') synchronous_commit=$(pgq "$pgurl" -c 'SHOW synchronous_commit')"

# ---- one smtp-sink for every node
sport=$(freeport)
as_user=
[ "$(id -u)" -ne 0 ] || as_user="-u nobody" # smtp-sink refuses to keep root
# shellcheck disable=SC2086
smtp-sink $as_user -c 127.0.0.1:"$sport" 256 > "$root/sink" 2>&1 &
spid=$!
sleep 0.3
kill -0 "$spid" || { cat "$root/sink" >&2; exit 1; }

python3 - "$targets" "$root/list.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
depts = ["営業部", "総務部", "開発部", "経理部", "人事部"]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n")
    for i in range(n):
        f.write(f"山田{i},太郎,user{i}@example.co.jp,{depts[i % 5]},一般,勤続{i % 30}年,本社,社員,\r\n")
PY

# start_node DIR DATABASE_URL -> prints "console tracker" once Ready; its pid in $root/DIR.pid
start_node() {
	d=$root/$1
	mkdir -p "$d/data"
	KUNREN_DATA=$d/data KUNREN_DATABASE_URL=$2 KUNREN_CONSOLE_LISTEN=127.0.0.1:0 KUNREN_TRACKER_LISTEN=127.0.0.1:0 \
	KUNREN_INITIAL_API_KEY=$key KUNREN_LOG_LEVEL=warn KUNREN_SMTP_URL=smtp://127.0.0.1:$sport \
	KUNREN_SMTP_CONNECTIONS=$smtpc KUNREN_SMTP_PER_CONNECTION=100000 \
		"$bin" serve > "$d/out" 2> "$d/err" &
	echo $! > "$d.pid"
	for _ in $(seq 200); do grep -q '^Ready' "$d/out" 2> /dev/null && break; sleep 0.1; done
	grep -q '^Ready' "$d/out" || { cat "$d/err" >&2; exit 1; }
	echo "$(sed -n 's/^Kunren console: *//p' "$d/out") $(sed -n 's/^Kunren tracker: *//p' "$d/out")"
}
stop_node() { # SIGTERM, and wait for its exit (not our child: started in $(...))
	p=$(cat "$root/$1.pid")
	kill "$p"
	while kill -0 "$p" 2> /dev/null; do sleep 0.1; done
	rm -f "$root/$1.pid"
}
api() { curl -sf -H "Authorization: Bearer $key" "$@"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo 0; }
# CPU seconds (utime + stime) so far of the running nodes, and of our
# PostgreSQL cluster (its postmaster and every backend, ended ones not counted)
cpu_nodes() { t=0; for f in "$root"/*.pid; do t=$((t + $(ticks "$(cat "$f")"))); done; echo "$t"; }
cpu_pg() {
	pm=$(head -n 1 "$pgdir/pgdata/postmaster.pid")
	t=$(ticks "$pm")
	for p in $(pgrep -P "$pm"); do t=$((t + $(ticks "$p"))); done
	echo "$t"
}
hz=$(getconf CLK_TCK)

# wrk on GET /o/<random rid>.gif: wrk_o NAME THREADS CONNECTIONS URL -> $root/NAME.txt
cat > "$root/rids.lua" <<'LUA'
local rids = {}
for line in io.lines(os.getenv("RIDS")) do rids[#rids + 1] = line end
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
request = function()
	return wrk.format("GET", "/o/" .. rids[math.random(#rids)] .. ".gif")
end
LUA
wrk_o() { RIDS=$root/rids.txt wrk -t"$2" -c"$3" -d"${secs}s" --latency -s "$root/rids.lua" "$4" > "$root/$1.txt"; }
answered() { # wrk report -> answers 2xx/3xx
	python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(n - (int(m.group(1)) if m else 0))
PY
}
lat() { sed -n "s/^ *$2 *//p" "$root/$1.txt"; } # NAME 50%|99% -> latency

echo "machine: $(nproc) vCPU $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ { print $2 }') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kunren: $(git log -1 --format=%h 2> /dev/null || echo '?')$(git diff --quiet HEAD -- src 2> /dev/null || echo ' + uncommitted changes'), binary built $(date -u -r "$bin_src" '+%Y-%m-%d %H:%M UTC' 2> /dev/null || echo '?')"
echo "PostgreSQL $(pgq "$pgurl" -c 'SHOW server_version'), $pgmode; $targets targets, smtp_connections=$smtpc per node; wrk ${secs}s, $conns connections in all"
results=$root/results
: > "$results"

# run LABEL NODES ENGINE
run() {
	label=$1 nodes=$2 engine=$3
	url=
	if [ "$engine" = postgres ]; then
		pgq "$pgurl" -c "CREATE DATABASE $label" > /dev/null
		url=$(echo "$pgurl" | sed "s|/postgres\$|/$label|")
		q() { pgq "$url" -c "$1"; }
	else
		q() { sqlite3 -cmd '.timeout 10000' "$root/$label-a/data/kunren.db" "$1"; }
	fi
	# shellcheck disable=SC2046
	set -- $(start_node "$label-a" "$url")
	console=${1:-} tracker_a=${2:-} tracker_b=
	[ -n "$tracker_a" ] || exit 1
	if [ "$nodes" = 2 ]; then
		mkdir -p "$root/$label-b/data"
		cp "$root/$label-a/data/secret.key" "$root/$label-b/data/" # every node needs the same key
		# shellcheck disable=SC2046
		set -- $(start_node "$label-b" "$url")
		tracker_b=${2:-}
		[ -n "$tracker_b" ] || exit 1
	fi
	api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
	api --data-binary @"$root/list.csv" "${console}api/v1/lists/1/import" > /dev/null
	api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
	api -d '{"name":"bench","scenario_id":1,"list_ids":[1],"schedule":{"mode":"bulk"},"sender":{"name":"情報システム部","local":"it","domain":"example.co.jp"}}' \
		"${console}api/v1/campaigns" > /dev/null
	before=$(sunk)
	cn0=$(cpu_nodes) cp0=$(cpu_pg)
	start=$(date +%s.%N)
	api -X POST "${console}api/v1/campaigns/1/launch" > /dev/null
	deadline=$(( $(date +%s) + 1800 ))
	while [ "$(q "SELECT count(*) FROM targets WHERE campaign_id = 1 AND state = 'sent'")" -lt "$targets" ]; do
		if [ "$(date +%s)" -gt "$deadline" ] || [ "$(q "SELECT count(*) FROM targets WHERE campaign_id = 1 AND state IN ('error', 'uncertain')")" -gt 0 ]; then
			echo "$label: delivery failed or stalled" >&2
			tail -n 20 "$root/$label-a/err" >&2
			exit 1
		fi
		sleep 0.5
	done
	cn1=$(cpu_nodes) cp1=$(cpu_pg)
	last=$(q "SELECT max(at_ms) FROM events WHERE kind = 'sent'")
	sleep 0.3
	got=$(( $(sunk) - before ))
	[ "$got" -eq "$targets" ] || { echo "$label: smtp-sink got $got of $targets" >&2; exit 1; }
	by_node=
	[ "$nodes" = 1 ] || by_node=$(q "SELECT count(*) FROM events e JOIN targets t ON t.id = e.target_id WHERE e.kind = 'sent' GROUP BY t.node ORDER BY 1 DESC" | tr '\n' ' ')
	send_s=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / 1000 - float(sys.argv[2]):.2f}')" "$last" "$start")
	q "SELECT rid FROM targets WHERE campaign_id = 1" > "$root/rids.txt"
	sleep 1 # every tracker's poll has the campaign's rids

	ev0=$(q "SELECT count(*) FROM events WHERE kind = 'opened'")
	cn2=$(cpu_nodes) cp2=$(cpu_pg)
	if [ "$nodes" = 1 ]; then
		wrk_o "$label-o" 2 "$conns" "${tracker_a%/}"
		ok=$(answered "$root/$label-o.txt")
		lat50=$(lat "$label-o" 50%) lat99=$(lat "$label-o" 99%)
	else
		wrk_o "$label-oa" 1 $((conns / 2)) "${tracker_a%/}" &
		w1=$!
		wrk_o "$label-ob" 1 $((conns / 2)) "${tracker_b%/}"
		wait $w1
		ok=$(( $(answered "$root/$label-oa.txt") + $(answered "$root/$label-ob.txt") ))
		lat50="$(lat "$label-oa" 50%)/$(lat "$label-ob" 50%)" lat99="$(lat "$label-oa" 99%)/$(lat "$label-ob" 99%)"
	fi
	cn3=$(cpu_nodes) cp3=$(cpu_pg)
	ev1=$(q "SELECT count(*) FROM events WHERE kind = 'opened'")
	[ "$engine" = postgres ] || cp0=0 cp1=0 cp2=0 cp3=0 # SQLite: inside the node
	cpu="$(( (cn1 - cn0) * 1000 / hz )) $(( (cp1 - cp0) * 1000 / hz )) $(( (cn3 - cn2) * 1000 / hz )) $(( (cp3 - cp2) * 1000 / hz ))"
	stop_node "$label-a"
	[ "$nodes" = 1 ] || stop_node "$label-b"
	python3 - "$label" "$nodes" "$engine" "$targets" "$send_s" "$ok" "$secs" "$((ev1 - ev0))" "$lat50" "$lat99" "$by_node" $cpu <<'PY' | tee -a "$results"
import sys
label, nodes, engine, n, send_s, ok, secs, ev, l50, l99, by_node = sys.argv[1:12]
sk, sp, tk, tp = (int(x) for x in sys.argv[12:16])  # CPU ms: send kunren, send PostgreSQL, opens ...
n, send_s, ok, secs, ev = int(n), float(send_s), int(ok), int(secs), int(ev)
split = f" (per node {by_node.strip().replace(' ', ' + ')})" if by_node.strip() else ""
print(f"{label:8} {nodes} node(s) {engine:8}: send {n} in {send_s:6.2f} s = {n / send_s:5.0f} mails/s{split}; "
      f"opens {ok / secs:7.0f}/s (p50 {l50}, p99 {l99}), {ok} answered 200, {ev} events written")
print(f"{'':8} CPU per mail: kunren {sk * 1000 / n:.0f} µs + PostgreSQL {sp * 1000 / n:.0f} µs; "
      f"per open: kunren {tk * 1000 / max(ok, 1):.0f} µs + PostgreSQL {tp * 1000 / max(ok, 1):.0f} µs")
PY
}

run sqlite1 1 sqlite
run pg1 1 postgres
run pg2 2 postgres
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
