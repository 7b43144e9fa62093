/**
 * Truncation under a live map must not kill the process. Each case runs in a child process
 * (test/fixtures/crash-truncate.ts, crash-guard.ts): the child maps a file, someone truncates
 * it, the child touches the vanished pages through every API method and through raw views,
 * and the parent checks how the child ended (never by a signal) and what it saw.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { PAGESIZE } from '../src/index.js';
import { runFixture, scratchDir, skipOn, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();
const FILL = 0xab;
const SIZE = 3 * PAGESIZE;

type Line = Record<string, any>;

function run(kind: string, target: string, truncator: string, probes?: string[]) {
  const r = runFixture(
    'crash-truncate',
    [dir, kind, target, truncator],
    probes ? { env: { ...process.env, PROBES: probes.join(',') } } : {},
  );
  assert.equal(r.signal, null, `the child died of ${r.signal}; stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `the child failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.pop(), 'DONE');
  return lines.map((l) => JSON.parse(l) as Line);
}

/** What a raw-view probe returns when the vanished page reads as zeros (and keeps writes made
 * to it in this process's private zero page). */
function expectedViewResult(name: string, target: string): unknown {
  const zeros: Record<string, unknown> = {
    'view()[i]': 0,
    'fresh view(off)[0]': 0,
    readUInt32LE: 0,
    readBigUInt64BE: '0',
    'Buffer.compare': 0,
    equals: true,
    indexOf: -1,
    lastIndexOf: PAGESIZE - 1,
    includes: false,
    TextDecoder: '\0\0\0\0',
    'toString(hex)': '00000000',
    'toString(base64)': 'AAAA',
    'Buffer.from(copy)': '00000000',
    'Uint8Array.slice': [0, 0, 0, 0],
    Float64Array: 0,
    DataView: 0,
    'Atomics.load': 0,
    'crypto hash': true,
    'JSON of view': '{"type":"Buffer","data":[0,0]}',
    // writes read back from the zero page
    'view write': 9,
    writeUInt32LE: 0xdeadbeef,
    fill: 5,
    'Buffer.set': 'xyz',
    'copy into': 'hello',
    // copyWithin copies from page 1, which survives a truncation to mid-page
    copyWithin: target === 'mid' ? FILL : 0,
    'Atomics.add': 5,
  };
  assert.ok(name in zeros, `no expectation for probe ${name}`);
  return zeros[name];
}

const WRITES =
  /^(set|setSlice|write|writeByte|move|view write|writeUInt32LE|fill|Buffer\.set|copy into|copyWithin|Atomics\.add)/;

function checkLine(o: Line, kind: string, target: string): void {
  const newSize = target === 'zero' ? 0 : PAGESIZE + 100;
  const what = `${kind}/${target} probe ${o.probe}`;
  assert.equal(o.fileSize, newSize, what);
  assert.equal(o.faultedBefore, false, `${what}: faulted before any touch`);
  if (o.api) {
    // The call that touched the vanished page reports it.
    assert.deepEqual(o.threw, { name: 'Error', code: 'ERR_MMAP_TRUNCATED', size: newSize }, what);
  } else {
    assert.equal(o.threw, null, `${what}: a raw view threw ${JSON.stringify(o.threw)}`);
    assert.deepEqual(o.result, expectedViewResult(o.probe, target), what);
  }
  assert.equal(o.faulted, true, `${what}: mm.faulted`);
  // The raw view taken before the truncation stays attached and reads zeros in the vanished
  // page (apart from what a write probe put there).
  assert.equal(o.viewLength, SIZE, what);
  if (!WRITES.test(o.probe)) {
    assert.equal(o.goneNonZero, 0, `${what}: the vanished page is not all zeros`);
    assert.equal(o.viewGone, 0, what);
  }
  if (target === 'mid') {
    assert.equal(o.page1Head, true, `${what}: bytes below the new end changed`);
    assert.equal(o.page1TailZero, true, `${what}: the tail of the partial page`);
    if (o.probe !== 'move(from gone)') assert.equal(o.page0Intact, true, what);
  }
  // Every later API call throws the truncation error with the file's size.
  for (const [name, r] of Object.entries(o.next as Record<string, any>)) {
    assert.deepEqual(
      r,
      { threw: { name: 'Error', code: 'ERR_MMAP_TRUNCATED', size: newSize } },
      `${what}: next ${name}`,
    );
  }
  assert.equal(o.closedOk, true, `${what}: close()`);
  // Writes to vanished pages never reach the file: once re-grown it holds zeros there.
  if (kind !== 'anon') assert.equal(o.regrownTail, true, `${what}: a lost write reached the file`);
  assert.equal(o.remapError, undefined, `${what}: mapping the re-grown file: ${JSON.stringify(o.remapError)}`);
  assert.equal(o.remapLength, SIZE, what);
  // move(0, GONE) copies zeros over byte 0, which reaches the file unless the map is a copy.
  assert.equal(o.remapHead, target === 'zero' || (o.probe === 'move(from gone)' && kind !== 'copy') ? 0 : FILL, what);
  assert.equal(o.remapTail, 0, what);
  if (kind !== 'read') assert.equal(o.remapWrote, 0x42, what);
}

for (const kind of ['write', 'read', 'copy', 'anon']) {
  for (const target of ['zero', 'mid']) {
    const label = {
      write: 'ACCESS_WRITE file',
      read: 'ACCESS_READ file',
      copy: 'ACCESS_COPY file',
      anon: 'shared anonymous (memfd)',
    }[kind];
    test(
      `${label} truncated to ${target === 'zero' ? '0' : 'mid-page'}: every API method and raw view survives`,
      skipIf(onWindows, WINDOWS.sigbus),
      () => {
        const lines = run(kind, target, 'fd');
        const names = lines.map((o) => o.probe);
        // Every probe ran: 15 API reads, 19 raw-view reads, 7 raw-view writes, 7 API writes.
        assert.equal(names.length, kind === 'read' ? 41 : 48, names.join(','));
        for (const o of lines) checkLine(o, kind, target);
      },
    );
  }
}

test(
  'truncation by a second process (descriptor passed in stdio) is survived the same way',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const probes = ['get', 'readLine', 'view()[i]', 'Atomics.load', 'view write', 'set'];
    for (const [kind, target] of [
      ['write', 'zero'],
      ['read', 'mid'],
      ['anon', 'mid'],
      ['anon', 'zero'],
    ] as const) {
      const lines = run(kind, target, 'process', probes);
      assert.equal(lines.length, kind === 'read' ? 5 : 6);
      for (const o of lines) checkLine(o, kind, target);
    }
  },
);

function guard(mode: string, extra: string[] = [], timeout = 60_000) {
  return runFixture('crash-guard', [mode, dir, ...extra], { timeout, killSignal: 'SIGKILL' });
}

function lastJson(stdout: string): Line {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Line;
}

test(
  'a SIGBUS sent by kill() still kills the process (the guard swallows no real signal)',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'deno',
      'a SIGBUS sent by kill() does not end a Deno 2.9 process (the child printed that it survived), so the usual outcome of a real signal cannot be observed there',
    ),
  },
  () => {
    const r = guard('kill');
    assert.equal(r.signal, 'SIGBUS', `status ${r.status}, stdout ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /survived/);
  },
);

const FOREIGN = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
__attribute__((constructor)) static void touch_truncated(void) {
  char path[4096];
  const char *dir = getenv("FOREIGN_DIR");
  if (dir == NULL) return;
  snprintf(path, sizeof path, "%s/foreign-XXXXXX", dir);
  int fd = mkstemp(path);
  if (fd < 0 || ftruncate(fd, 4096) != 0) _exit(3);
  volatile unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED || ftruncate(fd, 0) != 0) _exit(4);
  unsigned char c = p[10]; /* SIGBUS (BUS_ADRERR) outside memmap's ranges */
  _exit(c == 0 ? 5 : 6);
}
`;

let foreignLib: string | undefined;

/** Builds FOREIGN once; null when there is no C compiler. */
function foreign(): string | null {
  if (foreignLib !== undefined) return foreignLib;
  if (spawnSync('gcc', ['--version']).status !== 0) return null;
  const src = join(dir, 'foreign.c');
  const lib = join(dir, 'foreign.so');
  writeFileSync(src, FOREIGN);
  const build = spawnSync('gcc', ['-shared', '-fPIC', '-O0', '-o', lib, src], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  foreignLib = lib;
  return lib;
}

test(
  "a hardware SIGBUS outside memmap's ranges still kills the process",
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      "Bun's process.dlopen loads only Node-API modules ('symbol napi_register_module_v1 not found'), and the test loads a plain shared object that faults outside memmap",
    ),
  },
  (t) => {
    const lib = foreign();
    if (lib === null) {
      t.skip('no C compiler to build the foreign library');
      return;
    }
    const r = guard('foreign', [lib]);
    assert.equal(r.signal, 'SIGBUS', `status ${r.status} (5/6: the fault was swallowed), stderr ${r.stderr}`);
    // With a JS listener, the handler below the guard is libuv's, which cannot fix a fault:
    // passing the fault to it repeated the access forever (SIGKILL at the timeout).
    const listening = runFixture('crash-guard', ['foreign', dir, lib], {
      timeout: 10_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, LISTENER: '1' },
    });
    assert.equal(
      listening.signal,
      'SIGBUS',
      `with a listener: status ${listening.status}, signal ${listening.signal} (SIGKILL: the fault repeated forever), stderr ${listening.stderr}`,
    );
  },
);

test(
  'kernel-side access to a vanished page (write/read syscalls with a view) is EFAULT, not a signal',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('efault');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      writeFrom: 'EFAULT',
      readInto: 'EFAULT',
      // The kernel's failed copy raises no SIGBUS, so the guard does not see it...
      faultedAfterKernel: false,
      // ...until the process itself touches the page.
      touch: 0,
      faulted: true,
      next: 'ERR_MMAP_TRUNCATED',
    });
  },
);

test('a fault inside a worker thread is caught the same way', skipIf(onWindows, WINDOWS.sigbus), () => {
  const r = guard('worker');
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(lastJson(r.stdout), { fromWorker: { touched: 0, faulted: true, next: 'ERR_MMAP_TRUNCATED' } });
});

test(
  'a windowed map (several Buffers over one mapping) is guarded over its whole range',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('windowed');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      sliceError: 'ERR_MMAP_TRUNCATED',
      faulted: true,
      early: FILL,
      lateView: 'ERR_MMAP_TRUNCATED',
      closed: true,
    });
  },
);

test(
  "a map at an offset, truncated below its start, reports the file's new size",
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('offset');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      touched: 0,
      readError: { code: 'ERR_MMAP_TRUNCATED', size: PAGESIZE },
      faulted: true,
    });
  },
);

test(
  'a process.on("SIGBUS") listener added after memmap loads does not disable the guard',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      'on Bun a process.on("SIGBUS") listener takes the signal from memmap\'s guard: a touch of a vanished page then never returns (the child is killed after 4 s)',
    ),
  },
  () => {
    const r = guard('listener-after', [], 4_000);
    assert.equal(r.signal, null, `ended by ${r.signal} (SIGKILL: hung in a fault loop)`);
    assert.deepEqual(lastJson(r.stdout), { listened: 0, touched: 0, faulted: true });
  },
);

test(
  'a SIGBUS from kill() handled by a JS listener does not disable the guard',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      'on Bun a process.on("SIGBUS") listener takes the signal from memmap\'s guard: a touch of a vanished page then never returns (the child is killed after 4 s)',
    ),
    ...skipOn(
      'deno',
      'Deno 2.9 does not deliver a SIGBUS sent by kill() to a process.on("SIGBUS") listener as Node does (the child ended by SIGBUS, or its listener never ran)',
    ),
  },
  () => {
    const r = guard('listener-kill', [], 4_000);
    assert.equal(r.signal, null, `ended by ${r.signal} (SIGKILL: hung in a fault loop)`);
    assert.deepEqual(lastJson(r.stdout), { listened: 1, touched: 0, faulted: true });
  },
);

test(
  'a listener added while a view is live, or added and removed, leaves the guard in place',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      'on Bun a process.on("SIGBUS") listener takes the signal from memmap\'s guard: a touch of a vanished page then never returns (the child is killed after 4 s)',
    ),
    ...skipOn(
      'deno',
      'Deno 2.9 handles SIGBUS itself once a JS listener exists: the guard is not reached (the child ended by SIGBUS or hung)',
    ),
  },
  () => {
    const late = guard('listener-late', [], 4_000);
    assert.equal(late.signal, null, `ended by ${late.signal} (SIGKILL: hung in a fault loop)`);
    assert.deepEqual(lastJson(late.stdout), { listened: 0, touched: 0, faulted: true });
    const removed = guard('listener-removed', [], 4_000);
    // The guard still works, and with no listener left a kill()ed SIGBUS is fatal again.
    assert.equal(removed.signal, 'SIGBUS', `status ${removed.status}, stdout ${removed.stdout}`);
    assert.deepEqual(JSON.parse(removed.stdout.trim().split('\n')[0]!), { listened: 0, touched: 0, faulted: true });
    assert.doesNotMatch(removed.stdout, /survived/);
  },
);

test(
  'a truncated file read or written on other threads (zlib, pbkdf2 on the thread pool) is caught too',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('threadpool');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      deflated: true,
      pbkdf2Length: 32,
      faulted: true,
      next: 'ERR_MMAP_TRUNCATED',
    });
  },
);

test(
  'system calls over vanished pages that touch nothing (flush, madvise, residency, resize) fault nothing',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('kernel-calls');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      flush: null,
      flushAsync: null,
      residency: null,
      willneed: null,
      dontneed: null,
      size: 0,
      // mlock has to read the pages in and cannot: a system error, not a signal (the ASan runtime
      // replaces mlock with a no-op that succeeds)
      lock: process.env.MEMMAP_ASAN === '1' ? null : 'ENOMEM',
      faulted: false,
      // resize() grows the file back, so the map is whole again
      resized: null,
      afterResize: 0,
      faultedAfterResize: false,
    });
  },
);

test(
  'faulted is per map: a second map of the same truncated file is unaffected until touched',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    const r = guard('two-maps');
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), {
      firstFaulted: true,
      secondBefore: false,
      secondRead: 0xab,
      secondTouch: 'ERR_MMAP_TRUNCATED',
      secondAfter: true,
    });
  },
);

test(
  'a fault rescues the whole vanished tail at once: 35,000 faulting reads of a 70,000-page map leave a few mappings',
  skipIf(onWindows, WINDOWS.sigbus),
  () => {
    // Rescuing one page per fault split the mapping at each fault: past vm.max_map_count
    // (65,530 by default) the rescue itself failed and the process died of SIGBUS.
    const r = guard('many-pages');
    assert.equal(r.signal, null, `ended by ${r.signal}; stderr ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const { up, down } = lastJson(r.stdout);
    const common = {
      kept: 500,
      zeros: 34_500,
      faulted: true,
      next: 'ERR_MMAP_TRUNCATED',
      closed: true,
      markKept: 0x5a,
    };
    // Upwards, the first fault past the end replaces every later page: one rescue.
    assert.deepEqual({ ...up, mappingsAdded: undefined }, { ...common, rescues: 1, mappingsAdded: undefined });
    // Downwards, every read faults (34,500 rescues), each ending where the last one began.
    assert.deepEqual({ ...down, mappingsAdded: undefined }, { ...common, rescues: 34_500, mappingsAdded: undefined });
    // The map becomes two mappings (file pages, then zeros) whichever way it was read; the rest
    // of /proc/self/maps moves by a few as the runtime allocates.
    assert.ok(up.mappingsAdded <= 16, `upwards: ${up.mappingsAdded} mappings added`);
    assert.ok(down.mappingsAdded <= 16, `downwards: ${down.mappingsAdded} mappings added`);
  },
);

// memmap loaded only in a worker; the main thread, which never loads it, adds SIGBUS
// listeners (test/fixtures/crash-signals.ts). libuv's signal handling is process-wide: the
// first listener used to replace the guard, and removing the last one reset SIGBUS to the
// default action. memmap now holds a libuv watcher of its own, so neither happens.
function signals(mode: string, extra: string[] = []) {
  return runFixture('crash-signals', [mode, dir, ...extra], { timeout: 10_000, killSignal: 'SIGKILL' });
}

const WORKER_READ = { fromWorker: { head: 0xab, touched: 0, faulted: true, next: 'ERR_MMAP_TRUNCATED' }, exitCode: 0 };

test(
  'memmap only in a worker, a SIGBUS listener added and removed on the main thread: a truncation is still caught',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      "Bun's Node-API has no libuv, so memmap cannot hold its process-wide SIGBUS watcher there: a listener added or removed on another thread than the one that loaded memmap changes the process's SIGBUS handler under the guard (README, Platform support)",
    ),
    ...skipOn(
      'deno',
      "Deno's Node-API has no libuv, so memmap cannot hold its process-wide SIGBUS watcher there: a listener added or removed on another thread than the one that loaded memmap changes the process's SIGBUS handler under the guard (README, Platform support)",
    ),
  },
  () => {
    const r = signals('removed');
    assert.equal(
      r.signal,
      null,
      `ended by ${r.signal} (SIGBUS: the guard was reset; SIGKILL: hung); stderr ${r.stderr}`,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), WORKER_READ);
    // With no listener left anywhere, a SIGBUS sent by kill() has its default action again.
    const killed = signals('removed-kill');
    assert.equal(killed.signal, 'SIGBUS', `status ${killed.status}, stdout ${killed.stdout}`);
    assert.deepEqual(JSON.parse(killed.stdout.trim().split('\n')[0]!), WORKER_READ);
  },
);

test(
  'memmap only in a worker, a SIGBUS listener kept on the main thread: no fault loop, and kill() still reaches the listener',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      "Bun's Node-API has no libuv, so memmap cannot hold its process-wide SIGBUS watcher there: a listener added or removed on another thread than the one that loaded memmap changes the process's SIGBUS handler under the guard (README, Platform support)",
    ),
    ...skipOn(
      'deno',
      "Deno's Node-API has no libuv, so memmap cannot hold its process-wide SIGBUS watcher there: a listener added or removed on another thread than the one that loaded memmap changes the process's SIGBUS handler under the guard (README, Platform support)",
    ),
  },
  () => {
    const r = signals('kept');
    assert.equal(r.signal, null, `ended by ${r.signal} (SIGKILL: hung in a fault loop); stderr ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const [read, after] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(read, WORKER_READ);
    assert.deepEqual(after, { listened: 1 });
  },
);

test(
  'memmap only in a worker, a SIGBUS listener on the main thread: a hardware SIGBUS outside memmap still kills',
  {
    ...skipIf(onWindows, WINDOWS.sigbus),
    ...skipOn(
      'bun',
      "Bun's process.dlopen loads only Node-API modules, and the test loads a plain shared object that faults outside memmap",
    ),
    ...skipOn(
      'deno',
      "Deno's Node-API has no libuv, so memmap cannot hold its process-wide SIGBUS watcher there: a listener added or removed on another thread than the one that loaded memmap changes the process's SIGBUS handler under the guard (README, Platform support)",
    ),
  },
  (t) => {
    const lib = foreign();
    if (lib === null) {
      t.skip('no C compiler to build the foreign library');
      return;
    }
    const r = signals('foreign', [lib]);
    assert.equal(
      r.signal,
      'SIGBUS',
      `status ${r.status}, signal ${r.signal} (SIGKILL: the fault repeated forever), stdout ${r.stdout}, stderr ${r.stderr}`,
    );
  },
);
