#!/usr/bin/env bash
# Peak memory of `gatelint check` and `gatelint parse --format json` against the size of
# their input, on the generated vhost corpus scaled to each size. Not a test.
#
#   testdata/bench/memory.sh [MB ...]      # default: 10 100 1000
#
# Prints, for each size, the input bytes, each command's peak resident set (GNU time's
# %M) and its ratio to the input. Needs python3 and GNU time (/usr/bin/time). The corpus
# generator is looked up next to the repository (../shared/bench) unless GEN_NGINX_CORPUS
# points at it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=${GEN_NGINX_CORPUS:-$ROOT/../shared/bench/gen_nginx_corpus.py}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/gatelint
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && cargo build --release --quiet)

# The generator writes about 1.2 kB per vhost.
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100 1000)
printf '%8s %14s %12s %8s %12s %8s\n' MB input_bytes check_kB ratio json_kB ratio
for mb in "${SIZES[@]}"; do
  dir=$WORK/c$mb
  python3 "$GEN" --vhosts $((mb * 1000000 / 1217)) --out "$dir" >/dev/null
  bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  peak() {
    /usr/bin/time -f '%M' "$@" >/dev/null 2>"$WORK/time" || true
    tail -1 "$WORK/time"
  }
  check=$(peak "$BIN" check --format short --max-file-size 4G "$dir/nginx.conf")
  json=$(peak "$BIN" parse --format json "$dir/nginx.conf")
  awk -v mb="$mb" -v b="$bytes" -v c="$check" -v j="$json" 'BEGIN {
    printf "%8d %14d %12d %7.1fx %12d %7.1fx\n", mb, b, c, c * 1024 / b, j, j * 1024 / b }'
  rm -rf "$dir"
done
