/**
 * Resource exhaustion: mapping until the kernel refuses gives a clear error and the process
 * goes on; many maps opened and closed, or abandoned to the garbage collector, leave the
 * process's mapping count, descriptors and RSS flat. Each case runs in a child process
 * (test/fixtures/crash-exhaust.ts). Margins are generous; nothing is timed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fixture, runFixture, runtime, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();
/** AddressSanitizer's own allocator cannot survive the process running out of mappings. */
const underAsan = process.env.MEMMAP_ASAN === '1';
const maxMapCount = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));

function exhaust(mode: string, env: NodeJS.ProcessEnv = {}) {
  const r = runFixture('crash-exhaust', [mode, dir], { env: { ...process.env, NODE_OPTIONS: '--expose-gc', ...env } });
  assert.equal(r.signal, null, `${mode}: the child died of ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, `${mode}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const ENOMEM = {
  name: 'Error',
  code: 'ENOMEM',
  errno: -12,
  syscall: 'mmap',
  message: 'ENOMEM: cannot allocate memory, mmap',
};

test(
  'mapping until vm.max_map_count refuses: ENOMEM, the process goes on, closing maps makes mapping work again',
  { skip: onWindows ? WINDOWS.procfs : underAsan ? 'AddressSanitizer cannot run out of mappings' : false },
  (t) => {
    const r = exhaust('max-map-count');
    assert.deepEqual(r.error, ENOMEM);
    // The process's other mappings (heap, stacks, libraries) share the limit with ours.
    assert.ok(r.made > maxMapCount / 2 && r.made <= maxMapCount, `made ${r.made} maps, limit ${maxMapCount}`);
    assert.equal(r.allocated, 100_000);
    assert.equal(r.pooled, 64);
    assert.equal(r.againByte, 1);
    backToBaseline(r);
    t.diagnostic(
      `${r.made} maps before ENOMEM (vm.max_map_count ${maxMapCount}); mappings ${r.before} before, ${r.closed} once closed, ${r.after} once collected`,
    );
  },
);

/**
 * After every map is closed none of memmap's mappings is left (exactly), and once the closed
 * objects are dropped and collected the process is back near its mapping count before the run.
 * Near, because the runtime keeps some of the 256 KiB heap pages it grew into while it held
 * tens of thousands of Mmap objects (about 120 on Node 20 here, 300 on Node 22). Counted while
 * the fixture still held those objects, the heap pages looked like a leak: 13,602 mappings on a
 * machine with a higher map limit.
 */
function backToBaseline(r: { ours: number; before: number; closed: number; after: number }): void {
  assert.equal(r.ours, 0, 'mappings of the file left after closing every map');
  assert.ok(
    r.after - r.before <= 1000,
    `mappings before ${r.before}, after closing all ${r.closed}, once collected ${r.after}`,
  );
}

test(
  'at the map limit the process can still allocate before it frees a map (memmap stops short of it)',
  { skip: onWindows ? WINDOWS.procfs : underAsan ? 'AddressSanitizer cannot run out of mappings' : false },
  () => {
    const r = exhaust('max-map-alloc');
    assert.deepEqual(r.error, ENOMEM);
    assert.equal(r.allocated, 100_000);
    assert.equal(r.pooled, 64);
    assert.equal(r.againByte, 1);
    backToBaseline(r);
  },
);

test(
  'at the map limit a runtime with thousands of mappings of its own (as on a 16-core machine) stays alive: ENOMEM, and the count returns to the baseline',
  {
    skip: onWindows
      ? WINDOWS.procfs
      : underAsan
        ? 'AddressSanitizer cannot run out of mappings'
        : runtime !== 'node'
          ? `${runtime}: UV_THREADPOOL_SIZE and --v8-pool-size, which reproduce a many-core machine here, are Node's`
          : false,
  },
  (t) => {
    // More threads (64 libuv, 16 V8) and a 512 MiB heap: the runtime has thousands of mappings of
    // its own and needs room for more at the limit. A fixed headroom of 4,096 maps left it too
    // little, and the child died of SIGABRT (std::bad_alloc).
    const r = exhaust('max-map-big', { UV_THREADPOOL_SIZE: '64', NODE_OPTIONS: '--expose-gc --v8-pool-size=16' });
    assert.ok(
      r.other > 2000,
      `the runtime had only ${r.other} mappings of its own: the conditions were not reproduced`,
    );
    assert.deepEqual(r.error, ENOMEM);
    assert.ok(
      maxMapCount - r.atLimit >= Math.min(4000, maxMapCount / 4),
      `only ${maxMapCount - r.atLimit} mappings left to the runtime`,
    );
    assert.equal(r.allocated, 100_000);
    assert.equal(r.blocks, 2000);
    assert.equal(r.pooled, 64);
    assert.equal(r.againByte, 1);
    backToBaseline(r);
    t.diagnostic(
      `runtime's own mappings at the limit ${r.other}; ${r.made} maps; ${maxMapCount - r.atLimit} left free; mappings ${r.before} before, ${r.closed} once closed, ${r.after} once collected`,
    );
  },
);

test(
  'mapping until the address space (ulimit -v) refuses: ENOMEM, and mapping works again after closing',
  {
    skip: onWindows
      ? WINDOWS.procfs
      : underAsan
        ? 'AddressSanitizer reserves terabytes of address space'
        : runtime === 'deno'
          ? 'deno: Deno 2.9 cannot start under ulimit -v 4000000 (it dies of SIGTRAP before running any code)'
          : false,
  },
  (t) => {
    const r = spawnSync(
      '/bin/sh',
      ['-c', `ulimit -v 4000000 && exec "$0" "$@"`, process.execPath, fixture('crash-exhaust'), 'address-space', dir],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.error, ENOMEM);
    assert.ok(out.made >= 1 && out.made < 64, `made ${out.made} blocks of 64 MiB under a 4 GB limit`);
    assert.equal(out.allocated, 100_000);
    assert.equal(out.againByte, 1);
    t.diagnostic(`${out.made} blocks of 64 MiB mapped before ENOMEM under ulimit -v 4000000`);
  },
);

const RSS_MARGIN_MIB = 16;

function flat(r: { baseline: Snapshot; end: Snapshot }, label: string): void {
  assert.ok(r.end.maps - r.baseline.maps <= 100, `${label}: mappings ${r.baseline.maps} -> ${r.end.maps}`);
  assert.ok(r.end.fds - r.baseline.fds <= 10, `${label}: descriptors ${r.baseline.fds} -> ${r.end.fds}`);
  // AddressSanitizer keeps freed memory in quarantine (256 MiB), so RSS says nothing there.
  if (!underAsan)
    assert.ok(r.end.rss - r.baseline.rss <= RSS_MARGIN_MIB, `${label}: RSS ${r.baseline.rss} -> ${r.end.rss} MiB`);
}

type Snapshot = { maps: number; fds: number; rss: number };

test(
  '100,000 open/write/close cycles leave mappings, descriptors and RSS flat',
  skipIf(onWindows, WINDOWS.procfs),
  (t) => {
    const r = exhaust('cycles');
    assert.equal(r.cycles, 100_000);
    assert.equal(r.lastByte, 99_999 & 0xff);
    flat(r, 'cycles');
    t.diagnostic(
      `after warm-up -> end: mappings ${r.baseline.maps} -> ${r.end.maps}, fds ${r.baseline.fds} -> ${r.end.fds}, RSS ${r.baseline.rss} -> ${r.end.rss} MiB`,
    );
  },
);

// Known limitations (README, "What is not guaranteed"). A plain run lists them as TODO without
// running them, so a green run reads green; MEMMAP_TODO=1 runs their bodies, which fail until
// the limitation is lifted.
const knownLimitation = (body: () => void) => (process.env.MEMMAP_TODO === '1' ? body : undefined);

test(
  '100,000 open/write/close cycles in one synchronous loop leave RSS flat',
  {
    ...skipIf(onWindows, WINDOWS.procfs),
    todo: 'known limitation: native memory of closed maps is freed only by finalizers deferred to the event loop (~0.3 KB a cycle)',
  },
  knownLimitation(() => {
    const r = exhaust('cycles-sync');
    flat(r, 'cycles-sync');
  }),
);

test(
  '100,000 maps left to the garbage collector leave mappings, descriptors and RSS flat',
  skipIf(onWindows, WINDOWS.procfs),
  (t) => {
    const r = exhaust('gc');
    assert.equal(r.total, 100_000);
    assert.ok(r.peak - r.baseline.maps <= 3000, `peak mappings ${r.peak}, baseline ${r.baseline.maps}`);
    flat(r, 'gc');
    t.diagnostic(
      `after warm-up -> end: mappings ${r.baseline.maps} -> ${r.end.maps} (peak ${r.peak}), fds ${r.baseline.fds} -> ${r.end.fds}, RSS ${r.baseline.rss} -> ${r.end.rss} MiB`,
    );
  },
);

test(
  '100,000 maps abandoned in one synchronous loop are reclaimed before the kernel limits are hit',
  {
    ...skipIf(onWindows, WINDOWS.procfs),
    todo: 'known limitation: abandoned maps are unmapped only when the event loop turns; a synchronous loop hits EMFILE/ENOMEM',
  },
  knownLimitation(() => {
    const r = exhaust('gc-sync');
    flat(r, 'gc-sync');
  }),
);
