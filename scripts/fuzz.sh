#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one.
#   scripts/fuzz.sh            a short run of every target from its seed corpus (what CI does)
#   scripts/fuzz.sh 600        every target for 600 s each, growing a corpus in build/fuzz/corpus/
#   scripts/fuzz.sh 600 jwt    one target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-}"
only="${2:-}"
[ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
if [ -z "$seconds" ]; then
  exec ctest --test-dir build/fuzz -L fuzz --output-on-failure
fi
for target in build/fuzz/bin/*_fuzz; do
  name=$(basename "$target")
  [ -n "$only" ] && [ "$name" != "${only}_fuzz" ] && continue
  mkdir -p "build/fuzz/corpus/$name"
  echo "== $name for ${seconds}s"
  "$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    "build/fuzz/corpus/$name" "tests/fuzz/corpus/$name" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" || true
done
