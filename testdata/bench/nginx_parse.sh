#!/usr/bin/env bash
# Benchmark `gatelint parse` (nginx, with includes) against `crossplane parse` on the
# generated corpus, plus peak memory and in-process throughput. Not a test.
#
#   testdata/bench/nginx_parse.sh [CORPUS_DIR]
#
# Needs python3, hyperfine, GNU time (/usr/bin/time) and crossplane (GATELINT_CROSSPLANE
# or `crossplane` on PATH). Run from anywhere; the corpus generator is looked up next to
# the repository (../shared/bench) unless GEN_NGINX_CORPUS points at it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=${GEN_NGINX_CORPUS:-$ROOT/../shared/bench/gen_nginx_corpus.py}
CORPUS=${1:-$(mktemp -d)/corpus}
CROSSPLANE=${GATELINT_CROSSPLANE:-crossplane}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/gatelint

if [ ! -f "$CORPUS/nginx.conf" ]; then
  python3 "$GEN" --vhosts 2000 --out "$CORPUS" >/dev/null
fi
(cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example nginx_throughput)

SIZE=$(find "$CORPUS" -type f ! -name '*.json' -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$CORPUS" -type f ! -name '*.json' | wc -l)
echo "corpus: $CORPUS, $FILES files, $SIZE bytes"

"$BIN" parse --kind nginx "$CORPUS/nginx.conf" >/dev/null || { echo "gatelint parse failed"; exit 1; }

# A shared machine's speed drifts over seconds: the tools are timed in short rounds, one
# after the other, so that both sample the same conditions; medians are over all rounds.
ROUNDS=${ROUNDS:-5}
JSONS=()
for _ in $(seq "$ROUNDS"); do
  J=$(mktemp)
  JSONS+=("$J")
  hyperfine -N -w 1 -r 3 --export-json "$J" \
    -n gatelint "$BIN parse --kind nginx --format crossplane $CORPUS/nginx.conf" \
    -n gatelint-json "$BIN parse --kind nginx $CORPUS/nginx.conf" \
    -n crossplane "$CROSSPLANE parse -o /dev/null $CORPUS/nginx.conf" >/dev/null
done
python3 "$ROOT/testdata/bench/medians.py" "crossplane" "${JSONS[@]}"
rm -f "${JSONS[@]}"

# COLD=1: also time gatelint with the corpus evicted from the page cache before each run
# (posix_fadvise DONTNEED on every file), where reading the files dominates.
if [ "${COLD:-0}" = 1 ]; then
  EVICT="python3 -c \"import os,sys
for r,_,fs in os.walk(sys.argv[1]):
    for f in fs:
        fd=os.open(os.path.join(r,f),os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)\" $CORPUS"
  CJSON=$(mktemp)
  hyperfine -w 1 -r 10 --prepare "$EVICT" --export-json "$CJSON" \
    -n gatelint-cold "$BIN parse --kind nginx --format crossplane $CORPUS/nginx.conf" >/dev/null
  python3 -c "import json,sys; x=json.load(open(sys.argv[1]))['results'][0]; print(f\"gatelint-cold  median {x['median']*1000:9.1f} ms  (min {x['min']*1000:.1f}, max {x['max']*1000:.1f})\")" "$CJSON"
  rm -f "$CJSON"
fi

for fmt in crossplane json; do
  RSS=$( { /usr/bin/time -v "$BIN" parse --kind nginx --format $fmt "$CORPUS/nginx.conf" >/dev/null; } 2>&1 | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}')
  python3 -c "import sys; k=int(sys.argv[1]); s=int(sys.argv[2]); print(f'peak RSS ({sys.argv[3]}): {k} KiB = {k*1024/s:.2f}x the corpus size')" "$RSS" "$SIZE" "$fmt"
done

"$TARGET/release/examples/nginx_throughput" "$CORPUS" 3
