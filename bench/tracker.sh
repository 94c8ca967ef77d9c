#!/bin/sh
# The tracker under load (issue 7).  kunren's GET /o/<rid>.gif and GET /c/<rid>
# with random valid rids of a 1,000-target campaign over keep-alive (every
# request an event on disk before its answer: suspend + group commit),
# against nginx serving a 43-byte GIF for any /o/<x>.gif in the same run;
# then a 10,000-request burst counted exactly; then the memory of 1,000,000
# rids in memory.  Prints kunren's CPU time per answer by thread, and
# nginx's.  Needs wrk, nginx, curl, sqlite3 (and perf for PROFILE).
# TLS=1: both servers speak TLS (a fresh self-signed P-256 certificate; wrk
# keeps its connections, so this measures TLS records, not handshakes).
# Usage: [PROFILE=dir] [TLS=1] bench/tracker.sh [seconds] [connections] [rids_for_memory]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
million=${3:-1000000}
work=$(mktemp -d)
trap 'kill $kpid $npid 2>/dev/null || true; rm -rf "$work"' EXIT
npid=
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

tls=${TLS:-0}
scheme=http
if [ "$tls" = 1 ]; then
	scheme=https
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
		-keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
	export KUNREN_TRACKER_TLS_CERT=$work/cert.pem KUNREN_TRACKER_TLS_KEY=$work/key.pem
fi
. bench/lib.sh
curlk() { curl -k "$@"; }
db=$work/data/kunren.db
q() { sqlite3 -cmd '.timeout 10000' "$db" "$@"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$kpid/status"; }
events() { q "SELECT count(*) FROM events WHERE kind IN ('opened', 'clicked')"; }

api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
{ printf 'メールアドレス\r\n'; for i in $(seq 1000); do printf 'user%d@example.co.jp\r\n' "$i"; done; } > "$work/list.csv"
api --data-binary @"$work/list.csv" "${console}api/v1/lists/1/import" > /dev/null
api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
api -d '{"name":"bench","scenario_id":1,"list_ids":[1],"sender":{"name":"b","local":"it","domain":"example.co.jp"}}' \
	"${console}api/v1/campaigns" > /dev/null
api -X POST "${console}api/v1/campaigns/1/launch" > /dev/null
for _ in $(seq 300); do [ "$(q "SELECT state FROM campaigns WHERE id = 1")" = running ] && break; sleep 0.1; done
q "SELECT rid FROM targets WHERE campaign_id = 1" > "$work/rids.txt"
echo "campaign: $(wc -l < "$work/rids.txt") targets, running"

run_wrk() { # name url-prefix suffix -> prints wrk's report; $work/<name>.txt
	wrk_rids "$1" "${tracker%/}" "$2" "$3" "$secs" "$conns"
	grep -E "Latency|50%|99%|requests in|Non-2xx|Socket errors|Requests/sec" "$work/$1.txt"
}
answered() { # wrk report -> requests answered 2xx/3xx
	python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(n - (int(m.group(1)) if m else 0))
PY
}

# CPU time (utime + stime, clock ticks) of a process, or of each thread of
# kunren: the cost per answer is steadier than requests/s on a shared machine
ticks() { awk '{ print $14 + $15 }' "$1/stat"; }
threads() { for t in /proc/$kpid/task/*; do echo "$(basename "$t") $(ticks "$t") $(tr ' ' _ < "$t/comm")"; done; }
per_answer() { # before after answers -> CPU µs per answer of each busy thread, and in all
	join "$1" "$2" | awk -v n="$3" -v hz="$(getconf CLK_TCK)" '{ d = $4 - $2; all += d }
		d >= 5 { printf "  %s (%s): %.1f µs\n", $3, $1, d * 1e6 / hz / n }
		END { printf "kunren CPU per answer: %.1f µs\n", all * 1e6 / hz / n }'
}

echo "== kunren ($scheme) GET /o/<random rid>.gif, $conns connections, ${secs}s"
threads | sort > "$work/t0"; b=$(events); run_wrk open /o/ .gif; a=$(events); threads | sort > "$work/t1"
echo "200 answers: $(answered "$work/open.txt")  events written: $((a - b))"
per_answer "$work/t0" "$work/t1" "$(answered "$work/open.txt")"
echo "== kunren GET /c/<random rid> (landing page), $conns connections, ${secs}s"
b=$(events); run_wrk click /c/ ""; a=$(events)
echo "200 answers: $(answered "$work/click.txt")  events written: $((a - b))"

# nginx: any /o/<x>.gif is the same 43-byte file
nport=$(freeport)
mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work"
curlk -sf "${tracker}o/$(head -1 "$work/rids.txt").gif" -o "$work/www/pixel.gif"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
	server { listen 127.0.0.1:$nport$([ "$tls" = 1 ] && echo " ssl"); root $work/www; add_header Cache-Control no-store;
		$([ "$tls" = 1 ] && echo "ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.2 TLSv1.3;")
		location /o/ { default_type image/gif; try_files /pixel.gif =404; } }
}
CONF
chmod -R a+rX "$work/www"
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
npid=$!
sleep 0.5
echo "== nginx static GIF ($scheme), same random paths, $conns connections, ${secs}s"
wrk_rids nginx "$scheme://127.0.0.1:$nport" /o/ .gif "$secs" "$conns"
grep -E "Latency|50%|99%|requests in|Non-2xx|Requests/sec" "$work/nginx.txt"
nt=0
for p in $npid $(pgrep -P $npid); do nt=$((nt + $(ticks "/proc/$p"))); done
python3 -c "print('nginx CPU per answer (master + workers): %.1f µs' % ($nt * 1e6 / $(getconf CLK_TCK) / $(answered "$work/nginx.txt")))"
kill $npid; npid=
k=$(rps open)
c=$(rps click)
n=$(rps nginx)
python3 -c "print('ratio open/nginx: %.3f   click/nginx: %.3f' % ($k / $n, $c / $n))"

# PROFILE=dir: one more open run with perf attached to the server (call
# graphs), its report in dir/open.perf.txt; not counted in the figures above
if [ -n "${PROFILE:-}" ]; then
	mkdir -p "$PROFILE"
	perf record -q -g -p "$kpid" -o "$PROFILE/open.perf.data" -- sleep "$secs" 2> /dev/null &
	ppid=$!
	sleep 0.2
	echo "== profile: kunren GET /o/<random rid>.gif under perf record -g"
	run_wrk open_perf /o/ .gif
	wait $ppid || true
	perf report -i "$PROFILE/open.perf.data" --stdio --no-children --percent-limit 0.5 \
		> "$PROFILE/open.perf.txt" 2> /dev/null || true
	perf report -i "$PROFILE/open.perf.data" --stdio --children --sort sym --percent-limit 2 -g none \
		> "$PROFILE/open.children.txt" 2> /dev/null || true
	perf report -i "$PROFILE/open.perf.data" --stdio --no-children --sort pid,dso -g none \
		> "$PROFILE/open.threads.txt" 2> /dev/null || true
	echo "profile: $PROFILE/open.perf.txt, open.children.txt, open.threads.txt (per thread)"
fi

# A burst: 10,000 opens at once (curl, 200 in parallel), every answer counted
echo "== burst: 10,000 opens, 200 in parallel"
python3 - "$work/rids.txt" "${tracker}" > "$work/burst.cfg" <<'PY'
import random, sys
rids = open(sys.argv[1]).read().split()
for i in range(10000):
    print(f'url = "{sys.argv[2]}o/{random.choice(rids)}.gif"\noutput = "/dev/null"')
PY
b=$(events)
t0=$(date +%s.%N)
curlk -s --parallel --parallel-immediate --parallel-max 200 -w '%{http_code}\n' -K "$work/burst.cfg" > "$work/burst.codes"
t1=$(date +%s.%N)
a=$(events)
ok=$(grep -c '^200$' "$work/burst.codes" || true)
python3 -c "print('burst: %d requests, %s answered 200 in %.2f s; events written: %d' % ($(wc -l < "$work/burst.codes"), '$ok', $t1 - $t0, $a - $b))"

# rids_for_memory 0: no memory part (the throughput runs only)
[ "$million" -gt 0 ] || exit 0

# Memory: RSS with the 1,000 rids, then with $million more of a running campaign
# (seeded into SQLite; the tracker's poll takes them in)
base=$(rss)
python3 - "$db" "$million" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, timeout=30)
with c:
    cur = c.execute("INSERT INTO campaigns (tenant_id, name, scenario_id, state, sender_name, sender_local, "
                    "sender_domain, created_at, launched_at) SELECT tenant_id, 'million', scenario_id, 'draft', "
                    "sender_name, sender_local, sender_domain, created_at, launched_at FROM campaigns WHERE id = 1")
    cid = cur.lastrowid
    c.executemany("INSERT INTO targets (campaign_id, rid, email, state, sent_at) VALUES (?, ?, ?, 'sent', 1)",
                  ((cid, f"M{i:019d}", f"m{i}@example.co.jp") for i in range(n)))
    c.execute("UPDATE campaigns SET state = 'running', target_count = ? WHERE id = ?", (n, cid))
PY
t0=$(date +%s.%N)
prev=0
for _ in $(seq 600); do
	cur=$(rss)
	[ "$cur" -gt $((base + 10000)) ] && [ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 0.5
done
t1=$(date +%s.%N)
# the last of them answers from memory
curlk -sf "${tracker}o/M$(printf '%019d' $((million - 1))).gif" -o /dev/null
python3 -c "print('rids in memory: +%d -> RSS %d KiB -> %d KiB (+%.1f MiB, %.0f bytes per rid), settled within %.1f s' % ($million, $base, $(rss), ($(rss) - $base) / 1024, ($(rss) - $base) * 1024 / $million, $t1 - $t0))"
