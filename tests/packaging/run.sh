#!/usr/bin/env bash
# functions-runtime used from outside the repository, and the two Debian packages (issue 20).
#
#   tests/packaging/run.sh [BUILD_DIR]
#
# BUILD_DIR (default build/, what `scripts/build.sh release` makes) is a top-level build whose targets
# switchboard and switchboard_functions are built; it is installed from and packaged, never compiled in.
# Everything else happens in a scratch directory (KEEP=1 keeps it), on 127.0.0.1 only:
#   1. `cmake --install BUILD_DIR --component functions_dev` into a scratch prefix, and its files;
#   2. tests/packaging/function, a user's project, built three ways: find_package(switchboard) against
#      that prefix, FetchContent of this checkout (compiles functions-runtime: about a minute, seconds
#      with ccache the next time), and a one-line g++ with pkg-config;
#   3. functions-runtime configured on its own (its objects come from ccache after 2), built and
#      installed: the same files as 1;
#   4. cpack: switchboard and libswitchboard-functions-dev .debs; their Depends (against the binary's
#      ldd), contents, conffiles and maintainer scripts, extracted with dpkg-deb -x into a scratch root;
#      the unit checked against the extracted files and the binary's defaults, and by systemd-analyze;
#   5. the function built a fourth way, against the extracted -dev files (its CMake package, its .pc);
#   6. the four functions and the extracted gateway started, the gateway configured through the packaged
#      environment file and run as an unprivileged user without capabilities: health, then chain.mjs
#      negotiates through each function and invokes it through the gateway over WebSockets and long
#      polling; the gateway then drains on SIGTERM and exits 0.
# JOBS (default 2) is the build parallelism.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
build=$(cd "${1:-build}" && pwd)
jobs=${JOBS:-2}
started_at=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-packaging.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "packaging: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
  echo "packaging: FAIL: $*" >&2
  exit 1
}
step() { echo "== packaging: $*"; }
# Runs a command with its output in $work/NAME.log, shown only when it fails.
quietly() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 || { tail -n 40 "$work/$name.log" >&2; fail "$name: $*"; }
}
# Starts a program with stdout on a pipe we read, waits (15 s at most) for a stdout line matching the
# regex, and sets `ready_url` to its first group. `pids` gets the program's pid; stderr goes to NAME.err.
start() {
  local name=$1 ready=$2 line fd deadline=$((SECONDS + 15))
  shift 2
  exec {fd}< <(exec "$@" 2>"$work/$name.err")
  pids+=($!)
  while IFS= read -r -t "$((deadline > SECONDS ? deadline - SECONDS : 1))" -u "$fd" line; do
    echo "$line" >>"$work/$name.out"
    if [[ $line =~ $ready ]]; then
      ready_url=${BASH_REMATCH[1]}
      return 0
    fi
  done
  tail -n 20 "$work/$name.err" >&2 || true
  fail "$name printed no ready line within 15 s"
}

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Absolute scratch paths under one base directory, so ccache can reuse objects from earlier runs.
export CCACHE_BASEDIR=$work
function_src=$repo/tests/packaging/function

[ -x "$build/bin/switchboard" ] && [ -f "$build/CPackConfig.cmake" ] ||
  fail "$build has no built gateway or no CPackConfig.cmake (scripts/build.sh release first)"
version=$("$build/bin/switchboard" --version | awk '{print $2}')
[ -n "$version" ] || fail "switchboard --version printed no version"

step "1. install functions_dev from $build into a scratch prefix"
prefix=$work/prefix
quietly install cmake --install "$build" --component functions_dev --prefix "$prefix"
lib_file=$(find "$prefix" -name libswitchboard_functions.a)
[ -f "$lib_file" ] || fail "no libswitchboard_functions.a in $prefix"
libdir=$(dirname "$lib_file")
pc_file=$libdir/pkgconfig/switchboard-functions.pc
config_dir=$libdir/cmake/switchboard
for f in "$prefix/include/switchboard/functions.hpp" "$prefix/include/switchboard/session_cookie.hpp" "$lib_file" \
  "$config_dir/switchboardConfig.cmake" "$config_dir/switchboardConfigVersion.cmake" \
  "$config_dir/switchboardTargets.cmake" "$pc_file"; do
  [ -f "$f" ] || fail "not installed: ${f#"$prefix"/} (installed: $(cd "$prefix" && find . -type f ! -name '*.hpp'))"
done
grep -q "set(PACKAGE_VERSION \"$version\")" "$config_dir/switchboardConfigVersion.cmake" ||
  fail "switchboardConfigVersion.cmake does not say $version (switchboard --version): keep the versions equal"
PKG_CONFIG_PATH=$(dirname "$pc_file")
export PKG_CONFIG_PATH
[ "$(pkg-config --modversion switchboard-functions)" = "$version" ] || fail "the .pc's Version is not $version"
pc_flags=$(pkg-config --cflags --libs switchboard-functions)
for flag in "-I$prefix/include" "-L$libdir" -lswitchboard_functions -lcpp-httplib -lcrypto -pthread \
  -DCPPHTTPLIB_OPENSSL_SUPPORT; do
  [[ " $pc_flags " == *" $flag "* ]] || fail "pkg-config --cflags --libs switchboard-functions lacks $flag: $pc_flags"
done

step "2a. find_package(switchboard) against the prefix"
quietly configure-a cmake -S "$function_src" -B "$work/a" -DSWITCHBOARD_FROM=package -DCMAKE_PREFIX_PATH="$prefix" \
  "${launcher[@]}"
grep -qx "switchboard_DIR:PATH=$config_dir" "$work/a/CMakeCache.txt" ||
  fail "find_package(switchboard) found $(grep switchboard_DIR "$work/a/CMakeCache.txt"), not $config_dir"
quietly build-a cmake --build "$work/a" -j "$jobs"

step "2b. FetchContent of $repo (SOURCE_SUBDIR functions-runtime)"
quietly configure-b cmake -S "$function_src" -B "$work/b" -DSWITCHBOARD_FROM=source \
  -DFETCHCONTENT_SOURCE_DIR_SWITCHBOARD="$repo" "${launcher[@]}"
quietly build-b cmake --build "$work/b" -j "$jobs"

step "2c. g++ main.cpp \$(pkg-config --cflags --libs switchboard-functions)"
mkdir -p "$work/c"
# shellcheck disable=SC2046 # the flags are words
quietly build-c ${launcher:+ccache} g++ -DBUILT_WITH='"pkg-config"' -o "$work/c/packaging-function" \
  "$function_src/main.cpp" $(pkg-config --cflags --libs switchboard-functions)
unset PKG_CONFIG_PATH

step "3. functions-runtime configured on its own, built and installed"
quietly configure-alone cmake -S "$repo/functions-runtime" -B "$work/alone" "${launcher[@]}"
quietly build-alone cmake --build "$work/alone" -j "$jobs"
quietly install-alone cmake --install "$work/alone" --prefix "$work/prefix-alone"
# Same files as the top-level build installs (the Targets-<config>.cmake named after each build type).
installed_files() { (cd "$1" && find . -type f ! -name 'switchboardTargets-*.cmake' | sort); }
[ "$(installed_files "$work/prefix-alone")" = "$(installed_files "$prefix")" ] ||
  fail "functions-runtime on its own installs other files: $(diff <(installed_files "$prefix") \
    <(installed_files "$work/prefix-alone") | tr '\n' ' ')"

step "4. cpack: the Debian packages"
quietly cpack cpack --config "$build/CPackConfig.cmake" -B "$work/debs"
gateway_deb=$(find "$work/debs" -maxdepth 1 -name "switchboard_${version}_*.deb")
dev_deb=$(find "$work/debs" -maxdepth 1 -name "libswitchboard-functions-dev_${version}_*.deb")
[ -f "$gateway_deb" ] && [ -f "$dev_deb" ] || fail "cpack made $(ls "$work/debs")"
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$gateway_deb" Version)" = "$version" ] || fail "switchboard.deb Version $(field "$gateway_deb" Version)"
# Every shared library the gateway loads comes from a package it depends on.
depends=", $(field "$gateway_deb" Depends),"
for library in $(ldd "$build/bin/switchboard" | awk '$3 ~ /^\// {print $3}'); do
  owner=$(dpkg -S "$(readlink -f "$library")" 2>/dev/null || dpkg -S "$library") || fail "no package owns $library"
  owner=${owner%%:*}
  [[ $depends == *", $owner "* || $depends == *", $owner,"* ]] ||
    fail "switchboard.deb Depends ($depends) lacks $owner (for $library)"
done
for package in libcpp-httplib-dev nlohmann-json3-dev libssl-dev; do
  dev_depends=", $(field "$dev_deb" Depends),"
  [[ $dev_depends == *", $package "* || $dev_depends == *", $package,"* ]] || fail "-dev Depends lacks $package"
done
listing=$(dpkg-deb -c "$gateway_deb")
grep -Eq '^-rw------- root/root .* \./etc/default/switchboard$' <<<"$listing" ||
  fail "/etc/default/switchboard is not a root-only file: $(grep etc/default/ <<<"$listing")"
mkdir -p "$work/control"
dpkg-deb -e "$gateway_deb" "$work/control"
grep -qx /etc/default/switchboard "$work/control/conffiles" || fail "/etc/default/switchboard is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] && sh -n "$work/control/$script" || fail "maintainer script $script"
done
root=$work/root
dpkg-deb -x "$gateway_deb" "$root"
dpkg-deb -x "$dev_deb" "$root"
for f in usr/bin/switchboard usr/lib/systemd/system/switchboard.service etc/default/switchboard \
  usr/include/switchboard/functions.hpp; do
  [ -f "$root/$f" ] || fail "not in the packages: /$f"
done
for f in libswitchboard_functions.a cmake/switchboard/switchboardConfig.cmake pkgconfig/switchboard-functions.pc; do
  [ -n "$(find "$root/usr/lib" -path "*/$f")" ] || fail "not in libswitchboard-functions-dev: lib*/$f"
done
# No text file may point into the staging or build directories.
if grep -rlIF -e _CPack_Packages -e "$build" -e "$work" "$root"; then fail "the files above name a build path"; fi

unit=$root/usr/lib/systemd/system/switchboard.service
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
exec_start=$(unit_value ExecStart)
[ "$exec_start" = /usr/bin/switchboard ] || fail "ExecStart=$exec_start"
[ "$(unit_value EnvironmentFile)" = -/etc/default/switchboard ] || fail "EnvironmentFile=$(unit_value EnvironmentFile)"
[ "$(unit_value DynamicUser)" = yes ] || fail "the unit does not run as its own unprivileged user"
# systemd's SIGKILL must come after the longest drain: --shutdown-timeout plus 5 s (docs/architecture.md).
help=$("$root/usr/bin/switchboard" --help)
seconds() { [[ $1 =~ ^([0-9]+)s?$ ]] && echo "${BASH_REMATCH[1]}" || fail "not a duration in seconds: $1"; }
shutdown_timeout=$(seconds "$(grep -A2 -- '--shutdown-timeout ' <<<"$help" | sed -n 's/.*default: \([^;]*\);.*/\1/p')")
timeout_stop=$(seconds "$(unit_value TimeoutStopSec)")
((timeout_stop > shutdown_timeout + 5)) ||
  fail "TimeoutStopSec=$timeout_stop does not exceed --shutdown-timeout ($shutdown_timeout s) + 5 s"
# As packaged (nothing set), the gateway refuses to start with exit code 2, which the unit doesn't
# restart, and says what to set.
unconfigured_exit=0
env -i PATH="$PATH" bash -c 'set -a && . "$1" && exec "$2"' _ "$root/etc/default/switchboard" \
  "$root/usr/bin/switchboard" >/dev/null 2>"$work/unconfigured.err" || unconfigured_exit=$?
[ "$unconfigured_exit" = 2 ] && grep -q SWITCHBOARD_ACCESS_KEY "$work/unconfigured.err" ||
  fail "unconfigured, the gateway exited $unconfigured_exit: $(cat "$work/unconfigured.err")"
[ "$(unit_value RestartPreventExitStatus)" = 2 ] || fail "the unit restarts after a configuration error"
# Every variable the environment file names is one the gateway reads.
for name in $(grep -oE '^#?SWITCHBOARD_[A-Z_]+=' "$root/etc/default/switchboard" | tr -d '#='); do
  grep -q "env: $name\$" <<<"$help" || fail "/etc/default/switchboard names $name, which switchboard --help doesn't"
done
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/verify"
  sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >"$work/verify/switchboard.service"
  verify=$(systemd-analyze verify "$work/verify/switchboard.service" 2>&1) || fail "systemd-analyze verify: $verify"
  [ -z "$verify" ] || fail "systemd-analyze verify: $verify"
fi

step "5. the function built against the extracted libswitchboard-functions-dev"
quietly configure-d cmake -S "$function_src" -B "$work/d" -DSWITCHBOARD_FROM=package -DCMAKE_PREFIX_PATH="$root/usr" \
  "${launcher[@]}"
grep -q "^switchboard_DIR:PATH=$root/usr/lib" "$work/d/CMakeCache.txt" ||
  fail "find_package(switchboard) found $(grep switchboard_DIR "$work/d/CMakeCache.txt"), not the extracted package"
quietly build-d cmake --build "$work/d" -j "$jobs"
deb_pc=$(find "$root/usr/lib" -name switchboard-functions.pc)
grep -qx 'prefix=/usr' "$deb_pc" || fail "the packaged .pc says $(grep '^prefix=' "$deb_pc")"
deb_flags=$(PKG_CONFIG_PATH=$(dirname "$deb_pc") pkg-config --define-variable=prefix="$root/usr" --cflags --libs \
  switchboard-functions)
[[ $deb_flags =~ -I([^ ]+) ]] && [ -f "${BASH_REMATCH[1]}/switchboard/functions.hpp" ] ||
  fail "the packaged .pc's -I has no switchboard/functions.hpp: $deb_flags"
[[ $deb_flags =~ -L([^ ]+) ]] && [ -f "${BASH_REMATCH[1]}/libswitchboard_functions.a" ] ||
  fail "the packaged .pc's -L has no libswitchboard_functions.a: $deb_flags"

step "6. the extracted gateway and the four functions together"
key=packaging-test-key-0123456789abcdefghijklmnopqrstuv
export SWITCHBOARD_CONNECTION_STRING="Endpoint=http://127.0.0.1;AccessKey=$key;Version=1.0;"
function_ready='listening on (http://127\.0\.0\.1:[0-9]+)'
declare -A function_url
for way in a b c d; do
  start "function-$way" "$function_ready" "$work/$way/packaging-function" "hub$way"
  function_url[$way]=$ready_url
done
unset SWITCHBOARD_CONNECTION_STRING
# The packaged environment file, with what an operator would set in it (upstream rules one per line).
env_file=$work/switchboard.env
cp "$root/etc/default/switchboard" "$env_file"
cat >>"$env_file" <<EOF
SWITCHBOARD_ACCESS_KEY=$key
SWITCHBOARD_LISTEN=127.0.0.1:0
SWITCHBOARD_THREADS=2
SWITCHBOARD_SHUTDOWN_SPREAD=0
SWITCHBOARD_UPSTREAM='hub=huba;url=${function_url[a]}/upstream
hub=hubb;url=${function_url[b]}/upstream
hub=hubc;url=${function_url[c]}/upstream
hub=hubd;url=${function_url[d]}/upstream'
EOF
# As systemd runs it: the environment file read as root, the gateway as an unprivileged user without
# capabilities (when this test runs as root; otherwise as the unprivileged user running it).
as_service=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod go+rx "$work"
  as_service=(setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all)
fi
start gateway 'switchboard listening on (http://[^ ]+)' \
  env -i PATH="$PATH" bash -c 'set -a && . "$1" && shift && exec "$@"' _ "$env_file" "${as_service[@]}" \
  "$root/usr/bin/switchboard"
gateway_url=$ready_url
gateway_pid=${pids[-1]}
[ "$(stat -c %u "/proc/$gateway_pid")" != 0 ] || fail "the gateway runs as root"
[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$gateway_url/api/v1/health")" = 200 ] ||
  fail "$gateway_url/api/v1/health did not answer 200"
timeout 60 node tests/packaging/chain.mjs "$gateway_url" "${function_url[a]},huba,package" \
  "${function_url[b]},hubb,source" "${function_url[c]},hubc,pkg-config" "${function_url[d]},hubd,package" ||
  { tail -n 20 "$work/gateway.err" >&2; fail "chain.mjs"; }
kill -TERM "$gateway_pid"
gateway_exit=0
timeout 15 tail --pid="$gateway_pid" -f /dev/null || fail "the gateway did not exit within 15 s of SIGTERM"
wait "$gateway_pid" || gateway_exit=$?
[ "$gateway_exit" = 0 ] || { tail -n 20 "$work/gateway.err" >&2; fail "the gateway exited $gateway_exit on SIGTERM"; }

echo "== packaging: all checks passed in $((SECONDS - started_at)) s"
