# Shared by the benchmarks: start a kunren on a scratch folder and talk to it.
# Sourced after `work` (a scratch folder) is set; defines kpid, console,
# tracker and api().  The caller's EXIT trap kills $kpid.
bin=${KUNREN_BIN:-build/kunren}
KUNREN_DATA=$work/data KUNREN_CONSOLE_LISTEN=127.0.0.1:0 KUNREN_TRACKER_LISTEN=127.0.0.1:0 \
KUNREN_INITIAL_API_KEY=benchkey0123456789abcdef KUNREN_LOG_LEVEL=warn \
	"$bin" serve > "$work/out" 2> "$work/err" &
kpid=$!
for _ in $(seq 100); do grep -q '^Ready' "$work/out" 2>/dev/null && break; sleep 0.1; done
console=$(sed -n 's/^Kunren console: *//p' "$work/out")
tracker=$(sed -n 's/^Kunren tracker: *//p' "$work/out")
[ -n "$console" ] || { cat "$work/err" >&2; exit 1; }
api() { curl -sf -H 'Authorization: Bearer benchkey0123456789abcdef' "$@"; }
