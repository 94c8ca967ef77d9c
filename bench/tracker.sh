#!/bin/sh
# Tracker open-beacon throughput: kunren's GET /o/<rid>.gif (each request is
# an event written to disk before the answer: group commit) against nginx
# serving the same 43-byte GIF from a file, measured with wrk in the same run.
# Usage: bench/tracker.sh [seconds] [connections]   (needs wrk and nginx:
#   apt-get install wrk nginx-light)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
work=$(mktemp -d)
trap 'kill $kpid $npid 2>/dev/null || true; rm -rf "$work"' EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

. bench/lib.sh

api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
{ printf 'メールアドレス\r\n'; for i in $(seq 100); do printf 'user%d@example.co.jp\r\n' "$i"; done; } > "$work/list.csv"
api --data-binary @"$work/list.csv" "${console}api/v1/lists/1/import" > /dev/null
api -d '{"gallery_id":"ja-password-expiry"}' "${console}api/v1/scenarios" > /dev/null
api -d '{"name":"bench","scenario_id":1,"list_ids":[1],"sender":{"name":"b","local":"it","domain":"example.co.jp"}}' \
	"${console}api/v1/campaigns" > /dev/null
api -X POST "${console}api/v1/campaigns/1/launch" > /dev/null
rid=$(api "${console}api/v1/campaigns/1/targets?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["rid"])')

# nginx: the same path shape, a file per request
nport=$(freeport)
mkdir -p "$work/www/o" "$work/nginx"
chmod 755 "$work"
curl -sf "${tracker}o/$rid.gif" -o "$work/www/o/$rid.gif"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
	server { listen 127.0.0.1:$nport; root $work/www; add_header Cache-Control no-store; }
}
CONF
chmod -R a+rX "$work/www"
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
npid=$!
sleep 0.5

before=$(api "${console}api/v1/campaigns/1/targets?limit=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"][0]["events"]))')
echo "== kunren tracker ${tracker}o/<rid>.gif (durable event per request), $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" "${tracker}o/$rid.gif" | tee "$work/k.txt"
after=$(api "${console}api/v1/campaigns/1/targets?limit=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"][0]["events"]))')
echo "events recorded during the run: $((after - before))"
echo "== nginx static file, same path, $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$nport/o/$rid.gif" | tee "$work/n.txt"
k=$(sed -n 's/^Requests\/sec: *//p' "$work/k.txt")
n=$(sed -n 's/^Requests\/sec: *//p' "$work/n.txt")
python3 -c "print('ratio kunren/nginx: %.3f' % ($k / $n))"
