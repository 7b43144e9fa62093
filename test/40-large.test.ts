/**
 * Large files and windowed maps. Sizes and offsets are 64-bit: a 6 GiB map is read and written
 * past 4 GiB, and a read-only map covers a 100 GiB sparse file (more than this machine's memory).
 * A map larger than the runtime's largest Buffer (4 GiB on Node 20) is served through
 * overlapping windows; `setWindowLimitForTesting` shrinks the windows so that every method can be
 * checked against a plain Buffer model across window boundaries on a few hundred KiB.
 */
import assert from 'node:assert/strict';
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, ftruncateSync, fstatSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';

import {
  ACCESS_READ,
  ACCESS_WRITE,
  ALLOCATIONGRANULARITY,
  MADV_RANDOM,
  Mmap,
  PAGESIZE,
  constants,
} from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { makeFile, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const FOUR_GIB = 2 ** 32;

/**
 * A sparse file of `size` bytes, or null (with the test skipped) when the filesystem cannot hold
 * it: too large, out of space, or not sparse (it would really take the space).
 */
function sparseFile(t: TestContext, name: string, size: number): string | null {
  const path = join(dir, name);
  let fd = -1;
  try {
    fd = openSync(path, 'w+');
    ftruncateSync(fd, size);
    const st = fstatSync(fd);
    if (st.size !== size) throw Object.assign(new Error(`size ${st.size}`), { code: 'ESIZE' });
    if (st.blocks * 512 > 16 * MiB) throw Object.assign(new Error('not sparse'), { code: 'ENOTSPARSE' });
    return path;
  } catch (error) {
    t.skip(`this filesystem cannot hold a sparse ${size / GiB} GiB file (${(error as NodeJS.ErrnoException).code})`);
    rmSync(path, { force: true });
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** `n` bytes of the file at `position`, read with read(2), not through any map. */
function preadFile(path: string, position: number, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(n);
    assert.equal(readSync(fd, out, 0, n, position), n);
    return out;
  } finally {
    closeSync(fd);
  }
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function pwriteFile(path: string, position: number, data: string | Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    assert.equal(writeSync(fd, b, 0, b.length, position), b.length);
  } finally {
    closeSync(fd);
  }
}

describe('a 6 GiB sparse file: reads and writes past 4 GiB', () => {
  test('every method at offsets above 2^32, checked with read(2)', (t) => {
    const size = 6 * GiB;
    const path = sparseFile(t, 'six.bin', size);
    if (path === null) return;
    const mm = Mmap.open(path, { access: ACCESS_WRITE });
    t.after(() => mm.close());
    assert.equal(mm.length, size);
    assert.equal(mm.size(), size);
    assert.ok(mm.length > bufferConstants.MAX_LENGTH || bufferConstants.MAX_LENGTH > FOUR_GIB);

    // get/set, with positive and negative indices.
    const p1 = FOUR_GIB + 77;
    mm.set(p1, 0x11);
    assert.equal(mm.get(p1), 0x11);
    assert.equal(mm.get(p1 - size), 0x11);
    mm.set(-1, 0x22);
    assert.equal(mm.get(size - 1), 0x22);
    mm.set(5 * GiB - 1, 0x33);
    mm.set(5 * GiB, 0x44);
    assert.deepEqual([mm.get(5 * GiB - 1), mm.get(5 * GiB)], [0x33, 0x44]);

    // write/read across 5 GiB (a window boundary on Node 20) and a page boundary.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const p2 = 5 * GiB - 10;
    assert.equal(mm.seek(p2), p2);
    assert.equal(mm.write(alphabet), 26);
    assert.equal(mm.tell(), p2 + 26);
    mm.seek(p2);
    assert.equal(mm.read(26).toString(), alphabet);
    mm.seek(p1);
    assert.equal(mm.readByte(), 0x11);
    assert.equal(mm.tell(), p1 + 1);
    mm.seek(FOUR_GIB + PAGESIZE - 1);
    mm.writeByte(0x55);

    // readLine: lines that cross a page boundary above 4 GiB, and one that crosses 5 GiB.
    const p3 = FOUR_GIB + 3 * PAGESIZE - 3;
    mm.seek(p3);
    mm.write('hello\nworld, across a page\n');
    mm.seek(p3);
    assert.equal(mm.readLine().toString(), 'hello\n');
    assert.equal(mm.readLine().toString(), 'world, across a page\n');
    assert.equal(mm.tell(), p3 + 27);
    mm.seek(FOUR_GIB - 4); // across 2^32 itself
    mm.write('abc-def\nrest');
    mm.seek(FOUR_GIB - 4);
    assert.equal(mm.readLine().toString(), 'abc-def\n');
    assert.equal(mm.tell(), FOUR_GIB + 4);

    // find/rfind with bounds near the data, so no gigabytes of holes are scanned.
    assert.equal(mm.find(alphabet, p2 - MiB, p2 + MiB), p2);
    assert.equal(mm.find('MNO', p2 - 100), p2 + 12);
    assert.equal(mm.rfind(alphabet, p2 - 100, p2 + MiB), p2);
    assert.equal(mm.find(alphabet, p2 + 1, p2 + MiB), -1);
    assert.equal(mm.find(alphabet, p2 - MiB, p2 + 25), -1, 'end cuts the needle');
    assert.equal(mm.find(Buffer.of(0x11), FOUR_GIB, FOUR_GIB + 100), p1);
    assert.equal(mm.rfind('world', FOUR_GIB, FOUR_GIB + 4 * PAGESIZE), p3 + 6);
    mm.seek(p2 - 50);
    assert.equal(mm.find('XYZ'), p2 + 23, 'the default start is the position');

    // slice, with steps, across 5 GiB.
    assert.equal(mm.slice(p2, p2 + 26).toString(), alphabet);
    assert.equal(mm.slice(p2 + 25, p2 - 1, -1).toString(), [...alphabet].reverse().join(''));
    assert.equal(mm.slice(p2, p2 + 26, 5).toString(), 'AFKPUZ');
    assert.equal(mm.slice(-1).toString('hex'), '22');
    mm.setSlice(p2, p2 + 10, 'vwxyz', 2);
    assert.equal(mm.slice(p2, p2 + 10).toString(), 'vBwDxFyHzJ');

    // view: inside one window, and one longer than a window stride that spans two.
    const v = mm.view(p2, 26);
    assert.equal(v.toString(), 'vBwDxFyHzJKLMNOPQRSTUVWXYZ');
    v[0] = 0x61; // 'a'
    assert.equal(mm.get(p2), 0x61);
    const longStart = FOUR_GIB + GiB / 2;
    const long = mm.view(longStart, GiB + 100);
    assert.equal(long.length, GiB + 100);
    long[GiB + 99] = 0x66;
    assert.equal(mm.get(longStart + GiB + 99), 0x66);
    assert.equal(long[p2 - longStart + 1], 0x42, 'the long view sees the map'); // 'B'

    // move: within the high region, and from above 4 GiB to the start.
    mm.move(FOUR_GIB + 100, p2, 26);
    mm.move(1000, p2, 26);
    assert.equal(mm.slice(1000, 1026).toString(), 'aBwDxFyHzJKLMNOPQRSTUVWXYZ');

    // flush and madvise take 64-bit offsets too.
    mm.flush(FOUR_GIB + PAGESIZE * 3, PAGESIZE);
    if (constants.MADV_RANDOM !== undefined) mm.madvise(MADV_RANDOM, 5 * GiB, MiB); // no MADV_RANDOM on Windows

    // The file itself, read with read(2) at the same offsets.
    const text = (at: number, n: number) => preadFile(path, at, n).toString('latin1');
    assert.equal(preadFile(path, p1, 1)[0], 0x11);
    assert.equal(preadFile(path, size - 1, 1)[0], 0x22);
    assert.equal(text(FOUR_GIB - 4, 12), 'abc-def\nrest');
    assert.equal(text(p2, 26), 'aBwDxFyHzJKLMNOPQRSTUVWXYZ');
    assert.equal(preadFile(path, FOUR_GIB + PAGESIZE - 1, 1)[0], 0x55);
    assert.equal(text(p3, 27), 'hello\nworld, across a page\n');
    assert.equal(preadFile(path, longStart + GiB + 99, 1)[0], 0x66);
    assert.equal(text(FOUR_GIB + 100, 26), 'aBwDxFyHzJKLMNOPQRSTUVWXYZ');
    assert.equal(text(1000, 26), 'aBwDxFyHzJKLMNOPQRSTUVWXYZ');

    // And the other way: write(2) above 4 GiB, seen through the map.
    pwriteFile(path, 5 * GiB + GiB / 2, 'from fs');
    assert.equal(mm.slice(5 * GiB + GiB / 2, 5 * GiB + GiB / 2 + 7).toString(), 'from fs');

    // A map whose file offset is above 4 GiB, and a read-only map of the whole file.
    // (One allocation granularity below 5 GiB: the page size on POSIX, 64 KiB on Windows.)
    const G = ALLOCATIONGRANULARITY;
    using high = Mmap.open(path, { access: ACCESS_WRITE, offset: 5 * GiB - G, length: 2 * G });
    assert.equal(high.offset, 5 * GiB - G);
    assert.equal(high.slice(G - 10, G + 16).toString(), 'aBwDxFyHzJKLMNOPQRSTUVWXYZ');
    high.set(0, 0x77);
    assert.equal(mm.get(5 * GiB - G), 0x77);
    assert.equal(preadFile(path, 5 * GiB - G, 1)[0], 0x77);
    using ro = Mmap.open(path);
    assert.equal(ro.length, size);
    assert.equal(ro.get(p1), 0x11);
    assert.equal(ro.find('from fs', 5 * GiB + GiB / 2 - 10), 5 * GiB + GiB / 2);
  });
});

describe('resize() across 4 GiB', () => {
  test(
    'grow a 1 MiB map to 5 GiB, write past 4 GiB, shrink back: sizes and bytes are exact',
    skipIf(onWindows, WINDOWS.zeroInPlace),
    (t) => {
      const path = sparseFile(t, 'grow.bin', MiB);
      if (path === null) return;
      const mm = Mmap.open(path, { access: ACCESS_WRITE });
      t.after(() => mm.close());
      mm.write('head');
      const old = mm.view(0, 4);
      const big = 5 * GiB + 123;
      try {
        mm.resize(big);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EFBIG' || (error as NodeJS.ErrnoException).code === 'ENOSPC') {
          t.skip('the filesystem refuses a 5 GiB file');
          return;
        }
        throw error;
      }
      assert.deepEqual(old, Buffer.alloc(4), 'an old view reads zeros');
      assert.equal(mm.length, big);
      assert.equal(mm.size(), big);
      assert.equal(fstatSizeOf(path), big);
      assert.equal(mm.tell(), 4);
      assert.equal(mm.slice(0, 4).toString(), 'head');
      mm.seek(FOUR_GIB + 10);
      mm.write('past four');
      mm.set(-1, 0x7e);
      assert.equal(preadFile(path, FOUR_GIB + 10, 9).toString(), 'past four');
      assert.equal(preadFile(path, big - 1, 1)[0], 0x7e);
      assert.equal(mm.find('past four', FOUR_GIB), FOUR_GIB + 10);

      mm.resize(FOUR_GIB + 15); // still above 2^32, cutting 'past four' after 'past '
      assert.equal(mm.length, FOUR_GIB + 15);
      assert.equal(fstatSizeOf(path), FOUR_GIB + 15);
      assert.equal(mm.slice(FOUR_GIB + 10).toString(), 'past ');
      assert.equal(mm.tell(), FOUR_GIB + 19, 'the position may stay past the end, as in CPython');
      assert.equal(mm.read().length, 0);

      mm.resize(2 * MiB);
      assert.equal(mm.length, 2 * MiB);
      assert.equal(fstatSizeOf(path), 2 * MiB);
      assert.equal(mm.slice(0, 4).toString(), 'head');
    },
  );
});

describe("a read-only map of a 100 GiB sparse file (more than this machine's memory)", () => {
  test(
    'length, reading near the end, find of a byte written near the end',
    skipIf(onWindows, WINDOWS.largeCommit),
    (t) => {
      const size = 100 * GiB;
      const path = sparseFile(t, 'hundred.bin', size);
      if (path === null) return;
      const needle = 'NEEDLE-NEAR-THE-END';
      const at = size - 5000;
      pwriteFile(path, at, needle);
      const rssBefore = process.memoryUsage().rss;

      const mm = Mmap.open(path);
      t.after(() => mm.close());
      assert.equal(mm.access, ACCESS_READ);
      assert.equal(mm.length, size);
      assert.equal(mm.size(), size);
      assert.equal(mm.get(-1), 0);
      assert.equal(mm.get(at), needle.charCodeAt(0));
      assert.equal(mm.find(needle, size - MiB), at);
      assert.equal(mm.find(needle, -MiB), at);
      assert.equal(mm.rfind(needle, -MiB), at);
      assert.equal(mm.find(needle, at + 1), -1);
      assert.equal(mm.find('E-N', size - MiB), at + 5);
      assert.equal(mm.slice(at, at + needle.length).toString(), needle);
      assert.equal(mm.slice(-5000, -5000 + needle.length).toString(), needle);
      const tail = mm.view(size - 8192, 8192);
      assert.equal(tail.toString('latin1', 8192 - 5000, 8192 - 5000 + needle.length), needle);
      mm.seek(-5000, 2);
      const line = mm.readLine();
      assert.equal(line.length, 5000, 'no newline: readLine() reads to the end');
      assert.equal(line.toString('latin1', 0, needle.length), needle);
      assert.equal(mm.tell(), size);
      mm.seek(at);
      assert.equal(mm.read(6).toString(), 'NEEDLE');
      assert.throws(() => mm.write('x'), { code: 'ERR_MMAP_READONLY' });
      assert.throws(() => mm.view(), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'no view reaches 4 GiB');

      // A map that starts 99 GiB into the file.
      using late = Mmap.open(path, { offset: 99 * GiB });
      assert.equal(late.length, GiB);
      assert.equal(late.find(needle, GiB - MiB), GiB - 5000);

      // Only the pages that were read came into memory.
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 256 * MiB, `RSS grew by ${Math.round(grown / MiB)} MiB`);
    },
  );
});

// ----------------------------------------------------------------------------------------------
// Windowed maps, on small data

const LIMIT = 64 * KiB;
const STRIDE = 16 * KiB; // a quarter of the limit, in whole pages
const LEN = 300 * KiB + 123;

/** xorshift32: a small deterministic generator, so a failure replays exactly. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n, // 0 .. n-1
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

/** Python's slice.indices(), as the list of indices it selects. */
function pyIndices(
  length: number,
  start: number | null | undefined,
  stop: number | null | undefined,
  step: number | null | undefined,
): number[] {
  const k = step ?? 1;
  const lower = k > 0 ? 0 : -1;
  const upper = k > 0 ? length : length - 1;
  const adjust = (v: number | null | undefined, fallback: number) => {
    if (v === undefined || v === null) return fallback;
    if (v < 0) return Math.max(v + length, lower);
    return Math.min(v, upper);
  };
  const s = adjust(start, k > 0 ? lower : upper);
  const e = adjust(stop, k > 0 ? upper : lower);
  const out: number[] = [];
  if (k > 0) for (let i = s; i < e; i += k) out.push(i);
  else for (let i = s; i > e; i += k) out.push(i);
  return out;
}

/** CPython's find/rfind on the model: start defaults to the position. */
function modelFind(
  model: Buffer,
  sub: Buffer,
  pos: number,
  start: number | undefined,
  end: number | undefined,
  last: boolean,
): number {
  const length = model.length;
  let s = start ?? pos;
  let e = end ?? length;
  if (s < 0) s = Math.max(0, s + length);
  if (e < 0) e = Math.max(0, e + length);
  if (e > length) e = length;
  if (s > length || e - s < sub.length) return -1;
  if (sub.length === 0) return last ? e : s;
  const region = model.subarray(s, e);
  const at = last ? region.lastIndexOf(sub) : region.indexOf(sub);
  return at < 0 ? -1 : at + s;
}

/** Offsets around every window boundary of a map of `length` bytes. */
function boundaries(length: number): number[] {
  const out: number[] = [];
  for (let b = STRIDE; b < length; b += STRIDE) out.push(b);
  return out;
}

type Kind = 'file' | 'file at an offset' | 'shared anonymous';

/** A windowed map of `LEN` bytes of patterned data, and its model. */
function windowedMap(kind: Kind, seed = 7) {
  const data = prng(seed).bytes(LEN);
  let mm: Mmap;
  let path: string | null = null;
  let offset = 0;
  if (kind === 'file') {
    path = makeFile(dir, data);
    mm = Mmap.open(path, { access: ACCESS_WRITE });
  } else if (kind === 'file at an offset') {
    offset = 3 * ALLOCATIONGRANULARITY; // the page size on POSIX, 64 KiB on Windows
    path = makeFile(dir, Buffer.concat([Buffer.alloc(offset, 0xcc), data, Buffer.alloc(999, 0xdd)]));
    mm = Mmap.open(path, { access: ACCESS_WRITE, offset, length: LEN });
  } else {
    mm = new Mmap(-1, LEN);
    mm.setSlice(0, LEN, data);
  }
  // The tests below only mean something if the map is really windowed.
  assert.ok(mm.view(0, 1).buffer.byteLength < mm.length, 'the map is served through windows');
  const model = Buffer.from(data);
  const fileMatches = () => {
    if (path === null) return true;
    return readFileSync(path)
      .subarray(offset, offset + model.length)
      .equals(model);
  };
  return { mm, model, fileMatches };
}

function assertSame(mm: Mmap, model: Buffer, what = ''): void {
  const got = mm.slice();
  if (got.equals(model)) return;
  let i = 0;
  while (i < model.length && got[i] === model[i]) i++;
  assert.fail(
    `${what}: map and model differ first at ${i} (window ${Math.floor(i / STRIDE)}): ` +
      `${got[i]} != ${model[i]}; lengths ${got.length}, ${model.length}`,
  );
}

describe('windowed maps (windows of 32 KiB every 16 KiB) behave like a plain Buffer', () => {
  before(() => setWindowLimitForTesting(LIMIT));
  after(() => setWindowLimitForTesting(undefined));

  test('get/set at every window boundary, with negative indices', () => {
    const { mm, model, fileMatches } = windowedMap('file');
    for (const b of [0, ...boundaries(LEN), LEN - 1]) {
      for (let i = Math.max(0, b - 3); i < Math.min(LEN, b + 3); i++) {
        assert.equal(mm.get(i), model[i], `get(${i})`);
        assert.equal(mm.get(i - LEN), model[i], `get(${i - LEN})`);
        const v = (i * 7 + 1) & 0xff;
        mm.set(i, v);
        model[i] = v;
        assert.equal(mm.get(i), v);
      }
    }
    assertSame(mm, model);
    assert.ok(fileMatches());
    mm.close();
  });

  test('read/write/readByte/writeByte spanning windows', () => {
    const { mm, model, fileMatches } = windowedMap('file at an offset');
    const rnd = prng(11);
    for (const b of boundaries(LEN)) {
      for (const [back, n] of [
        [1, 2],
        [5, 5],
        [5, 6],
        [100, STRIDE],
        [STRIDE - 1, 2 * STRIDE + 3],
        [10, 3 * STRIDE],
      ]) {
        const pos = b - back!;
        if (pos < 0 || pos + n! > LEN) continue;
        const data = rnd.bytes(n!);
        mm.seek(pos);
        assert.equal(mm.write(data), n);
        data.copy(model, pos);
        assert.equal(mm.tell(), pos + n!);
        mm.seek(pos - 1 >= 0 ? pos - 1 : pos);
        const from = mm.tell();
        assert.deepEqual(mm.read(n! + 2), model.subarray(from, Math.min(LEN, from + n! + 2)));
      }
      mm.seek(b - 1);
      assert.equal(mm.readByte(), model[b - 1]);
      assert.equal(mm.readByte(), model[b]);
      mm.seek(b - 1);
      mm.writeByte(0xa5);
      mm.writeByte(0x5a);
      model[b - 1] = 0xa5;
      model[b] = 0x5a;
    }
    mm.seek(LEN - 10);
    assert.deepEqual(mm.read(), model.subarray(LEN - 10));
    mm.seek(0);
    assert.deepEqual(mm.read(), model, 'read() of the whole map');
    assertSame(mm, model);
    assert.ok(fileMatches(), 'the file has the same bytes');
    mm.close();
  });

  test('readLine with lines crossing window boundaries, longer than a window, and ending on one', () => {
    const { mm, model } = windowedMap('shared anonymous');
    const text = Buffer.alloc(LEN, 0x2e); // '.'
    const newlines = new Set<number>();
    for (const b of boundaries(LEN)) {
      for (const d of [-1, 0, 1]) newlines.add(b + d); // lines ending just before, on and after a boundary
    }
    for (let at = 5; at < LEN; at += 997) newlines.add(at); // and lines of every phase
    newlines.delete(LEN - 1); // the last line has no newline
    for (const at of [...newlines].filter((x) => x > 50_000 && x < 150_000)) newlines.delete(at); // one 100 KiB line
    for (const at of newlines) text[at] = 0x0a;
    mm.setSlice(0, LEN, text);
    text.copy(model);
    mm.seek(0);
    const lines: Buffer[] = [];
    for (let line = mm.readLine(); line.length > 0; line = mm.readLine()) lines.push(line);
    const expected: Buffer[] = [];
    for (let start = 0; start < LEN;) {
      const nl = model.indexOf(0x0a, start);
      const end = nl < 0 ? LEN : nl + 1;
      expected.push(model.subarray(start, end));
      start = end;
    }
    assert.equal(lines.length, expected.length);
    lines.forEach((line, i) => assert.deepEqual(line, expected[i], `line ${i}`));
    assert.ok(
      lines.some((l) => l.length > 4 * STRIDE),
      'a line longer than a window',
    );
    assert.equal(mm.tell(), LEN);
    assert.equal(mm.readLine().length, 0, 'at the end: empty');
    mm.close();
  });

  test('find/rfind: needles straddling boundaries, every length class, with start/end bounds', () => {
    const { mm, model } = windowedMap('file');
    const rnd = prng(23);
    // Needle lengths: short, just under/at/over a stride (over it: the byte-by-byte path).
    const lengths = [1, 2, 7, STRIDE - 1, STRIDE, STRIDE + 1, 2 * STRIDE + 5];
    let checks = 0;
    for (const n of lengths) {
      for (const b of boundaries(LEN).filter((_, i) => i % 3 === n % 3)) {
        const at = Math.max(0, Math.min(LEN - n, b - Math.floor(n / 2) - 1)); // across b
        const needle = Buffer.from(model.subarray(at, at + n));
        const pos = rnd.int(LEN);
        mm.seek(pos);
        const bounds: Array<[number | undefined, number | undefined]> = [
          [undefined, undefined],
          [0, undefined],
          [at, undefined],
          [at + 1, undefined],
          [at - 1, at + n],
          [at, at + n - 1],
          [0, at + n],
          [-(LEN - at), undefined],
          [undefined, -(LEN - at - n)],
          [at - STRIDE, at + n + STRIDE],
          [LEN + 5, undefined],
          [at + n, at],
          [-LEN * 2, LEN * 2],
        ];
        for (const [s, e] of bounds) {
          for (const last of [false, true]) {
            const got = last ? mm.rfind(needle, s, e) : mm.find(needle, s, e);
            const want = modelFind(model, needle, pos, s, e, last);
            assert.equal(got, want, `${last ? 'rfind' : 'find'}(len ${n} at ${at}, ${s}, ${e}) pos ${pos}`);
            checks++;
          }
        }
        assert.equal(mm.tell(), pos, 'find does not move the position');
      }
    }
    // Repeated needles: find returns the first and rfind the last, across windows.
    const needle = Buffer.from('<needle across a window>');
    const places = [STRIDE - 3, 3 * STRIDE - 10, 5 * STRIDE - 20, LEN - needle.length];
    for (const p of places) {
      mm.setSlice(p, p + needle.length, needle);
      needle.copy(model, p);
    }
    mm.seek(0);
    assert.equal(mm.find(needle), places[0]);
    assert.equal(mm.rfind(needle), places[3]);
    assert.equal(mm.find(needle, places[0]! + 1), places[1]);
    assert.equal(mm.rfind(needle, 0, places[3]! + needle.length - 1), places[2]);
    assert.equal(mm.find(''), 0);
    assert.equal(mm.rfind(''), LEN);
    assert.ok(checks > 500);
    mm.close();
  });

  test('slice() and setSlice() with positive and negative steps', () => {
    const { mm, model, fileMatches } = windowedMap('file');
    const rnd = prng(31);
    const steps = [1, 2, 3, 7, STRIDE - 1, STRIDE, STRIDE + 1, -1, -2, -5, -(STRIDE + 3), undefined];
    const points = [
      undefined,
      0,
      5,
      STRIDE - 1,
      STRIDE,
      2 * STRIDE + 1,
      LEN - 1,
      LEN,
      LEN + 10,
      -1,
      -STRIDE - 2,
      -LEN,
      -LEN - 5,
    ];
    let checks = 0;
    for (const step of steps) {
      for (const start of points) {
        for (const stop of points) {
          const idx = pyIndices(LEN, start, stop, step);
          const got = mm.slice(start, stop, step);
          assert.equal(got.length, idx.length, `slice(${start}, ${stop}, ${step}).length`);
          for (let i = 0; i < idx.length; i += Math.max(1, Math.floor(idx.length / 64))) {
            assert.equal(got[i], model[idx[i]!], `slice(${start}, ${stop}, ${step})[${i}]`);
          }
          if (idx.length > 0) assert.equal(got[idx.length - 1], model[idx[idx.length - 1]!]);
          checks++;
          if (rnd.int(8) === 0) {
            const data = rnd.bytes(idx.length);
            mm.setSlice(start, stop, data, step);
            idx.forEach((at, i) => {
              model[at] = data[i]!;
            });
          }
        }
      }
    }
    assert.throws(() => mm.setSlice(0, 10, Buffer.alloc(9)), { code: 'ERR_OUT_OF_RANGE' });
    assertSame(mm, model, 'after setSlice');
    assert.ok(fileMatches());
    assert.ok(checks > 1000);
    mm.close();
  });

  test('move(): overlapping in both directions, far apart, spanning windows', () => {
    const { mm, model, fileMatches } = windowedMap('file at an offset');
    const S = STRIDE;
    const cases: Array<[number, number, number]> = [
      [100, 0, 3 * S],
      [0, 100, 3 * S],
      [S - 5, S + 5, 2 * S + 7],
      [S + 5, S - 5, 2 * S + 7],
      [10, LEN - 2 * S - 3, 2 * S],
      [LEN - 2 * S - 3, 10, 2 * S],
      [S / 2 + 1, S / 2 - 1, S / 2 + 1],
      [S - 1, S + 1, 1],
      [3 * S, 3 * S, S],
      [0, LEN - 1, 1],
      [LEN - 1, 0, 1],
      [5, 6, LEN - 6],
      [6, 5, LEN - 6],
      [2 * S, S, 4 * S],
      [S, 2 * S, 4 * S],
      [S - 3, 4 * S + 3, S + 6],
      [7, 8, 0],
    ];
    for (const [d, s, n] of cases) {
      mm.move(d, s, n);
      model.copyWithin(d, s, s + n);
      assertSame(mm, model, `move(${d}, ${s}, ${n})`);
    }
    assert.throws(() => mm.move(0, LEN - 5, 6), { code: 'ERR_OUT_OF_RANGE' });
    assertSame(mm, model, 'a refused move changes nothing');
    assert.ok(fileMatches());
    mm.close();
  });

  test('view(): inside one window and spanning windows, zero-copy both ways', () => {
    const { mm, model, fileMatches } = windowedMap('file');
    const S = STRIDE;
    const ranges: Array<[number, number]> = [
      [0, 1],
      [S - 1, 2],
      [S, S],
      [S + 10, 2 * S - 10],
      [S - 1, 2 * S + 2],
      [0, LEN],
      [LEN - 1, 1],
      [LEN - S - 7, S + 7],
      [3 * S + 5, 5 * S],
      [LEN, 0],
      [100, 0],
    ];
    ranges.forEach(([o, n], i) => {
      const v = mm.view(o, n);
      assert.equal(v.length, n, `view(${o}, ${n})`);
      assert.deepEqual(Buffer.from(v), model.subarray(o, o + n), `view(${o}, ${n}) contents`);
      if (n === 0) return;
      const at = (i * 7919) % n;
      v[at] = (i + 0x40) & 0xff; // through the view ...
      model[o + at] = (i + 0x40) & 0xff;
      assert.equal(mm.get(o + at), model[o + at], `view(${o}, ${n}) write seen by get`);
      mm.set(o + n - 1, i); // ... and through the map
      model[o + n - 1] = i;
      assert.equal(v[n - 1], i, `view(${o}, ${n}) sees set()`);
    });
    assert.equal(mm.view(5).length, LEN - 5);
    assert.throws(() => mm.view(LEN + 1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.view(10, LEN), { code: 'ERR_OUT_OF_RANGE' });
    assertSame(mm, model);
    assert.ok(fileMatches());
    mm.close();
  });

  test('write/setSlice from a view of the same map inside one window act like memmove', () => {
    const { mm, model } = windowedMap('shared anonymous');
    const src = mm.view(STRIDE + 10, 1000); // inside window 1
    mm.setSlice(STRIDE + 500, STRIDE + 1500, src);
    model.copyWithin(STRIDE + 500, STRIDE + 10, STRIDE + 1010);
    assertSame(mm, model, 'overlapping setSlice');
    mm.seek(STRIDE);
    mm.write(mm.view(STRIDE + 200, 3000));
    model.copyWithin(STRIDE, STRIDE + 200, STRIDE + 3200);
    assertSame(mm, model, 'overlapping write');
    mm.close();
  });

  test('write/setSlice from a view of the same map that spans windows, or with a step, act like memmove', () => {
    const { mm, model } = windowedMap('shared anonymous');
    mm.setSlice(100, 100 + 40_000, mm.view(0, 40_000));
    model.copyWithin(100, 0, 40_000);
    assertSame(mm, model, 'forward overlap');
    mm.seek(0);
    mm.write(mm.view(300, 3 * STRIDE));
    model.copyWithin(0, 300, 300 + 3 * STRIDE);
    assertSame(mm, model, 'backward overlap');
    // A stepped assignment reads its whole source before writing (windowed or not).
    const plain = new Mmap(-1, 32 * KiB); // under the window limit: one Buffer
    plain.setSlice(0, 32 * KiB, prng(5).bytes(32 * KiB));
    for (const m of [mm, plain]) {
      const expected = m.slice();
      const source = Buffer.from(expected.subarray(0, 5000));
      m.setSlice(1, 10_001, m.view(0, 5000), 2);
      for (let i = 0; i < 5000; i++) expected[1 + 2 * i] = source[i]!;
      assertSame(m, expected, m === plain ? 'stepped, plain map' : 'stepped, windowed map');
      m.close();
    }
  });

  test(
    'resize() of a windowed map: grow, shrink below the window limit, grow back',
    skipIf(onWindows, WINDOWS.zeroInPlace),
    () => {
      const { mm, model, fileMatches } = windowedMap('file');
      const oldView = mm.view(STRIDE - 5, 3 * STRIDE);
      const inWindow = mm.view(10, 10);
      mm.seek(1234);
      mm.resize(500 * KiB + 1);
      assert.ok(oldView.length === 3 * STRIDE && oldView.every((b) => b === 0), 'a spanning view reads zeros');
      assert.ok(inWindow.length === 10 && inWindow.every((b) => b === 0), 'a window view reads zeros');
      assert.equal(mm.length, 500 * KiB + 1);
      assert.equal(mm.tell(), 1234);
      assertSame(mm, Buffer.concat([model, Buffer.alloc(500 * KiB + 1 - LEN)]), 'grown');
      const grownModel = Buffer.concat([model, Buffer.alloc(500 * KiB + 1 - LEN)]);
      mm.setSlice(LEN - 10, LEN + 10, Buffer.alloc(20, 0xee)); // across the old end
      grownModel.fill(0xee, LEN - 10, LEN + 10);
      assert.equal(mm.find(Buffer.alloc(20, 0xee), 0), LEN - 10);

      mm.resize(40 * KiB); // below the limit: one Buffer again
      assert.equal(mm.view(0, 1).buffer.byteLength, 40 * KiB, 'no longer windowed');
      assertSame(mm, grownModel.subarray(0, 40 * KiB), 'shrunk');

      mm.resize(LEN);
      assert.ok(mm.view(0, 1).buffer.byteLength < LEN, 'windowed again');
      const back = Buffer.concat([grownModel.subarray(0, 40 * KiB), Buffer.alloc(LEN - 40 * KiB)]);
      assertSame(mm, back, 'grown back');
      model.set(back);
      assert.ok(fileMatches());
      mm.close();
    },
  );

  for (const kind of ['file', 'file at an offset', 'shared anonymous'] as const) {
    test(`randomized operations against the model (${kind})`, () => {
      const { mm, model, fileMatches } = windowedMap(kind, 101);
      const rnd = prng(kind.length * 7919 + 1);
      const span = () => {
        const n = [1, 2, rnd.int(64), rnd.int(STRIDE + 2), rnd.int(3 * STRIDE)][rnd.int(5)]!;
        return Math.min(n, LEN);
      };
      const near = () => {
        // an offset near a window boundary half of the time
        if (rnd.int(2) === 0) return rnd.int(LEN);
        const b = STRIDE * (1 + rnd.int(Math.floor((LEN - 1) / STRIDE)));
        return Math.max(0, Math.min(LEN - 1, b - 8 + rnd.int(16)));
      };
      for (let op = 0; op < 1500; op++) {
        const what = rnd.int(10);
        const ctx = `op ${op} (${what})`;
        switch (what) {
          case 0: {
            // get/set
            const i = near();
            const v = rnd.int(256);
            assert.equal(mm.get(i), model[i], ctx);
            mm.set(i, v);
            model[i] = v;
            break;
          }
          case 1: {
            // write at a position
            const n = span();
            const pos = Math.min(near(), LEN - n);
            const data = rnd.bytes(n);
            mm.seek(pos);
            mm.write(data);
            data.copy(model, pos);
            assert.equal(mm.tell(), pos + n, ctx);
            break;
          }
          case 2: {
            // read
            const pos = near();
            const n = span();
            mm.seek(pos);
            assert.deepEqual(mm.read(n), model.subarray(pos, Math.min(LEN, pos + n)), ctx);
            break;
          }
          case 3: {
            // readLine, after planting newlines
            const pos = near();
            for (let k = 0; k < 3; k++) {
              const at = near();
              mm.set(at, 0x0a);
              model[at] = 0x0a;
            }
            mm.seek(pos);
            const nl = model.indexOf(0x0a, pos);
            const end = nl < 0 ? LEN : nl + 1;
            assert.deepEqual(mm.readLine(), model.subarray(pos, end), ctx);
            assert.equal(mm.tell(), end, ctx);
            break;
          }
          case 4: {
            // find/rfind of a piece of the map, or of random bytes
            const n = 1 + rnd.int(rnd.int(4) === 0 ? 2 * STRIDE : 40);
            const at = Math.min(near(), LEN - n);
            const needle = rnd.int(5) === 0 ? rnd.bytes(n) : Buffer.from(model.subarray(at, at + n));
            const pos = rnd.int(LEN);
            mm.seek(pos);
            const s = rnd.int(3) === 0 ? undefined : at - rnd.int(2 * STRIDE) + rnd.int(3);
            const e = rnd.int(3) === 0 ? undefined : at + n + rnd.int(2 * STRIDE) - rnd.int(3);
            const last = rnd.int(2) === 1;
            assert.equal(
              last ? mm.rfind(needle, s, e) : mm.find(needle, s, e),
              modelFind(model, needle, pos, s, e, last),
              `${ctx}: ${last ? 'rfind' : 'find'} len ${n} at ${at}, bounds ${s}, ${e}, pos ${pos}`,
            );
            break;
          }
          case 5: {
            // slice with a step
            const step = [1, 2, 3, -1, -3, STRIDE + 1, -(STRIDE - 1)][rnd.int(7)]!;
            const a = rnd.int(2) ? near() : undefined;
            const b = rnd.int(2) ? near() : undefined;
            const idx = pyIndices(LEN, a, b, step);
            const got = mm.slice(a, b, step);
            assert.deepEqual(got, Buffer.from(idx.map((i) => model[i]!)), `${ctx}: slice(${a}, ${b}, ${step})`);
            break;
          }
          case 6: {
            // setSlice with a step
            const step = [1, 1, 2, -1, -2, 5][rnd.int(6)]!;
            const a = near();
            const b = step > 0 ? Math.min(LEN, a + span()) : Math.max(-1, a - span());
            const idx = pyIndices(LEN, a, b < 0 ? undefined : b, step);
            const data = rnd.bytes(idx.length);
            mm.setSlice(a, b < 0 ? undefined : b, data, step);
            idx.forEach((at, i) => {
              model[at] = data[i]!;
            });
            break;
          }
          case 7: {
            // move
            const n = span();
            const d = Math.min(near(), LEN - n);
            const s = rnd.int(2) ? Math.min(near(), LEN - n) : Math.max(0, Math.min(LEN - n, d + rnd.int(200) - 100));
            mm.move(d, s, n);
            model.copyWithin(d, s, s + n);
            break;
          }
          case 8: {
            // a write through a view, then a read through a view
            const n = span();
            const o = Math.min(near(), LEN - n);
            const v = mm.view(o, n);
            const data = rnd.bytes(n);
            v.set(data);
            data.copy(model, o);
            const o2 = Math.min(near(), LEN - n);
            assert.deepEqual(Buffer.from(mm.view(o2, n)), model.subarray(o2, o2 + n), ctx);
            break;
          }
          default: {
            // readByte/writeByte across a boundary
            const pos = Math.min(near(), LEN - 2);
            mm.seek(pos);
            assert.equal(mm.readByte(), model[pos], ctx);
            mm.writeByte(op & 0xff);
            model[pos + 1] = op & 0xff;
            assert.equal(mm.tell(), pos + 2, ctx);
          }
        }
        if (op % 100 === 99) assertSame(mm, model, ctx);
      }
      assertSame(mm, model, 'at the end');
      mm.flush();
      assert.ok(fileMatches(), 'the file has the same bytes');
      mm.close();
    });
  }
});
