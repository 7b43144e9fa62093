/**
 * Results past 2^32 must not depend on the runtime. Node 22 and 24's `Buffer#indexOf` and
 * `lastIndexOf` wrap past 2^32, Node 26's `indexOf` mis-handles a start offset past 2^32, and
 * Deno reads zeros from a map past 4 GiB; memmap never gives any of them a Buffer that large.
 * Every method that searches or copies is checked here at offsets above 2^32, on a sparse file
 * just over 4 GiB and on a 6 GiB one, against read(2)/write(2) on the file itself.
 */
import assert from 'node:assert/strict';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { ACCESS_WRITE, Mmap } from '../src/index.js';
import { removeFile, scratchDir } from './helpers.js';

const dir = scratchDir();
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const FOUR_GIB = 2 ** 32;

/** A fresh sparse file of `size` bytes with `marks` written at their offsets, or null (test
 * skipped) where the filesystem cannot hold it sparse. */
function sparseFile(t: TestContext, size: number, marks: Array<[number, string]>): string | null {
  const path = join(dir, `f${size}-${Math.random().toString(36).slice(2)}.bin`);
  let fd = -1;
  try {
    fd = openSync(path, 'w+');
    ftruncateSync(fd, size);
    for (const [at, text] of marks) writeSync(fd, Buffer.from(text, 'latin1'), 0, text.length, at);
    if (fstatSync(fd).blocks * 512 > 16 * MiB) throw Object.assign(new Error('not sparse'), { code: 'ENOTSPARSE' });
    t.after(() => removeFile(path));
    return path;
  } catch (error) {
    rmSync(path, { force: true });
    t.skip(`this filesystem cannot hold a sparse ${size} byte file (${(error as NodeJS.ErrnoException).code})`);
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function pread(path: string, at: number, n: number): string {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(n);
    assert.equal(readSync(fd, out, 0, n, at), n);
    return out.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

const SIZES: Array<[string, number]> = [
  ['just over 4 GiB', FOUR_GIB + 64 * 1024 + 17],
  ['6 GiB', 6 * GiB],
];

for (const [label, size] of SIZES) {
  // Offsets above 2^32 whose low 32 bits are small: a search that wraps reports 16 or 40.
  const X1 = FOUR_GIB + 16;
  const X2 = FOUR_GIB + 40;
  const STRADDLE = FOUR_GIB - 4; // "STRADDLE" covers 2^32 - 4 .. 2^32 + 3
  const LAST = size - 100;

  function open(t: TestContext): { mm: Mmap; path: string } | null {
    const path = sparseFile(t, size, [
      [STRADDLE, 'STRADDLE'],
      [X1, 'X\n'],
      [X2, 'X\n'],
      [LAST, 'LAST\n'],
    ]);
    if (path === null) return null;
    const mm = Mmap.open(path, { access: ACCESS_WRITE });
    t.after(() => mm.close());
    assert.equal(mm.length, size);
    return { mm, path };
  }

  describe(`a ${label} sparse map: every method past 2^32`, () => {
    test('find: one-byte and longer needles, with start offsets and end bounds past 2^32', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm } = o;
      assert.equal(mm.find('X', 0), X1);
      assert.equal(mm.find('X', FOUR_GIB), X1);
      assert.equal(mm.find('X', X1 + 1), X2);
      assert.equal(mm.find('X', X2 + 1, X2 + MiB), -1);
      assert.equal(mm.find('X\n', X1 + 1), X2);
      assert.equal(mm.find('STRADDLE', FOUR_GIB - 64), STRADDLE);
      assert.equal(mm.find('STRADDLE', STRADDLE + 1), -1);
      assert.equal(mm.find('LAST', LAST - MiB), LAST);
      assert.equal(mm.find('LAST', LAST + 1), -1);
      assert.equal(mm.find('X', X1, X1 + 1), X1);
      assert.equal(mm.find('X', X1 + 1, X2), -1);
    });

    test('rfind: from the end, and with bounds below and above 2^32', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm } = o;
      assert.equal(mm.rfind('LAST'), LAST);
      assert.equal(mm.rfind('X', 0, X2 + MiB), X2);
      assert.equal(mm.rfind('X', 0, X2), X1);
      assert.equal(mm.rfind('X', FOUR_GIB - 64, X2), X1);
      assert.equal(mm.rfind('STRADDLE', 0, X1), STRADDLE);
      assert.equal(mm.rfind('STRADDLE', 0, FOUR_GIB + 3), -1);
      assert.equal(mm.rfind('X', X2 + 1, X2 + MiB), -1);
      assert.equal(mm.rfind('LAST', LAST - MiB, LAST + 3), -1);
    });

    test('readLine: lines that start below and above 2^32', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm } = o;
      mm.seek(STRADDLE);
      const first = mm.readLine();
      assert.equal(first.length, X1 + 2 - STRADDLE);
      assert.equal(first.toString('latin1', 0, 8), 'STRADDLE');
      assert.equal(mm.tell(), X1 + 2);
      assert.equal(mm.readLine().toString('latin1'), '\0'.repeat(X2 - X1 - 2) + 'X\n');
      assert.equal(mm.tell(), X2 + 2);
      mm.seek(LAST);
      assert.equal(mm.readLine().toString(), 'LAST\n');
      assert.equal(mm.tell(), LAST + 5);
    });

    test('slice and read: copies across and above 2^32, with steps', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm } = o;
      assert.equal(mm.slice(STRADDLE, STRADDLE + 8).toString(), 'STRADDLE');
      assert.equal(mm.slice(X1, X1 + 2).toString(), 'X\n');
      assert.equal(mm.slice(STRADDLE + 7, STRADDLE - 1, -1).toString(), 'ELDDARTS');
      assert.equal(mm.slice(STRADDLE, STRADDLE + 8, 2).toString(), 'SRDL');
      assert.equal(mm.slice(-100, -95).toString(), 'LAST\n');
      mm.seek(STRADDLE);
      assert.equal(mm.read(8).toString(), 'STRADDLE');
      mm.seek(X2);
      assert.equal(mm.read(2).toString(), 'X\n');
      mm.seek(LAST);
      assert.equal(mm.read(5).toString(), 'LAST\n');
      assert.equal(mm.read().length, 95);
    });

    test('get/set, write and setSlice past 2^32 reach the file', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm, path } = o;
      assert.equal(mm.get(X1), 0x58);
      assert.equal(mm.get(FOUR_GIB - 1), 'A'.charCodeAt(0));
      assert.equal(mm.get(FOUR_GIB), 'D'.charCodeAt(0));
      mm.set(FOUR_GIB + 100, 0x41);
      assert.equal(mm.get(FOUR_GIB + 100), 0x41);
      mm.seek(FOUR_GIB - 3);
      assert.equal(mm.write('write!'), 6);
      mm.setSlice(FOUR_GIB + 200, FOUR_GIB + 205, 'slice');
      mm.setSlice(FOUR_GIB + 300, FOUR_GIB + 310, 'stps', 3);
      mm.flush();
      assert.equal(pread(path, FOUR_GIB + 100, 1), 'A');
      assert.equal(pread(path, FOUR_GIB - 4, 8), 'Swrite!E');
      assert.equal(pread(path, FOUR_GIB + 200, 5), 'slice');
      assert.equal(pread(path, FOUR_GIB + 300, 10), 's\0\0t\0\0p\0\0s');
      assert.equal(mm.find('write!', FOUR_GIB - 64), FOUR_GIB - 3);
    });

    test('move: within the region above 2^32, and across it in both directions', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm, path } = o;
      mm.move(FOUR_GIB + 1000, STRADDLE, 8);
      mm.move(10, FOUR_GIB + 1000, 8);
      mm.move(FOUR_GIB - 2, FOUR_GIB - 4, 8); // overlapping, across 2^32
      mm.flush();
      assert.equal(pread(path, FOUR_GIB + 1000, 8), 'STRADDLE');
      assert.equal(pread(path, 10, 8), 'STRADDLE');
      assert.equal(pread(path, FOUR_GIB - 4, 10), 'STSTRADDLE');
      assert.equal(mm.find('STRADDLE', FOUR_GIB + 1), FOUR_GIB + 1000);
    });

    test('every search runs on a Buffer under 4 GiB, whatever the runtime allows', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm } = o;
      let calls = 0;
      let largest = 0;
      for (const name of ['indexOf', 'lastIndexOf'] as const) {
        const original = Buffer.prototype[name];
        t.after(() => {
          Buffer.prototype[name] = original;
        });
        Buffer.prototype[name] = function (this: Buffer, ...args: unknown[]) {
          calls++;
          largest = Math.max(largest, this.buffer.byteLength, this.byteOffset + this.length);
          return (original as (...a: unknown[]) => number).apply(this, args);
        } as typeof original;
      }
      assert.equal(mm.find('X', FOUR_GIB - 64), X1);
      assert.equal(mm.rfind('LAST'), LAST);
      mm.seek(X1);
      assert.equal(mm.readLine().toString(), 'X\n');
      assert.ok(calls >= 3, `${calls} searches seen`);
      assert.ok(largest < FOUR_GIB, `a search ran on a Buffer over ${largest} bytes of memory`);
    });

    test('view: zero-copy both ways past 2^32; no view reaches 4 GiB on any runtime', (t) => {
      const o = open(t);
      if (o === null) return;
      const { mm, path } = o;
      const v = mm.view(STRADDLE, 64);
      assert.equal(v.toString('latin1', 0, 8), 'STRADDLE');
      assert.equal(v.indexOf('X'), X1 - STRADDLE);
      v.write('viewed', 30, 'latin1');
      mm.flush();
      assert.equal(pread(path, STRADDLE + 30, 6), 'viewed');
      assert.equal(mm.find('viewed', FOUR_GIB), STRADDLE + 30);
      const high = mm.view(X1, LAST - X1 + 4);
      assert.equal(high.toString('latin1', 0, 2), 'X\n');
      assert.equal(high.toString('latin1', LAST - X1), 'LAST');
      assert.throws(() => mm.view(0, FOUR_GIB), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => mm.view(), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    });
  });
}
