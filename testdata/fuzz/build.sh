#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer's coverage instrumentation, as `cargo fuzz build`
# does, without needing cargo-fuzz or a nightly toolchain (RUSTC_BOOTSTRAP allows the
# flags on stable). The binaries land in testdata/fuzz/target/<triple>/release/.
#
#   testdata/fuzz/build.sh                 # build every target
#   testdata/fuzz/build.sh check_pipeline  # build one
#
# Run one, e.g. for a million executions on the seed corpus:
#   mkdir -p testdata/fuzz/corpus/nginx_parse
#   testdata/fuzz/target/x86_64-unknown-linux-gnu/release/nginx_parse -runs=1000000 \
#     testdata/fuzz/corpus/nginx_parse
set -euo pipefail
cd "$(dirname "$0")"
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the flags off build scripts and proc macros, which must not be instrumented.
if [ $# -gt 0 ]; then
  cargo build --locked --release --target "$triple" --bin "$1"
else
  cargo build --locked --release --target "$triple" --bins
fi
