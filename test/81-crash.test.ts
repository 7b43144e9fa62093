/**
 * Crash tests: a child process (test/fixtures/crash-misc.ts) does something dangerous to live
 * maps, and the parent asserts how it ended — a clean exit code and the right error, never a
 * signal.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { PAGESIZE } from '../src/index.js';
import { runFixture, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();

function child(mode: string, expectedStatus = 0, nodeArgs: string[] = []) {
  const r =
    nodeArgs.length === 0
      ? runFixture('crash-misc', [mode, dir])
      : runFixture('crash-misc', [mode, dir], { env: { ...process.env, NODE_OPTIONS: nodeArgs.join(' ') } });
  assert.equal(r.signal, null, `${mode}: the child died of ${r.signal}; stderr: ${r.stderr}`);
  assert.equal(r.status, expectedStatus, `${mode}: exit status; stderr: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return { ...r, json: lines.length ? JSON.parse(lines[lines.length - 1]!) : null };
}

const READONLY = { name: 'TypeError', code: 'ERR_MMAP_READONLY' };

test(
  'writes through views of a read-only map stay in this process and never reach the file',
  skipIf(onWindows, WINDOWS.flags),
  () => {
    const { json } = child('readonly-view-write');
    for (const name of ['access', 'prot']) {
      assert.deepEqual(
        json[name],
        {
          seen: [1, 7, 0xdeadbeef, 'hello'],
          write: READONLY,
          set: READONLY,
          setSlice: READONLY,
          resize: { name: 'TypeError', code: 'ERR_MMAP_NOT_RESIZABLE' },
          flush: null,
        },
        name,
      );
    }
    assert.equal(json.fileUnchanged, true);
    assert.equal(json.freshMapUnchanged, true);
    assert.equal(json.fileUnchangedAfterClose, true);
  },
);

test(
  'close() while flushAsync() calls are in flight: they settle, the data is written, no crash',
  skipIf(onWindows, WINDOWS.zeroInPlace),
  () => {
    const { json } = child('close-during-flush', 0, ['--expose-gc']);
    assert.deepEqual(json, {
      afterClose: { viewLength: 32 * 1024 * 1024, closed: true },
      viewZeroOnceSettled: true,
      late: 'ERR_MMAP_CLOSED',
      settled: ['fulfilled', 'fulfilled', 'fulfilled'],
      fileWritten: true,
    });
  },
);

test('process.exit() while a flushAsync() is in flight exits cleanly', () => {
  const r = child('exit-during-flush');
  assert.deepEqual(r.json, { started: true });
  // MAP_SHARED writes are in the page cache whether or not the flush finished.
  const bytes = readFileSync(join(dir, 'exitflush.bin'));
  assert.ok(bytes.every((b) => b === 0x33));
});

test('worker threads terminated while they hold maps, views and a flush: clean exit', () => {
  const { json } = child('worker-terminate', 0, ['--expose-gc']);
  assert.equal(json.results.length, 4);
  for (const r of json.results) {
    assert.deepEqual(r, { exitCode: 1, counterPositive: true, viewByte: 2, remapped: 2 });
  }
  assert.equal(json.held, 100);
  assert.equal(json.normalExit, 0);
});

test('the process ends normally with every kind of map open', () => {
  const r = child('exit-normal');
  assert.deepEqual(r.json, { open: 5 });
  assert.equal(r.stderr, '');
  assert.equal(readFileSync(join(dir, 'exit-normal.bin'))[1], 2);
});

test('process.exit() in the middle of writing through views exits with its code', () => {
  const r = child('exit-mid', 7);
  assert.deepEqual(r.json, { writing: true });
  const bytes = readFileSync(join(dir, 'exit-mid.bin'));
  // Writes made before the exit are in the file: byte (100000 % PAGESIZE) got 100000 & 0xff.
  assert.equal(bytes[100_000 % PAGESIZE], 100_000 & 0xff);
});

test('an uncaught exception in the middle of writing ends with status 1, not a signal', () => {
  const r = child('throw-mid', 1);
  assert.match(r.stderr, /thrown in the middle of writing/);
});
