#!/bin/sh
# Training attachments for a 10,000-target campaign (issue 5): every
# target's docx, xlsx, pdf, zip(docx) and password zip(docx) built with its
# own beacon URL, against copying one prebuilt file of the same kind per
# target (the floor: memcpy of the same bytes), timed in the same process.
# Peak memory: the process's max RSS (getrusage) after each kind, and GNU
# time's for the whole run.
# Usage: bench/attach.sh [targets]     (needs a built build/libkunren.a; GNU time optional)
set -eu
cd "$(dirname "$0")/.."
targets=${1:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make -s build/libkunren.a
PKGS="libmicrohttpd libcurl sqlite3 jansson libsodium libidn2 xlsxwriter opendkim openssl libqrencode libzip yaml-0.1 libpcre2-8"
cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -Ibuild/gen $(pkg-config --cflags $PKGS) -o "$work/attach_bench" \
	bench/attach_bench.c build/libkunren.a $(pkg-config --libs $PKGS) -pthread -lm

echo "machine: $(nproc) CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "whole run: %e s, max RSS %M KiB" "$work/attach_bench" "$targets"
else
	"$work/attach_bench" "$targets"
fi
