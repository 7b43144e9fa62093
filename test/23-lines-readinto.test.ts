/**
 * Zero-copy reading: lines() yields views of the map line by line, readInto() copies into the
 * caller's buffer. Both are checked against plain Buffer operations on the same bytes, on whole
 * maps and on windowed ones (small windows, so lines and reads cross window boundaries).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ACCESS_WRITE, Mmap } from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { makeFile, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();

/** Text with lines of many lengths (empty ones too), and a last line without a newline. */
function text(n: number, seed = 7): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x % 23 === 0 ? 0x0a : 0x61 + (x % 26);
  }
  return out;
}

/** What lines() should yield for [s, e): the bytes split at each newline, the newline dropped. */
function expectedLines(b: Buffer, s: number, e: number): string[] {
  const out: string[] = [];
  let at = s;
  while (at < e) {
    const i = b.indexOf(0x0a, at);
    const stop = i < 0 || i >= e ? e : i;
    out.push(b.subarray(at, stop).toString('latin1'));
    at = stop === e ? e : stop + 1;
  }
  return out;
}

for (const windowed of [false, true]) {
  describe(`lines() on a ${windowed ? 'windowed' : 'whole'} map`, () => {
    const data = text(200_000);
    function open(t: { after(fn: () => void): void }): Mmap {
      if (windowed) {
        setWindowLimitForTesting(64 * 1024);
        t.after(() => setWindowLimitForTesting(undefined));
      }
      const mm = Mmap.open(makeFile(dir, data), { access: ACCESS_WRITE });
      t.after(() => mm.close());
      return mm;
    }

    test('yields every line, without its newline, for the whole map and for ranges', (t) => {
      const mm = open(t);
      const ranges: Array<[number | undefined, number | undefined]> = [
        [undefined, undefined],
        [0, 1],
        [5, 5],
        [17, 70_000],
        [65_530, 65_540],
        [-1000, undefined],
        [100, -100],
        [199_999, undefined],
        [300_000, undefined],
      ];
      for (const [s, e] of ranges) {
        const lo = s === undefined ? 0 : s < 0 ? Math.max(0, s + data.length) : s;
        const hi = e === undefined ? data.length : e < 0 ? Math.max(0, e + data.length) : Math.min(e, data.length);
        const got = [...mm.lines(s, e)].map((l) => l.toString('latin1'));
        assert.deepEqual(got, expectedLines(data, lo, hi), `lines(${s}, ${e})`);
      }
      assert.equal(mm.tell(), 0, 'the position does not move');
    });

    test('the lines are views: a write through one reaches the map', (t) => {
      const mm = open(t);
      const it = mm.lines(1000);
      let line = it.next().value as Buffer;
      while (line.length === 0) line = it.next().value as Buffer;
      const at = mm.find(line, 1000);
      line[0] = 0x21;
      assert.equal(mm.get(at), 0x21);
    });

    test(
      'close() mid-iteration: the next step throws ERR_MMAP_CLOSED, lines held read zeros',
      skipIf(onWindows, WINDOWS.zeroInPlace),
      (t) => {
        const mm = open(t);
        const it = mm.lines();
        const held = [it.next().value, it.next().value, it.next().value].filter((l) => l!.length > 0) as Buffer[];
        assert.ok(held.length > 0);
        mm.close();
        assert.throws(
          () => it.next(),
          (error: Error & { code?: string }) =>
            // the stack still reaches this file: the step's error is not anchored to lines()
            error.code === 'ERR_MMAP_CLOSED' && /23-lines-readinto/.test(error.stack ?? ''),
        );
        for (const l of held) assert.ok(l.every((b) => b === 0));
      },
    );
  });
}

test('lines(): the iterator is its own iterable; break (return()) ends it; a foreign receiver gets a coded error', () => {
  const mm = new Mmap(-1, 6);
  mm.write('a\nb\nc\n');
  const it = mm.lines();
  assert.equal(it[Symbol.iterator](), it);
  for (const line of it) {
    assert.equal(line.toString(), 'a');
    break; // calls it.return(), as it would a generator's
  }
  assert.deepEqual(it.next(), { value: undefined, done: true });
  const fresh = mm.lines(2);
  assert.equal(fresh.next().value!.toString(), 'b');
  assert.deepEqual([...fresh].map(String), ['c']);
  const next = fresh.next;
  for (const self of [undefined, {}, 5, mm]) {
    assert.throws(() => next.call(self), { name: 'TypeError', code: 'ERR_INVALID_THIS' });
    assert.throws(() => fresh.return!.call(self), { name: 'TypeError', code: 'ERR_INVALID_THIS' });
  }
  mm.close();
});

for (const windowed of [false, true]) {
  test(`every reading method, and every write, after any reading method as a fresh ${windowed ? 'windowed' : 'whole'} map's first call: the right bytes`, (t) => {
    // The first byte access makes the map's internal Buffer, and each method's fast path then
    // reads the fields it leaves behind; lines() once left them half set, and a readLine()
    // after it threw a RangeError.
    if (windowed) {
      setWindowLimitForTesting(4 * 4096);
      t.after(() => setWindowLimitForTesting(undefined));
    }
    const bytes = text(windowed ? 9 * 4096 + 77 : 3000, 11);
    const firstNewline = bytes.indexOf(0x0a);
    const record = (buf: Buffer) => Buffer.from(buf);
    const calls: Array<[string, (mm: Mmap) => unknown, unknown]> = [
      ['lines().next()', (mm) => record(mm.lines().next().value!), bytes.subarray(0, firstNewline)],
      ['get(5)', (mm) => mm.get(5), bytes[5]],
      ['readByte()', (mm) => mm.readByte(), bytes[0]],
      ['readLine()', (mm) => record(mm.readLine()), bytes.subarray(0, firstNewline + 1)],
      ['read(40)', (mm) => record(mm.read(40)), bytes.subarray(0, 40)],
      ['read(100)', (mm) => record(mm.read(100)), bytes.subarray(0, 100)],
      ['slice(7, 47)', (mm) => record(mm.slice(7, 47)), bytes.subarray(7, 47)],
      ['slice(7, 207)', (mm) => record(mm.slice(7, 207)), bytes.subarray(7, 207)],
      [
        'readInto(64 bytes)',
        (mm) => {
          const out = Buffer.alloc(64);
          mm.readInto(out);
          return out;
        },
        bytes.subarray(0, 64),
      ],
      ['find("\\n")', (mm) => mm.find('\n'), firstNewline],
      ['view(3, 10)', (mm) => record(mm.view(3, 10)), bytes.subarray(3, 13)],
    ];
    // Writes: each changes known bytes, checked through a view.
    const writes: Array<[string, (mm: Mmap) => void, (b: Buffer) => void]> = [
      ['set(5, 1)', (mm) => mm.set(5, 1), (b) => void (b[5] = 1)],
      ['writeByte(2)', (mm) => mm.writeByte(2), (b) => void (b[0] = 2)],
      ['write("xyz")', (mm) => void mm.write('xyz'), (b) => void b.write('xyz', 0)],
      ['setSlice(9, 12, "abc")', (mm) => mm.setSlice(9, 12, 'abc'), (b) => void b.write('abc', 9)],
    ];
    for (const [firstName, first, firstWant] of calls) {
      for (const [secondName, second, secondWant] of calls) {
        using mm = new Mmap(-1, bytes.length);
        mm.view().set(bytes); // through a view: no internal Buffer is made yet
        assert.deepEqual(first(mm), firstWant, firstName);
        mm.seek(0);
        assert.deepEqual(second(mm), secondWant, `${secondName} after ${firstName}`);
        mm.seek(0);
        assert.deepEqual(second(mm), secondWant, `${secondName} again after ${firstName}`);
      }
      for (const [writeName, write, expect] of writes) {
        using mm = new Mmap(-1, bytes.length);
        mm.view().set(bytes);
        first(mm);
        mm.seek(0);
        write(mm);
        const want = Buffer.from(bytes);
        expect(want);
        assert.deepEqual(Buffer.from(mm.view()), want, `${writeName} after ${firstName}`);
      }
    }
  });
}

test('lines(): bad bounds get coded errors; an empty or newline-only map', () => {
  const mm = new Mmap(-1, 4);
  for (const bad of ['1', 1.5, 1n, {}]) {
    assert.throws(() => mm.lines(bad as number), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.lines(0, bad as number), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  }
  assert.deepEqual([...mm.lines()].map(String), ['\0\0\0\0']);
  mm.setSlice(0, 4, '\n\n\n\n');
  assert.deepEqual([...mm.lines()].map(String), ['', '', '', '']);
  mm.close();
  assert.throws(() => mm.lines(), { code: 'ERR_MMAP_CLOSED' });
});

for (const windowed of [false, true]) {
  test(`readInto() on a ${windowed ? 'windowed' : 'whole'} map: the same bytes as slice(), cursor rules as read()`, (t) => {
    if (windowed) {
      setWindowLimitForTesting(64 * 1024);
      t.after(() => setWindowLimitForTesting(undefined));
    }
    const data = text(150_000, 3);
    const mm = Mmap.open(makeFile(dir, data), { access: ACCESS_WRITE });
    t.after(() => mm.close());
    const target = Buffer.alloc(70_000, 0xee);
    // From the position, advancing it; small and large counts, across window boundaries.
    for (const n of [1, 7, 16, 17, 64, 4096, 60_000]) {
      const pos = mm.tell();
      target.fill(0xee);
      assert.equal(mm.readInto(target, 3, n), n);
      assert.deepEqual(target.subarray(3, 3 + n), data.subarray(pos, pos + n));
      assert.equal(target[2], 0xee);
      assert.equal(target[3 + n], 0xee, 'nothing written past length');
      assert.equal(mm.tell(), pos + n);
    }
    // At a position: the cursor does not move.
    const before = mm.tell();
    assert.equal(mm.readInto(target, 0, 100, 65_500), 100);
    assert.deepEqual(target.subarray(0, 100), data.subarray(65_500, 65_600));
    assert.equal(mm.tell(), before);
    // The end of the map: fewer bytes, then none.
    assert.equal(mm.readInto(target, 0, 100, data.length - 10), 10);
    assert.equal(mm.readInto(target, 0, 100, data.length), 0);
    assert.equal(mm.readInto(target, 0, 100, data.length + 5), 0);
    // Defaults: the whole target; other kinds of views.
    mm.seek(0);
    const small = new Uint8Array(8);
    assert.equal(mm.readInto(small), 8);
    assert.deepEqual(Buffer.from(small), data.subarray(0, 8));
    const f64 = new Float64Array(2);
    assert.equal(mm.readInto(f64, null, null, 16), 16);
    assert.deepEqual(Buffer.from(f64.buffer), data.subarray(16, 32));
    const dv = new DataView(new ArrayBuffer(4));
    assert.equal(mm.readInto(dv, 1, 2, 40), 2);
    assert.equal(dv.getUint8(1), data[40]);
    // A view of the map itself as the target (overlapping): memmove semantics.
    const view = mm.view(0, 1000);
    assert.equal(mm.readInto(view, 10, 500, 0), 500);
    assert.deepEqual(mm.slice(10, 510), data.subarray(0, 500));
  });
}

test('readInto(): bad arguments get coded errors and change nothing', () => {
  const mm = new Mmap(-1, 100);
  mm.seek(5);
  const target = Buffer.alloc(10);
  const bad: Array<[() => unknown, string, string]> = [
    [() => mm.readInto('abc' as unknown as Buffer), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [() => mm.readInto(new ArrayBuffer(4) as unknown as Buffer), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [() => mm.readInto(target, -1), 'RangeError', 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(target, 11), 'RangeError', 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(target, 5, 6), 'RangeError', 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(target, 0, 1, -1), 'RangeError', 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(target, 0, 1, 1.5), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [() => mm.readInto(target, '1' as unknown as number), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [call, name, code] of bad) assert.throws(call, { name, code });
  assert.equal(mm.tell(), 5);
  assert.ok(target.every((b) => b === 0));
  mm.close();
  assert.throws(() => mm.readInto(target), { code: 'ERR_MMAP_CLOSED' });
});

test("readInto() runs no code of the caller's target (own getters, set, species)", () => {
  const mm = new Mmap(-1, 64);
  mm.setSlice(0, 8, 'abcdefgh');
  const target = new Uint8Array(8);
  let ran = 0;
  for (const key of ['length', 'byteLength', 'byteOffset', 'buffer']) {
    Object.defineProperty(target, key, {
      get() {
        ran++;
        mm.close();
        return 0;
      },
    });
  }
  Object.defineProperty(target, 'set', {
    value() {
      ran++;
      mm.close();
    },
  });
  Object.defineProperty(target, 'constructor', {
    get() {
      ran++;
      mm.close();
      return Uint8Array;
    },
  });
  assert.equal(mm.readInto(target, 0, 8, 0), 8);
  assert.equal(mm.readInto(target, 0, 2, 0), 2); // the small-copy path too
  assert.equal(ran, 0);
  assert.equal(mm.closed, false);
  // new Uint8Array(typedArray) reads internal slots only (Buffer.from would run the getters).
  assert.equal(Buffer.from(new Uint8Array(target)).toString(), 'abcdefgh');
  mm.close();
});

test('readInto() with the same target again: the remembered target follows every rule of the first call', () => {
  const mm = new Mmap(-1, 4096);
  for (let i = 0; i < 4096; i++) mm.set(i, i & 0xff);
  const expect = (at: number, n: number) => Buffer.from(mm.slice(at, at + n));
  const a = Buffer.alloc(64);
  const b = Buffer.alloc(64);
  // Alternating targets, positions, offsets and defaults: the same bytes as slice().
  for (let round = 0; round < 3; round++) {
    for (const [target, at] of [
      [a, 100],
      [b, 200],
      [a, 4032],
    ] as const) {
      assert.equal(mm.readInto(target, 0, 64, at), 64);
      assert.deepEqual(target, expect(at, 64));
      assert.equal(mm.readInto(target, 8, 32, at), 32);
      assert.deepEqual(target.subarray(8, 40), expect(at, 32));
    }
  }
  // Near the end: fewer bytes, then none.
  assert.equal(mm.readInto(a, 0, 64, 4060), 36);
  assert.equal(mm.readInto(a, 0, 64, 4096), 0);
  // The cursor, with every argument omitted.
  mm.seek(1000);
  assert.equal(mm.readInto(a), 64);
  assert.deepEqual(a, expect(1000, 64));
  assert.equal(mm.readInto(a), 64);
  assert.deepEqual(a, expect(1064, 64));
  assert.equal(mm.tell(), 1128);
  // Bad arguments with a remembered target: the same coded errors, nothing changed.
  const before = Buffer.from(a);
  for (const [call, code] of [
    [() => mm.readInto(a, 65), 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(a, 10, 60), 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(a, 0, 64, -1), 'ERR_OUT_OF_RANGE'],
    [() => mm.readInto(a, 0, 64, 2.5), 'ERR_INVALID_ARG_TYPE'],
    [() => mm.readInto(a, 0, '64' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
  ] as const) {
    assert.throws(call, { code });
  }
  assert.deepEqual(a, before);
  assert.equal(mm.tell(), 1128);
  // A remembered target whose buffer is detached since reads nothing, as a detached one does.
  const c = new Uint8Array(new ArrayBuffer(64));
  assert.equal(mm.readInto(c, 0, 64, 0), 64);
  assert.equal(mm.readInto(c, 0, 64, 0), 64); // a target is remembered on its second call in a row
  structuredClone(c.buffer, { transfer: [c.buffer] });
  assert.equal(c.byteLength, 0);
  assert.equal(mm.readInto(c), 0);
  assert.throws(() => mm.readInto(c, 0, 64, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(mm.tell(), 1128);
  // A view that tracks a resizable buffer is not remembered: it reads its length each call.
  const resizable = new (
    ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(n: number): void;
    }
  )(32, { maxByteLength: 128 });
  const tracking = new Uint8Array(resizable);
  assert.equal(mm.readInto(tracking, 0, undefined, 0), 32);
  assert.equal(mm.readInto(tracking, 0, undefined, 0), 32); // a second call in a row, as above
  resizable.resize(96);
  assert.equal(mm.readInto(tracking, 0, undefined, 0), 96);
  assert.deepEqual(Buffer.from(tracking), expect(0, 96));
  mm.close();
  assert.throws(() => mm.readInto(a, 0, 64, 0), { code: 'ERR_MMAP_CLOSED' });
});
