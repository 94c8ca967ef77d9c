#!/bin/sh
# Delivery of a 100,000-target campaign (issue 6): kunren sends one
# personalised mail per target (merge fields, tracked links, open beacon;
# "sending" committed before and "sent" + its event after each mail) into
# Postfix's smtp-sink on 127.0.0.1.  The floor is Postfix's own smtp-source
# sending the same number of messages of the same size (one kunren mail, byte
# for byte, with -F) over the same number of parallel sessions into a second
# smtp-sink, in the same run.  Neither side pipelines (libcurl does not,
# smtp-source cannot); both keep their connections open (smtp-source -d,
# kunren smtp_per_connection = PER, default 100000).
#
# Time: from just before POST /campaigns/{id}/launch (which plans every
# target) to the last "sent" event (its at_ms, read from the database
# afterwards, so the polling interval does not count).  Completion is polled
# once a second in the database, read-only; GET /campaigns/{id} is asked once
# at the end and must say delivery.sent = targets.  (Polling that API every
# second while sending raises the server's peak by ~40 MiB: the counts it
# computes, kept by the HTTP threads' allocators.  That is the dashboard's
# memory, not delivery's, so it is kept out of the figure.)
# Memory: kunren is restarted after the list import and its high-water mark
# reset (/proc/PID/clear_refs) just before the launch, so VmHWM is the peak
# of launching and sending only; the same at SMALL targets (default 10,000)
# shows what grows with the number of targets.
#
# Usage: bench/deliver.sh [targets] ["connections ..."]
#   e.g. bench/deliver.sh 100000 "1 4 8"
# Environment: SMALL (default 10000; 0 skips), BATCH (delivery_batch, 20),
#   PER (smtp_per_connection, 100000), KUNREN_BIN (build/kunren, copied first
#   so a rebuild during the bench does not change it), PROFILE=1 (one more
#   run at the last connection count, not part of the figures: perf record
#   with DWARF call graphs for 15 s, then perf trace -s for 5 s; needs perf).
# Needs python3, and Postfix's smtp-sink and smtp-source, installed here when
# missing (preseeded "No configuration"; Postfix's daemon is never started).
set -eu
cd "$(dirname "$0")/.."
targets=${1:-100000}
conns_list=${2:-"1 4 8"}
small=${SMALL:-10000}
batch=${BATCH:-20}
per=${PER:-100000}
root=$(mktemp -d)
kpid=
spid_k=
spid_s=
prof_pid=
unset KUNREN_SMTP_URL KUNREN_SMTP_CONNECTIONS KUNREN_SMTP_PER_CONNECTION KUNREN_DELIVERY_BATCH KUNREN_DATA
trap 'kill $kpid $spid_k $spid_s $prof_pid 2>/dev/null || true; rm -rf "$root"' EXIT

PATH=$PATH:/usr/sbin
if ! command -v smtp-sink > /dev/null || ! command -v smtp-source > /dev/null; then
	echo "installing postfix for smtp-sink and smtp-source (not configured, not started)" >&2
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix > "$root/apt.log" 2>&1 ||
		{ cat "$root/apt.log" >&2; exit 1; }
fi
bin_src=${KUNREN_BIN:-build/kunren}
cp "$bin_src" "$root/kunren"
KUNREN_BIN=$root/kunren

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$kpid/status"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$kpid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$kpid/stat"; } # utime + stime
# messages an smtp-sink has received (the last value of its -c counter)
sunk() { tr '\r' '\n' < "$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0; }
# "sent failed" of campaign 1, read-only (a WAL reader never blocks kunren's writers)
db_progress() {
	python3 - "$work/data/kunren.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
sent, bad = c.execute("SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state IN "
                      "('error', 'uncertain') OR (state = 'pending' AND attempts > 0)) FROM targets "
                      "WHERE campaign_id = 1").fetchone()
print(sent, bad)
PY
}

# CSV in the import template, as bench/import.sh writes it
make_csv() { # rows path
	python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
depts = ["営業部", "総務部", "開発部", "経理部", "人事部"]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n")
    for i in range(n):
        f.write(f"山田{i},太郎,user{i}@example.co.jp,{depts[i % 5]},一般,勤続{i % 30}年,本社,社員,\r\n")
PY
}

# kunren on $work/data (lib.sh); the environment carries the delivery options
start_kunren() { . bench/lib.sh; }
stop_kunren() { kill "$kpid"; wait "$kpid" 2> /dev/null || true; kpid=; }

# A list from the CSV, the gallery scenario, a bulk campaign: left as a
# draft in the data folder of a stopped server.
prepare() { # csv
	start_kunren
	api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
	api --data-binary @"$1" "${console}api/v1/lists/1/import" > /dev/null
	api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
	api -d '{"name":"配信ベンチ","scenario_id":1,"list_ids":[1],"schedule":{"mode":"bulk"},"sender":{"name":"情報システム部","local":"it","domain":"example.co.jp"}}' \
		"${console}api/v1/campaigns" > /dev/null
	stop_kunren
}

# Launches campaign 1 of a freshly started kunren and waits for every mail.
# Prints: seconds rate peak_kib rss_before_kib peak_at_launch_answer_kib
# cpu_seconds api_sent.
launch_and_wait() { # n
	n=$1
	base=$(rss)
	echo 5 > "/proc/$kpid/clear_refs"
	cpu0=$(cpu_ticks)
	start=$(date +%s.%N)
	api -X POST "${console}api/v1/campaigns/1/launch" > /dev/null
	peak_launch=$(hwm)
	deadline=$(( $(date +%s) + 1800 ))
	while :; do
		sleep 1
		# shellcheck disable=SC2046
		set -- $(db_progress)
		[ "$1" -ge "$n" ] && break
		if [ "$2" -gt 0 ] || [ "$(date +%s)" -gt "$deadline" ]; then
			echo "delivery failed or stalled: sent $1 of $n, $2 failed, uncertain or retrying" >&2
			tail -n 20 "$work/err" >&2
			exit 1
		fi
	done
	peak=$(hwm)
	cpu1=$(cpu_ticks)
	api_sent=$(api "${console}api/v1/campaigns/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivery"]["sent"])')
	python3 - "$work/data/kunren.db" "$start" "$n" "$peak" "$base" "$peak_launch" \
		"$(( cpu1 - cpu0 ))" "$(getconf CLK_TCK)" "$api_sent" <<'PY'
import sqlite3, sys
db, start, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
peak, base, peak_launch, ticks, hz, api_sent = sys.argv[4:]
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
secs = c.execute("SELECT max(at_ms) FROM events WHERE kind = 'sent'").fetchone()[0] / 1000 - start
print(f"{secs:.2f} {n / secs:.0f} {peak} {base} {peak_launch} {int(ticks) / int(hz):.1f} {api_sent}")
PY
}

# ---- one kunren mail: a one-target campaign written to the outbox (no smtp_url)
work=$root/sample
mkdir -p "$work"
make_csv 1 "$work/list.csv"
prepare "$work/list.csv"
start_kunren
api -X POST "${console}api/v1/campaigns/1/launch" > /dev/null
eml=
for _ in $(seq 100); do
	eml=$(find "$work/data/outbox" -name '*.eml' 2> /dev/null | head -n 1)
	[ -n "$eml" ] && break
	sleep 0.1
done
[ -n "$eml" ] || { echo "the sample mail did not reach the outbox" >&2; tail "$work/err" >&2; exit 1; }
stop_kunren
sed 's/\r$//' "$eml" > "$root/mail.txt" # smtp-source -F ends every line with CRLF itself
size=$(wc -c < "$eml")

# ---- two sinks: one for kunren, one for smtp-source
as_user=
[ "$(id -u)" -ne 0 ] || as_user="-u nobody" # smtp-sink refuses to keep root
kport=$(freeport)
sport=$(freeport)
# shellcheck disable=SC2086
smtp-sink $as_user -c 127.0.0.1:"$kport" 256 > "$root/sink-k" 2>&1 &
spid_k=$!
# shellcheck disable=SC2086
smtp-sink $as_user -c 127.0.0.1:"$sport" 256 > "$root/sink-s" 2>&1 &
spid_s=$!
sleep 0.3
if ! kill -0 "$spid_k" || ! kill -0 "$spid_s"; then
	cat "$root/sink-k" "$root/sink-s" >&2
	exit 1
fi

echo "machine: $(nproc) vCPU $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ { print $2 }') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "kunren: $(git log -1 --format=%h 2> /dev/null || echo '?')$(git diff --quiet HEAD -- src 2> /dev/null || echo ' + uncommitted changes'), binary built $(date -u -r "$bin_src" '+%Y-%m-%d %H:%M UTC' 2> /dev/null || echo '?')"
echo "mail: $size bytes (one kunren mail); $targets targets; delivery_batch=$batch smtp_per_connection=$per"
make_csv "$targets" "$root/big.csv"
[ "$small" -eq 0 ] || make_csv "$small" "$root/small.csv"

export KUNREN_SMTP_URL="smtp://127.0.0.1:$kport" KUNREN_DELIVERY_BATCH="$batch" KUNREN_SMTP_PER_CONNECTION="$per"
results=$root/results
: > "$results"
last_conns=
for c in $conns_list; do last_conns=$c; done

run() { # label rows csv connections
	work=$root/$1
	mkdir -p "$work"
	export KUNREN_SMTP_CONNECTIONS="$4"
	prepare "$3"
	before=$(sunk "$root/sink-k")
	start_kunren
	if [ "$1" = profile ]; then
		(
			sleep 10
			perf record -F 499 --call-graph dwarf -o "$root/perf.data" -p "$kpid" -- sleep 15
			timeout -s INT 5 perf trace -s -e clock_nanosleep,fdatasync,poll,futex -p "$kpid" -o "$root/trace.txt" || true
		) > "$root/perf.log" 2>&1 &
		prof_pid=$!
	fi
	res=$(launch_and_wait "$2")
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" "$4" $res
	if [ -n "$prof_pid" ]; then
		wait "$prof_pid" || true
		prof_pid=
	fi
	stop_kunren
	sleep 0.2
	got=$(( $(sunk "$root/sink-k") - before ))
	printf 'kunren      %7d targets %2d connections: %7.2f s %6d mails/s  CPU %5.1f s  peak %3d MiB (before launch %2d, launch answered %2d)  API sent %d, sink got %d\n' \
		"$2" "$4" "$5" "$6" "${10}" $(( $7 / 1024 )) $(( $8 / 1024 )) $(( $9 / 1024 )) "${11}" "$got"
	if [ "${11}" -ne "$2" ] || [ "$got" -ne "$2" ]; then
		echo "the counts disagree: $2 targets, the API says ${11} sent, smtp-sink got $got" >&2
		exit 1
	fi
	echo "$1 $2 $4 $5 $6 $7 $8 $9 ${10}" >> "$results"
}
floor() { # sessions
	before=$(sunk "$root/sink-s")
	t0=$(date +%s.%N)
	smtp-source -s "$1" -m "$targets" -d -F "$root/mail.txt" -M bench.example -f it@example.co.jp \
		-t user0@example.co.jp 127.0.0.1:"$sport"
	t1=$(date +%s.%N)
	sleep 0.2
	got=$(( $(sunk "$root/sink-s") - before ))
	secs=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$t0" "$t1")
	printf 'smtp-source %7d messages %2d sessions:   %7.2f s %6d mails/s  sink got %d\n' \
		"$targets" "$1" "$secs" "$(python3 -c 'import sys; print(round(int(sys.argv[1]) / float(sys.argv[2])))' "$targets" "$secs")" "$got"
	[ "$got" -eq "$targets" ] || { echo "smtp-sink got $got of $targets" >&2; exit 1; }
	echo "floor $targets $1 $secs" >> "$results"
}

for c in $conns_list; do
	floor "$c"
	run "big-$c" "$targets" "$root/big.csv" "$c"
done
[ "$small" -eq 0 ] || run "small-$last_conns" "$small" "$root/small.csv" "$last_conns"

echo "== summary (mails per second)"
python3 - "$results" "$targets" "$last_conns" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
n, last = int(sys.argv[2]), sys.argv[3]
floor = {int(r[2]): n / float(r[3]) for r in rows if r[0] == "floor"}
for r in rows:
    if r[0].startswith("big-"):
        c, rate = int(r[2]), n / float(r[3])
        print(f"{c} connection(s): kunren {rate:.0f}/s, smtp-source {floor[c]:.0f}/s, ratio {rate / floor[c]:.2f} "
              f"({'reaches' if rate >= 0.7 * floor[c] else 'below'} 70%); kunren CPU {float(r[8]) * 1000 / n:.2f} ms per mail")
for r in rows:
    if r[0] in (f"small-{last}", f"big-{last}"):
        print(f"peak memory at {int(r[1]):,} targets, {r[2]} connection(s): {int(r[5]) / 1024:.0f} MiB "
              f"(before launch {int(r[6]) / 1024:.0f} MiB, when the launch request answered {int(r[7]) / 1024:.0f} MiB)")
PY

[ "${PROFILE:-0}" = 1 ] || exit 0
echo "== profile run, $last_conns connection(s) (perf attached: not a figure)"
run profile "$targets" "$root/big.csv" "$last_conns"
echo "== perf record, 15 s from 10 s after the launch: % of all samples under each function"
perf report -i "$root/perf.data" --children --sort symbol --stdio -g none 2> /dev/null |
	grep -E '\] (dispatcher_main|worker_main|send_one|store_[a-z_]*|record_outcome|target_finish|usage_count|deliver_build_mail|mail_build|content_[a-z_]*|mail_sender_send|curl_easy_perform|sqlite3_prepare_v2|sqlite3WalCheckpoint|api_[a-z_]*) ' |
	awk '{ printf "  %7s  %s\n", $1, $4 }' | head -n 25
echo "== the same by line of src/store/sqlite.c (the statement run; lines as built)"
perf report -i "$root/perf.data" --children --sort sym,srcline --stdio -g none 2> /dev/null |
	grep -E '\] (store_[a-z_]*|target_finish|usage_count|licence_[a-z_]*) .*sqlite\.c:[0-9]+ *$' |
	awk '{ printf "  %7s  %-28s %s\n", $1, $4, $NF }' | head -n 12
echo "== self time, top symbols"
perf report -i "$root/perf.data" --no-children --sort symbol --stdio -g none 2> /dev/null |
	grep -E '^ +[0-9]' | head -n 12 | awk '{ printf "  %7s  %s\n", $1, $3 }'
echo "== perf trace -s, 5 s: where each SMTP worker's wall time goes (threads that poll a socket)"
awk '
	/^ [^ ].* \([0-9]+\), [0-9]+ events/ { tid = $0; sub(/.*\(/, "", tid); sub(/\).*/, "", tid); next }
	$1 ~ /^(clock_nanosleep|fdatasync|poll|futex)$/ && tid != "" { ms[tid, $1] = $4; if ($1 == "poll") w[tid] = 1 }
	END {
		for (t in w) {
			n++
			sleep += ms[t, "clock_nanosleep"]; sync += ms[t, "fdatasync"]; poll += ms[t, "poll"]; fx += ms[t, "futex"]
		}
		if (!n) { print "  (no worker threads seen)"; exit }
		printf "  %d workers, per worker of 5000 ms: %.0f ms (%.0f%%) clock_nanosleep (SQLite busy handler: waiting for the write lock), " \
			"%.0f ms (%.0f%%) fdatasync (WAL checkpoints), %.0f ms (%.0f%%) poll (waiting for the relay), %.0f ms (%.0f%%) futex\n", n,
			sleep / n, sleep / n / 50, sync / n, sync / n / 50, poll / n, poll / n / 50, fx / n, fx / n / 50
	}' "$root/trace.txt"
