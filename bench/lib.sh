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

# wrk with a random rid of $work/rids.txt per request, keep-alive:
# wrk_rids NAME BASE_URL PREFIX SUFFIX SECONDS CONNECTIONS -> wrk's report in $work/NAME.txt
wrk_rids() {
	[ -f "$work/rids.lua" ] || cat > "$work/rids.lua" <<'LUA'
local rids = {}
for line in io.lines(os.getenv("RIDS")) do rids[#rids + 1] = line end
local prefix, suffix = os.getenv("PREFIX"), os.getenv("SUFFIX")
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
request = function()
	return wrk.format("GET", prefix .. rids[math.random(#rids)] .. suffix)
end
LUA
	RIDS=$work/rids.txt PREFIX=$3 SUFFIX=$4 wrk -t2 -c"$6" -d"$5s" --latency -s "$work/rids.lua" "$2" > "$work/$1.txt"
}
rps() { sed -n 's/^Requests\/sec: *//p' "$work/$1.txt"; } # NAME -> requests/s of $work/NAME.txt
