/**
 * mm.wait() / mm.waitAsync() / mm.notify(): a futex on a 32-bit word of a shared map, across
 * threads and processes (test/fixtures/futex-peer.ts is the other side).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

import { ACCESS_COPY, ACCESS_READ, ACCESS_WRITE, MAP_PRIVATE, Mmap } from '../src/index.js';
import { fixture, makeFile, runFixture, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();

/** Waits (without blocking the loop) until word `index` of mm holds `value`. */
async function until(mm: Mmap, index: number, value: number): Promise<void> {
  const words = mm.view(Int32Array, 0, 4);
  const deadline = Date.now() + 20_000;
  while (Atomics.load(words, index) !== value) {
    if (Date.now() > deadline) throw new Error(`word ${index} never became ${value}`);
    await sleep(2);
  }
}

/** The parent's side: wake the peer's wait() on word 0 (once it sleeps), and be woken on word 4. */
async function wakeEachOther(mm: Mmap, result: Promise<{ woken: string; notified: number }>) {
  const mine = mm.waitAsync(4, 0, 20_000);
  await until(mm, 2, 1);
  let notified = 0;
  const deadline = Date.now() + 20_000;
  while (notified === 0 && Date.now() < deadline) {
    notified = mm.notify(0);
    if (notified === 0) await sleep(2);
  }
  assert.equal(notified, 1, 'the peer was asleep in wait() and this woke it');
  assert.equal(await mine, 'ok', 'the peer woke this waitAsync()');
  assert.deepEqual(await result, { woken: 'ok', notified: 1 });
}

describe('wait / waitAsync / notify', skipIf(onWindows, WINDOWS.wait), () => {
  test('a thread and a worker wake each other', async () => {
    using mm = new Mmap(-1, 4096);
    const worker = new Worker(fixture('futex-peer'), { workerData: { fd: mm.fd } });
    // Listen for 'exit' before anything is awaited: the worker may be gone by then.
    const exited = once(worker, 'exit');
    const result = once(worker, 'message').then(([m]) => m as { woken: string; notified: number });
    await wakeEachOther(mm, result);
    await exited;
  });

  test('a process and another process wake each other', async () => {
    using mm = new Mmap(-1, 4096);
    const child = spawn(process.execPath, [fixture('futex-peer'), 'peer', '3'], {
      stdio: ['ignore', 'pipe', 'inherit', mm.fd],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    const result = once(child, 'exit').then(() => JSON.parse(out) as { woken: string; notified: number });
    await wakeEachOther(mm, result);
  });

  test('8 processes build a mutex on one word and count to an exact total', { timeout: 120_000 }, async () => {
    const path = makeFile(dir, Buffer.alloc(4096));
    const COUNT = 5000;
    const children = Array.from({ length: 8 }, () => {
      const child = spawn(process.execPath, [fixture('futex-peer'), 'mutex', path, String(COUNT)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      return once(child, 'exit').then(([code]) => {
        assert.equal(code, 0);
        return Number(out);
      });
    });
    // The children start together: each adds 1 to byte 16 and sleeps on byte 12 until this
    // sets it and wakes them all.
    using gate = Mmap.open(path, { access: ACCESS_WRITE });
    const words = gate.view(Int32Array, 0, 8);
    while (Atomics.load(words, 4) < 8) await sleep(5);
    Atomics.store(words, 3, 1);
    gate.notify(12);
    const slept = (await Promise.all(children)).reduce((a, b) => a + b, 0);
    using mm = Mmap.open(path);
    assert.equal(mm.view(Int32Array, 8, 1)[0], 8 * COUNT);
    assert.equal(mm.view(Int32Array, 0, 1)[0], 0, 'the mutex is free at the end');
    console.log(`# 8 × ${COUNT} increments; the processes slept ${slept} times in wait()`);
  });

  test('results: not-equal, timed-out, ok; expected as signed or unsigned', async () => {
    using mm = new Mmap(-1, 4096);
    const words = mm.view(Int32Array, 0, 4);
    assert.equal(mm.wait(0, 1), 'not-equal');
    let t0 = performance.now();
    assert.equal(mm.wait(0, 0, 60), 'timed-out');
    assert.ok(performance.now() - t0 >= 55);
    assert.equal(mm.wait(0, 0, 0), 'timed-out');
    assert.equal(mm.wait(0, 0, -5), 'timed-out', 'a negative timeout is 0, as in Atomics.wait');
    words[1] = -1;
    assert.equal(mm.wait(4, 0xffffffff, 0), 'timed-out', '0xffffffff is -1');
    assert.equal(mm.wait(4, -1, 0), 'timed-out');
    t0 = performance.now();
    assert.equal(await mm.waitAsync(0, 0, 60), 'timed-out');
    assert.ok(performance.now() - t0 >= 55);
    assert.equal(await mm.waitAsync(0, 7), 'not-equal');
    // A slice boundary (50 ms) inside the wait does not end it early.
    t0 = performance.now();
    assert.equal(await mm.waitAsync(0, 0, 130), 'timed-out');
    assert.ok(performance.now() - t0 >= 125);
    // Woken by a notify() on the same thread while the event loop runs.
    const p = mm.waitAsync(0, 0);
    let n = 0;
    while (n === 0) {
      await sleep(2);
      n = mm.notify(0, 1);
    }
    assert.equal(n, 1);
    assert.equal(await p, 'ok');
    assert.equal(mm.notify(0), 0, 'nobody left');
  });

  test('close() wakes a pending waitAsync, which rejects ERR_MMAP_CLOSED; a closed map refuses', async () => {
    const mm = new Mmap(-1, 4096);
    const pending = mm.waitAsync(0, 0);
    const timed = mm.waitAsync(8, 0, 60_000);
    await sleep(20);
    const t0 = performance.now();
    mm.close();
    await Promise.all([
      assert.rejects(pending, { code: 'ERR_MMAP_CLOSED' }),
      assert.rejects(timed, { code: 'ERR_MMAP_CLOSED' }),
    ]);
    assert.ok(performance.now() - t0 < 1000);
    assert.throws(() => mm.wait(0, 0, 10), { code: 'ERR_MMAP_CLOSED' });
    assert.throws(() => mm.notify(0), { code: 'ERR_MMAP_CLOSED' });
    await assert.rejects(mm.waitAsync(0, 0, 10), { code: 'ERR_MMAP_CLOSED' });
  });

  test('resize() is refused while a waitAsync is pending', async () => {
    using mm = new Mmap(-1, 4096);
    const p = mm.waitAsync(0, 0, 5_000);
    assert.throws(() => mm.resize(8192), { code: 'ERR_MMAP_BUSY' });
    mm.notify(0);
    while ((await Promise.race([p, sleep(5, 'pending')])) === 'pending') mm.notify(0);
    mm.resize(8192);
    assert.equal(mm.length, 8192);
  });

  test('bad arguments get coded errors', async () => {
    using mm = new Mmap(-1, 4096);
    assert.throws(() => mm.wait(2, 0, 0), { name: 'RangeError', code: 'ERR_MMAP_UNALIGNED' });
    assert.throws(() => mm.notify(6), { code: 'ERR_MMAP_UNALIGNED' });
    assert.throws(() => mm.wait(4096, 0, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.wait(4093, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.wait(-4, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.wait(1.5, 0, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.wait(0, 2 ** 32, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.wait(0, -(2 ** 31) - 1, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.wait(0, 0.5, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.wait(0, 0, NaN), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.wait(0, 0, '5' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.notify(0, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.notify(0, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(mm.waitAsync(2, 0), { code: 'ERR_MMAP_UNALIGNED' });
    await assert.rejects((Mmap.prototype.waitAsync as Function).call({}, 0, 0), { code: 'ERR_INVALID_THIS' });
    assert.throws(() => (Mmap.prototype.wait as Function).call({}, 0, 0), { code: 'ERR_INVALID_THIS' });
    // Private maps: the kernel keys their words by this process's address.
    const path = makeFile(dir, Buffer.alloc(4096));
    for (const m of [
      Mmap.open(path, { access: ACCESS_READ }),
      Mmap.open(path, { access: ACCESS_COPY }),
      new Mmap(-1, 4096, { flags: MAP_PRIVATE }),
    ]) {
      assert.throws(() => m.wait(0, 0, 0), { code: 'ERR_MMAP_WAIT_UNSUPPORTED' });
      assert.throws(() => m.notify(0), { code: 'ERR_MMAP_WAIT_UNSUPPORTED' });
      m.close();
    }
    using w = Mmap.open(path, { access: ACCESS_WRITE });
    assert.equal(w.wait(0, 0, 1), 'timed-out', 'a shared file map works');
  });

  test('worker.terminate() with waitAsync() calls pending ends the worker at once', async () => {
    const worker = new Worker(fixture('futex-terminate'));
    await once(worker, 'message');
    await sleep(20);
    const t0 = performance.now();
    const code = await Promise.race([worker.terminate(), sleep(10_000, 'hung')]);
    assert.equal(code, 1, 'terminated');
    assert.ok(performance.now() - t0 < 5_000);
  });

  test('pending waits do not hold the thread pool: fs still works with 16 waiting', async () => {
    using mm = new Mmap(-1, 4096);
    const waits = Array.from({ length: 16 }, (_, i) => mm.waitAsync(4 * i, 0, 30_000));
    const path = makeFile(dir, 'pool');
    const { readFile } = await import('node:fs/promises');
    const read = await Promise.race([readFile(path, 'utf8'), sleep(5_000, 'starved')]);
    assert.equal(read, 'pool');
    mm.close();
    const results = await Promise.allSettled(waits);
    assert.ok(
      results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ERR_MMAP_CLOSED'),
    );
  });

  test('a process that exits with a waitAsync pending on a closed map does not crash', () => {
    const r = runFixture('futex-close', [join(dir, 'unused')]);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rejected ERR_MMAP_CLOSED/);
  });
});
