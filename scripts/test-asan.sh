#!/bin/sh
# Builds the addon with AddressSanitizer and runs the whole test suite against it, once.
#
# The build happens in a scratch copy of the project (under the system's temporary directory),
# so build/ and dist/ of this checkout are never touched. Node itself is not instrumented: the
# ASan runtime is preloaded, and only the addon's memory accesses are checked (heap overflows,
# use-after-free, double free in native/). Every process the tests start inherits the runtime.
#
# Options: ASAN_KEEP=1 keeps the scratch copy; extra arguments go to `node --test` (for example
# a single file: sh scripts/test-asan.sh dist/test/80-truncation.test.js).
# Exit status: non-zero when the build fails, a test fails, or ASan reported anything.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/memmap-asan-XXXXXX")
cleanup() { [ "${ASAN_KEEP:-0}" = 1 ] || rm -rf "$scratch"; }
trap cleanup EXIT

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "test-asan: no libasan.so (install gcc's AddressSanitizer runtime)" >&2
  exit 2
fi

echo "test-asan: copying the project to $scratch"
# Sources only; node_modules is shared read-only through a symlink.
tar -C "$root" --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.git -cf - . | tar -C "$scratch" -xf -
ln -s "$root/node_modules" "$scratch/node_modules"
cd "$scratch"

echo "test-asan: building the addon with -fsanitize=address"
CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" \
LDFLAGS="-fsanitize=address" \
  npm run --silent rebuild >build.log 2>&1 || { cat build.log; exit 1; }
if ! nm -D build/Release/memmap.node | grep -q __asan_init; then
  echo "test-asan: the addon was not instrumented (CFLAGS ignored?)" >&2
  exit 1
fi
npx --no-install tsc -p . >tsc.log 2>&1 || true # type errors elsewhere do not stop emitting

echo "test-asan: running the suite under ASan"
logs="$scratch/asan-logs"
mkdir -p "$logs"
status=0
[ $# -gt 0 ] || set -- dist/test/*.test.js # test files only, not the fixtures they start
# detect_leaks=0: Node itself is not built for LeakSanitizer. handle_segv/handle_sigbus=0 and
# allow_user_segv_handler=1: SIGSEGV stays Node's (WebAssembly), SIGBUS stays memmap's guard.
LD_PRELOAD="$libasan" \
ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1:abort_on_error=1:log_path=$logs/asan" \
MEMMAP_ASAN=1 \
  node --test --test-concurrency=2 "$@" || status=$?

# A log that only says ASan could not reserve its shadow memory comes from a process started
# under `ulimit -v`: ASan could not run there, which is not a finding about memmap.
reports=0
unstarted=0
for f in "$logs"/*; do
  [ -e "$f" ] || continue
  if grep -q 'ReserveShadowMemoryRange failed' "$f" && ! grep -q 'ERROR: AddressSanitizer: ' "$f"; then
    unstarted=$((unstarted + 1))
  else
    reports=$((reports + 1))
    echo "--- $f" >&2
    cat "$f" >&2
  fi
done
[ "$unstarted" -eq 0 ] || echo "test-asan: ASan could not start in $unstarted process(es) run under ulimit -v (not checked)"
if [ "$reports" -gt 0 ]; then
  echo "test-asan: AddressSanitizer reported $reports time(s) (above)" >&2
  [ "$status" -ne 0 ] || status=1
else
  echo "test-asan: no AddressSanitizer report"
fi
exit "$status"
