#!/bin/sh
# List import of a 100,000-row CSV (issue 3): kunren's POST /lists/{id}/import
# (decode, parse, validate every row, write in one transaction) against
# sqlite3's own `.import` of the same file into a bare table (the floor: no
# validation, no overwrite logic), timed in the same run.
# Peak memory: kunren's is the server's VmHWM growth during the import;
# sqlite3's is the max RSS GNU time reports for the whole CLI.
# Usage: bench/import.sh [rows]     (needs sqlite3 and GNU time)
set -eu
cd "$(dirname "$0")/.."
rows=${1:-100000}
work=$(mktemp -d)
trap 'kill $kpid 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$rows" "$work/list.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
depts = ["営業部", "総務部", "開発部", "経理部", "人事部"]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n")
    for i in range(n):
        f.write(f"山田{i},太郎,user{i}@example.co.jp,{depts[i % 5]},一般,勤続{i % 30}年,本社,社員,\r\n")
PY
size=$(wc -c < "$work/list.csv")

. bench/lib.sh
api -d '{"name":"bench"}' "${console}api/v1/lists" > /dev/null
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$kpid/status"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$kpid/status"; }

base=$(rss)
start=$(date +%s.%N)
api --data-binary @"$work/list.csv" "${console}api/v1/lists/1/import" > "$work/result.json"
end=$(date +%s.%N)
peak=$(hwm)
imported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$work/result.json")

printf 'CREATE TABLE r (last_name, first_name, email, department, position, field1, field2, field3, test);\n' \
	| sqlite3 "$work/floor.db"
tail -n +2 "$work/list.csv" > "$work/body.csv"
/usr/bin/time -f '%e %M' -o "$work/time.txt" sqlite3 -cmd '.mode csv' "$work/floor.db" ".import $work/body.csv r"
floor_s=$(cut -d' ' -f1 "$work/time.txt")
floor_kb=$(cut -d' ' -f2 "$work/time.txt")
floor_rows=$(sqlite3 "$work/floor.db" 'SELECT count(*) FROM r')

python3 - "$rows" "$size" "$start" "$end" "$base" "$peak" "$imported" "$floor_s" "$floor_kb" "$floor_rows" <<'PY'
import sys
rows, size, start, end, base, peak, imported, fs, fkb, frows = sys.argv[1:]
k = float(end) - float(start)
print(f"file: {int(rows):,} rows, {int(size) / 1e6:.1f} MB")
print(f"kunren import: {k:.2f} s, {imported} imported, peak memory growth {(int(peak) - int(base)) / 1024:.0f} MiB "
      f"(server high-water mark {int(peak) / 1024:.0f} MiB)")
print(f"sqlite3 .import (floor): {float(fs):.2f} s, {frows} rows, max RSS {int(fkb) / 1024:.0f} MiB")
print(f"ratio kunren/floor (time): {k / float(fs):.2f}")
PY
