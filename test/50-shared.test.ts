/**
 * Memory shared with other processes and threads: Python's "fork and share an anonymous map"
 * example in Node terms. Shared anonymous memory (`new Mmap(-1, n)`) lives in a memory file
 * whose descriptor, `mm.fd`, is handed to a child process (as fd 3) or to a worker thread,
 * which maps it again. Both sides then talk through the memory: each test checks both
 * directions, while both sides are alive, with a handshake of Atomics over a few Int32 slots
 * (test/fixtures/shared-sync.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fstatSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

import { ACCESS_COPY, MAP_PRIVATE, Mmap, PAGESIZE } from '../src/index.js';
import { A, B, CHILD, PARENT, SLOTS_BYTES, invert, slots } from './fixtures/shared-sync.js';
import { fixture, makeFile, openFd, runFixture, scratchDir, skipOn, onWindows, skipIf, WINDOWS } from './helpers.js';

const DENO_FD = skipOn(
  'deno',
  "Deno's node:fs knows only descriptors Deno opened itself: fstat of mm.fd, a descriptor the addon made, is EBADF there",
);

const dir = scratchDir();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A child process running test/fixtures/shared-child with `fd` as its fd 3. */
function startChild(fd: number, args: string[]) {
  const child = spawn(process.execPath, [fixture('shared-child'), ...args], { stdio: ['ignore', 'pipe', 'pipe', fd] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const state = { exited: false, stderr: () => stderr };
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; out: Record<string, unknown> }>(
    (resolve) => {
      child.on('close', (status, signal) => {
        state.exited = true;
        let out: Record<string, unknown> = {};
        try {
          out = JSON.parse(stdout);
        } catch {
          out = { unparsed: stdout, stderr };
        }
        resolve({ status, signal, out });
      });
    },
  );
  return { state, done };
}

/** Polls until the other side stores `value` in slot `i` (the parent must not block its loop). */
async function untilSlot(
  s: () => Int32Array,
  i: number,
  value: number,
  other: { exited: boolean; stderr?: () => string },
) {
  while (Atomics.load(s(), i) !== value) {
    if (other.exited)
      throw new Error(`the other side ended before slot ${i} became ${value}: ${other.stderr?.() ?? ''}`);
    await sleep(1);
  }
}

/** The parent side of the "exchange" protocol, shared by the process and thread tests. */
async function exchange(mm: Mmap, other: { exited: boolean; stderr?: () => string }) {
  const s = slots(mm);
  const first = randomBytes(48);
  const second = randomBytes(40);
  const answerAt = mm.length - PAGESIZE + 100; // on another page than the payload
  await untilSlot(() => s, CHILD, 1, other);
  // written only now that the other side has mapped the memory: it cannot have been copied
  mm.setSlice(SLOTS_BYTES, SLOTS_BYTES + first.length, first);
  Atomics.store(s, A, first.length);
  Atomics.store(s, B, answerAt);
  Atomics.store(s, PARENT, 1);
  await untilSlot(() => s, CHILD, 2, other);
  const answer = mm.slice(answerAt, answerAt + first.length);
  mm.setSlice(SLOTS_BYTES, SLOTS_BYTES + second.length, second);
  Atomics.store(s, A, second.length);
  Atomics.store(s, PARENT, 2);
  return { first, second, answer };
}

test(
  "shared anonymous memory: a child process maps mm.fd and both see each other's writes",
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000, ...DENO_FD },
  async () => {
    using mm = new Mmap(-1, 4 * PAGESIZE);
    assert.ok(mm.fd >= 0, 'shared anonymous memory has a descriptor');
    assert.equal(fstatSync(mm.fd).size, 4 * PAGESIZE);
    const child = startChild(mm.fd, ['exchange', String(mm.length)]);
    const { first, second, answer } = await exchange(mm, child.state);
    const { status, signal, out } = await child.done;
    assert.deepEqual({ status, signal }, { status: 0, signal: null }, JSON.stringify(out));
    assert.equal(out.length, 4 * PAGESIZE);
    assert.equal(out.first, hex(first), 'the child read what the parent wrote');
    assert.equal(hex(answer), hex(invert(first)), 'the parent read what the child wrote');
    assert.equal(out.second, hex(second), 'a later write by the parent reached the running child');
  },
);

test(
  'shared anonymous memory grown by resize(): the child maps the larger size and sees the data',
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000, ...DENO_FD },
  async () => {
    const small = PAGESIZE;
    const big = 5 * PAGESIZE;
    using mm = new Mmap(-1, small);
    const head = randomBytes(32);
    mm.setSlice(SLOTS_BYTES, SLOTS_BYTES + head.length, head);
    const child = startChild(mm.fd, ['grow', String(small), String(big)]);
    await untilSlot(() => slots(mm), CHILD, 1, child.state);
    const view = mm.view();
    mm.resize(big);
    assert.ok(view.length === small && view.every((b) => b === 0), 'the old view reads zeros after resize');
    assert.equal(mm.length, big);
    assert.equal(fstatSync(mm.fd).size, big, 'the memory file grew');
    assert.equal(hex(mm.slice(SLOTS_BYTES, SLOTS_BYTES + head.length)), hex(head), 'the data survived the resize');
    assert.ok(
      mm.slice(small, big).every((b) => b === 0),
      'the new tail is zero-filled',
    );
    const tail = randomBytes(head.length);
    const tailAt = big - PAGESIZE + 8;
    mm.setSlice(tailAt, tailAt + tail.length, tail);
    const s = slots(mm); // the old slots read zeros with the old view
    Atomics.store(s, A, head.length);
    Atomics.store(s, B, tailAt);
    Atomics.store(s, PARENT, 1);
    await untilSlot(() => s, CHILD, 2, child.state);
    const answer = mm.slice(tailAt + tail.length, tailAt + 2 * tail.length);
    const { status, signal, out } = await child.done;
    assert.deepEqual({ status, signal }, { status: 0, signal: null }, JSON.stringify(out));
    assert.equal(out.sizeBefore, small);
    assert.equal(out.bigBefore, 'ERR_OUT_OF_RANGE', 'before the resize the child could not map the larger size');
    assert.equal(out.sizeAfter, big);
    assert.equal(out.length, big);
    assert.equal(out.head, hex(head), 'the child sees the data written before the resize');
    assert.equal(out.headSmallMap, hex(head), 'its first, smaller map still works');
    assert.equal(out.tail, hex(tail), 'the child sees the data written in the grown part');
    assert.equal(hex(answer), hex(invert(tail)), "the parent sees the child's write in the grown part");
  },
);

test('a file-backed MAP_SHARED map shared with a child process the same way', { timeout: 60_000 }, async () => {
  const size = 3 * PAGESIZE;
  const path = makeFile(dir, Buffer.alloc(size, 0x2e));
  const fd = openFd(path);
  using mm = new Mmap(fd, size);
  assert.notEqual(mm.fd, fd, 'the map holds its own duplicate');
  const child = startChild(mm.fd, ['exchange', '0']);
  const { first, second, answer } = await exchange(mm, child.state);
  const { status, signal, out } = await child.done;
  assert.deepEqual({ status, signal }, { status: 0, signal: null }, JSON.stringify(out));
  assert.equal(out.length, size, 'length 0 mapped the whole file');
  assert.equal(out.first, hex(first));
  assert.equal(hex(answer), hex(invert(first)));
  assert.equal(out.second, hex(second));
  const disk = readFileSync(path);
  assert.equal(
    hex(disk.subarray(SLOTS_BYTES, SLOTS_BYTES + second.length)),
    hex(second),
    "the file holds the parent's write",
  );
  const answerAt = size - PAGESIZE + 100;
  assert.equal(
    hex(disk.subarray(answerAt, answerAt + first.length)),
    hex(invert(first)),
    "the file holds the child's write",
  );
});

test(
  'a MAP_PRIVATE anonymous map has no descriptor; trackfd: false keeps none either',
  skipIf(onWindows, WINDOWS.flags),
  () => {
    using priv = new Mmap(-1, PAGESIZE, { flags: MAP_PRIVATE });
    assert.equal(priv.fd, -1);
    priv.set(0, 7);
    assert.equal(priv.get(0), 7);
    using untracked = new Mmap(-1, PAGESIZE, { trackfd: false });
    assert.equal(untracked.fd, -1);
    using shared = new Mmap(-1, PAGESIZE);
    assert.ok(shared.fd >= 0);
    shared.close();
    assert.equal(shared.fd, -1, 'a closed map holds no descriptor');
  },
);

test('ACCESS_COPY changes are not seen by the other side, in either direction', { timeout: 60_000 }, async () => {
  const length = 4 * PAGESIZE;
  const n = 16;
  // Shared memory with a descriptor to pass: a memory file, or on Windows, where anonymous
  // memory has no descriptor (mm.fd is -1), a file.
  using mm = onWindows ? new Mmap(openFd(makeFile(dir, Buffer.alloc(length))), length) : new Mmap(-1, length);
  using copy = new Mmap(mm.fd, length, { access: ACCESS_COPY });
  const child = startChild(mm.fd, ['copy', String(length)]);
  const s = slots(mm);
  await untilSlot(() => s, CHILD, 1, child.state);
  mm.setSlice(PAGESIZE, PAGESIZE + n, Buffer.alloc(n, 0xba)); // "base", shared
  copy.setSlice(PAGESIZE, PAGESIZE + n, Buffer.alloc(n, 0xcc)); // private to this process
  Atomics.store(s, A, n);
  Atomics.store(s, B, PAGESIZE);
  Atomics.store(s, PARENT, 1);
  await untilSlot(() => s, CHILD, 2, child.state);
  const sharedPage2 = mm.slice(2 * PAGESIZE, 2 * PAGESIZE + n);
  const sharedPage3 = mm.slice(3 * PAGESIZE, 3 * PAGESIZE + n);
  const copyPage3 = copy.slice(3 * PAGESIZE, 3 * PAGESIZE + n);
  mm.setSlice(2 * PAGESIZE, 2 * PAGESIZE + n, Buffer.alloc(n, 0x1a)); // lands under the child's private page
  Atomics.store(s, PARENT, 2);
  const { status, signal, out } = await child.done;
  assert.deepEqual({ status, signal }, { status: 0, signal: null }, JSON.stringify(out));
  const fill = (byte: number) => hex(Buffer.alloc(n, byte));

  assert.equal(out.copyFd, true, 'an ACCESS_COPY map of a descriptor keeps a duplicate');
  assert.equal(out.sharedPage1, fill(0xba), "the child sees the parent's shared write, not its copy-on-write one");
  assert.equal(out.copyPage1, fill(0xba), "the child's untouched copy-on-write page shows the shared memory");
  assert.equal(hex(copy.slice(PAGESIZE, PAGESIZE + n)), fill(0xcc), 'the parent keeps its private change');
  assert.equal(hex(mm.slice(PAGESIZE, PAGESIZE + n)), fill(0xba), 'which never reached the shared memory');

  assert.equal(out.copyPage2, fill(0xc2), 'the child reads its own private change');
  assert.equal(out.sharedPage2, fill(0), "the child's private change is not in the shared memory");
  assert.equal(hex(sharedPage2), fill(0), 'and the parent does not see it');
  assert.equal(hex(sharedPage3), fill(0x53), "the child's shared write reached the parent");
  assert.equal(hex(copyPage3), fill(0x53), 'an untouched copy-on-write page of the parent shows it too');

  assert.equal(out.sharedPage2Late, fill(0x1a), "the parent's later shared write reached the child");
  assert.equal(out.copyPage2Late, fill(0xc2), "but not the child's page it had changed privately");
});

test(
  'another holder shrinking the shared memory: this process gets ERR_MMAP_TRUNCATED, not a crash',
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000, ...DENO_FD },
  () => {
    // crash-type: the touch of a vanished page happens in a child process
    const r = runFixture('shared-child', ['shrunk']);
    assert.deepEqual({ status: r.status, signal: r.signal }, { status: 0, signal: null }, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out, { fileSize: 4096, viewByte: 0, faulted: true, next: 'ERR_MMAP_TRUNCATED', closed: true });
  },
);

test(
  'a worker thread maps mm.fd from workerData: writes seen both ways, Atomics on the same memory',
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000 },
  async () => {
    using mm = new Mmap(-1, 2 * PAGESIZE);
    const count = 200_000;
    const worker = new Worker(new URL('./fixtures/shared-worker.js', import.meta.url), {
      workerData: { mode: 'exchange', fd: mm.fd, length: mm.length, count },
    });
    const messages: Array<Record<string, unknown>> = [];
    const state = { exited: false, error: undefined as unknown };
    worker.on('message', (m) => messages.push(m));
    worker.on('error', (e) => {
      state.error = e;
    });
    const exited = new Promise<number>((resolve) =>
      worker.on('exit', (code) => {
        state.exited = true;
        resolve(code);
      }),
    );
    const other = {
      get exited() {
        return state.exited;
      },
      stderr: () => String(state.error),
    };
    const { first, second, answer } = await exchange(mm, other);
    // both threads add to the same Int32 at the same time; only one shared memory gives 2·count
    const s = slots(mm);
    await untilSlot(() => s, CHILD, 3, other);
    Atomics.store(s, B, 0);
    Atomics.store(s, PARENT, 3);
    for (let i = 0; i < count; i++) Atomics.add(s, B, 1);
    await untilSlot(() => s, CHILD, 4, other);
    const code = await exited;
    assert.equal(state.error, undefined);
    assert.equal(code, 0);
    assert.deepEqual(messages, [{ first: hex(first) }, { second: hex(second) }, { done: true }]);
    assert.equal(hex(answer), hex(invert(first)), 'the main thread read what the worker wrote');
    assert.equal(Atomics.load(s, B), 2 * count);
    assert.equal(mm.length, 2 * PAGESIZE, 'the worker closing its map leaves this one alone');
  },
);

test(
  'a worker thread grows the shared memory; the main thread maps the larger size and sees its writes',
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000, ...DENO_FD },
  async () => {
    using mm = new Mmap(-1, PAGESIZE);
    const head = randomBytes(16);
    mm.setSlice(SLOTS_BYTES, SLOTS_BYTES + 16, head);
    const worker = new Worker(new URL('./fixtures/shared-worker.js', import.meta.url), {
      workerData: { mode: 'grow', fd: mm.fd, length: mm.length },
    });
    const [reply] = await Promise.all([
      new Promise<{ grown: number; head: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      new Promise((resolve) => worker.once('exit', resolve)),
    ]);
    assert.equal(reply.grown, 3 * PAGESIZE);
    assert.equal(reply.head, hex(head), "the worker saw the main thread's data");
    assert.equal(mm.length, PAGESIZE, 'this map keeps its own length');
    assert.equal(mm.size(), PAGESIZE, "size() of anonymous memory is the map's length");
    assert.equal(fstatSync(mm.fd).size, 3 * PAGESIZE, 'the memory file grew');
    using bigger = new Mmap(mm.fd, 0);
    assert.equal(bigger.length, 3 * PAGESIZE, 'length 0 maps the grown memory file');
    assert.equal(hex(bigger.slice(3 * PAGESIZE - 16)), hex(Buffer.alloc(16, 0xa7)));
    assert.equal(hex(bigger.slice(SLOTS_BYTES, SLOTS_BYTES + 16)), hex(head));
    bigger.set(SLOTS_BYTES, 0x42);
    assert.equal(mm.get(SLOTS_BYTES), 0x42, 'two maps of one memory file in one process share it');
  },
);

test(
  'terminating worker threads that hold maps, views and a flushAsync() does not crash the process',
  { ...skipIf(onWindows, WINDOWS.memoryFile), timeout: 60_000 },
  () => {
    const path = makeFile(dir, Buffer.alloc(2 * PAGESIZE, 0x61));
    const rounds = 3;
    const r = runFixture('shared-terminate', [path, String(rounds)], {
      env: { ...process.env, NODE_OPTIONS: '--expose-gc' },
    });
    assert.deepEqual({ status: r.status, signal: r.signal }, { status: 0, signal: null }, r.stderr);
    const summary = JSON.parse(r.stdout) as { ended: number[]; counter: number; shared: string; fileLength: number };
    assert.equal(summary.ended.length, 3 * rounds, 'every worker was terminated');
    assert.ok(summary.counter >= 100 * 2 * rounds, `the busy workers really touched the memory (${summary.counter})`);
    assert.equal(summary.shared, 'live', 'the shared memory still works in the surviving process');
    assert.equal(summary.fileLength, 2 * PAGESIZE);
  },
);
