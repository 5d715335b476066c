#!/usr/bin/env bash
# Benchmark `gatelint check` against `nginx -t` on the generated 2000-vhost corpus, whole
# process, in the same run. Not a test.
#
#   testdata/bench/check_vs_nginx.sh [CORPUS_DIR]
#
# Needs python3, hyperfine and nginx (Debian's /usr/sbin/nginx). The corpus generator is
# looked up next to the repository (../shared/bench) unless GEN_NGINX_CORPUS points at it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=${GEN_NGINX_CORPUS:-$ROOT/../shared/bench/gen_nginx_corpus.py}
CORPUS=${1:-$(mktemp -d)/corpus}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/gatelint

if [ ! -f "$CORPUS/nginx.conf" ]; then
  python3 "$GEN" --vhosts 2000 --out "$CORPUS" >/dev/null
fi
CORPUS=$(cd "$CORPUS" && pwd)
PREFIX=$(mktemp -d)
mkdir -p "$PREFIX/logs"
(cd "$ROOT" && cargo build --release --quiet)

SIZE=$(find "$CORPUS" -type f ! -name '*.json' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "corpus: $CORPUS, $SIZE bytes"
"$NGINX" -t -q -p "$PREFIX/" -c "$CORPUS/nginx.conf"

# A shared machine's speed drifts over seconds: the two are timed in short rounds, one
# after the other, so that both sample the same conditions; medians are over all rounds.
# `gatelint check` exits 1 when it finds something: that is its normal result here.
ROUNDS=${ROUNDS:-5}
JSONS=()
for _ in $(seq "$ROUNDS"); do
  J=$(mktemp)
  JSONS+=("$J")
  hyperfine -N -i -w 1 -r 3 --export-json "$J" \
    -n "gatelint check" "$BIN check --format short $CORPUS/nginx.conf" \
    -n "nginx -t" "$NGINX -t -q -p $PREFIX/ -c $CORPUS/nginx.conf" >/dev/null 2>&1
done
python3 "$ROOT/testdata/bench/medians.py" "nginx -t" "${JSONS[@]}"
rm -f "${JSONS[@]}"
