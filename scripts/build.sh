#!/usr/bin/env bash
# Configures and builds a preset (default: release into build/, programs in build/bin/).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
dir=build; [ "$preset" != release ] && dir="build/$preset"
[ -f "$dir/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
