/**
 * CPython's own mmap tests (Lib/test/test_mmap.py, 3.15 with 3.13's data), ported one by one.
 * Each test is named after CPython's, so `test_find_end: ...` here is `test_find_end` there.
 *
 * The translation follows memmap's documented choices: seek() returns the new position,
 * size() of anonymous memory is its length, flush(offset) alone works, find(empty, start >
 * length) is -1, growing shared anonymous memory works and keeps the data, close()/resize()
 * with live views succeed. Python's exceptions become: "mmap closed or invalid" -> Error
 * ERR_MMAP_CLOSED; IndexError, OverflowError and out-of-range ValueErrors -> RangeError
 * ERR_OUT_OF_RANGE (ERR_INVALID_ARG_VALUE for a value outside its set); TypeError -> TypeError;
 * OSError -> Error whose code is the errno name. CPython's message text is asserted where
 * CPython has one.
 *
 * Not ported: the seven Windows-only tests. test_tagname, test_sizeof and
 * test_crasher_on_windows need `tagname` (named pagefile mappings, which POSIX does not have);
 * test_invalid_descriptor checks _get_osfhandle() on a socket; test_access_violations needs
 * a debug build's _protect() and Windows SEH; test_resize_fails_if_mapping_held_elsewhere and
 * test_resize_succeeds_with_error_for_second_named_mapping check Windows' refusal to resize a
 * section mapped twice (Linux resizes fine). 3.13's Windows-only test_no_trackfd_parameter_on_
 * windows and test_resize_{up,down}_when_mapped_to_pagefile were reworked in 3.15 into the
 * anonymous-resize tests ported below.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { getSystemErrorName } from 'node:util';

import {
  ACCESS_COPY,
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  ALLOCATIONGRANULARITY,
  MADV_NORMAL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  Mmap,
  PAGESIZE,
  PROT_EXEC,
  PROT_READ,
} from '../src/index.js';
import { collector, makeFile, openFd, scratchDir, skipOn, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();
let fileCounter = 0;
/** CPython's TESTFN: a fresh path in the scratch directory. */
const testfn = () => join(dir, `testfn-${fileCounter++}`);

type ErrorKind = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/** Asserts that fn throws exactly `Kind` (not a subclass or superclass) with `code`, and
 * `message` when given. */
function throwsLike(fn: () => unknown, Kind: ErrorKind, code: string, message?: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.equal(Object.getPrototypeOf(error), Kind.prototype, `expected a ${Kind.name}, got ${String(error)}`);
    assert.equal((error as { code?: unknown }).code, code, `wrong code for: ${String(error)}`);
    if (typeof message === 'string') assert.equal((error as Error).message, message);
    else if (message !== undefined) assert.match((error as Error).message, message);
    return true;
  });
}

const closedMsg = 'mmap closed or invalid';
const readonlyMsg = "mmap can't modify a readonly memory map.";
const b = (s: string) => Buffer.from(s, 'latin1');
const zeros = (n: number) => Buffer.alloc(n);

// ------------------------------------------------------------------------------------------
// Python's semantics, written from the language reference, as models for the comparisons.

/** bytes.find(sub, start, end) */
function pyFind(data: Uint8Array, sub: Uint8Array, start?: number, end?: number): number {
  const n = data.length;
  let s = start ?? 0;
  let e = end ?? n;
  if (s < 0) s = Math.max(0, s + n);
  if (e < 0) e = Math.max(0, e + n);
  if (e > n) e = n;
  if (s > n) return -1;
  for (let i = s; i + sub.length <= e; i++) {
    let ok = true;
    for (let j = 0; j < sub.length && ok; j++) ok = data[i + j] === sub[j];
    if (ok) return i;
  }
  return -1;
}

/** The indices list(range(n))[start:stop:step] selects. */
function pySliceIndices(n: number, start: number | null, stop: number | null, step: number | null): number[] {
  const k = step ?? 1;
  const out: number[] = [];
  if (k > 0) {
    const s = start === null ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    const e = stop === null ? n : stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
    for (let i = s; i < e; i += k) out.push(i);
  } else {
    const s = start === null ? n - 1 : start < 0 ? Math.max(-1, start + n) : Math.min(start, n - 1);
    const e = stop === null ? -1 : stop < 0 ? Math.max(-1, stop + n) : Math.min(stop, n - 1);
    for (let i = s; i > e; i += k) out.push(i);
  }
  return out;
}

/** Two pages of zeros with `foo` at PAGESIZE, mapped whole (CPython's make_mmap_file). */
function twoPageFile(halfsize = PAGESIZE): string {
  return makeFile(dir, Buffer.concat([zeros(halfsize), b('foo'), zeros(halfsize - 3)]));
}

// ------------------------------------------------------------------------------------------

test('test_basic: find, len, get/set, slices, flush, a regex over the map, seek and tell', () => {
  const path = twoPageFile();
  const fd = openSync(path, 'r+');
  let m: Mmap;
  try {
    m = new Mmap(fd, 2 * PAGESIZE);
  } finally {
    closeSync(fd); // the map keeps its own descriptor
  }

  // SF bug 128713: str(type(m)) segfaulted on Linux
  assert.equal(Object.prototype.toString.call(m), '[object Mmap]');
  assert.equal(m.find('foo'), PAGESIZE);
  assert.equal(m.length, 2 * PAGESIZE);
  assert.equal(m.get(0), 0);
  assert.deepEqual(m.slice(0, 3), zeros(3));

  // Shouldn't crash on boundary (Issue #5292)
  throwsLike(() => m.get(m.length), RangeError, 'ERR_OUT_OF_RANGE', 'mmap index out of range');
  throwsLike(() => m.set(m.length, 0), RangeError, 'ERR_OUT_OF_RANGE', 'mmap index out of range');

  // Modify the file's content
  m.set(0, '3'.charCodeAt(0));
  m.setSlice(PAGESIZE + 3, PAGESIZE + 3 + 3, 'bar');
  assert.equal(m.get(0), '3'.charCodeAt(0));
  assert.deepEqual(m.slice(0, 3), b('3\0\0'));
  assert.deepEqual(m.slice(PAGESIZE - 1, PAGESIZE + 7), b('\0foobar\0'));
  assert.equal(m.flush(), undefined);
  assert.deepEqual(readFileSync(path).subarray(PAGESIZE - 1, PAGESIZE + 7), b('\0foobar\0'));

  // A regular expression over the mapped bytes (re.search(b'[A-Za-z]+', m)): through a view.
  const match = /[A-Za-z]+/.exec(m.view().toString('latin1'));
  assert.ok(match !== null, 'regex match on mmap failed!');
  assert.equal(match.index, PAGESIZE);
  assert.equal(match.index + match[0].length, PAGESIZE + 6);

  // test seeking around (try to overflow the seek implementation)
  assert.equal(m.seekable(), true);
  assert.equal(m.seek(0, 0), 0);
  assert.equal(m.tell(), 0);
  assert.equal(m.seek(42, 1), 42);
  assert.equal(m.tell(), 42);
  assert.equal(m.seek(0, 2), m.length);
  assert.equal(m.tell(), m.length);

  throwsLike(() => m.seek(-1), RangeError, 'ERR_OUT_OF_RANGE', 'seek out of range');
  throwsLike(() => m.seek(1, 2), RangeError, 'ERR_OUT_OF_RANGE', 'seek out of range');
  throwsLike(() => m.seek(-m.length - 1, 2), RangeError, 'ERR_OUT_OF_RANGE', 'seek out of range');
  assert.equal(m.tell(), m.length, 'a failed seek leaves the position alone');

  m.close();
  assert.equal(m.closed, true);
});

test(
  'test_resize: resize(512) shrinks the map and truncates the file (bug #728515)',
  skipIf(onWindows, WINDOWS.shrinkWithViews),
  () => {
    const path = twoPageFile();
    const fd = openSync(path, 'r+');
    let m: Mmap;
    try {
      m = new Mmap(fd, 2 * PAGESIZE);
    } finally {
      closeSync(fd);
    }
    // A live view does not block the resize (CPython: BufferError); it reads zeros instead.
    const view = m.view(PAGESIZE, 3);
    assert.deepEqual(view, b('foo'));
    m.resize(512);
    assert.equal(m.length, 512);
    assert.deepEqual(view, Buffer.alloc(3), 'the old view reads zeros');
    // Check that we can no longer seek beyond the new size.
    throwsLike(() => m.seek(513, 0), RangeError, 'ERR_OUT_OF_RANGE', 'seek out of range');
    // Check that the underlying file is truncated too.
    assert.equal(statSync(path).size, 512);
    assert.equal(m.size(), 512);
    m.close();
  },
);

test(
  'test_access_parameter: ACCESS_READ refuses writes, WRITE writes through, COPY stays private, bad combinations throw',
  skipIf(onWindows, WINDOWS.flags),
  (t) => {
    const mapsize = 10;
    const path = makeFile(dir, 'a'.repeat(mapsize));

    {
      const fd = openFd(path, 'r');
      const m = new Mmap(fd, mapsize, { access: ACCESS_READ });
      assert.deepEqual(m.slice(), b('a'.repeat(mapsize)), 'Readonly memory map data incorrect.');
      throwsLike(() => m.setSlice(null, null, 'b'.repeat(mapsize)), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      throwsLike(() => m.set(0, 'b'.charCodeAt(0)), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      m.seek(0, 0);
      throwsLike(() => m.write('abc'), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      m.seek(0, 0);
      throwsLike(() => m.writeByte('d'.charCodeAt(0)), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      throwsLike(
        () => m.resize(2 * mapsize),
        TypeError,
        'ERR_MMAP_NOT_RESIZABLE',
        "mmap can't resize a readonly or copy-on-write memory map.",
      );
      assert.equal(readFileSync(path, 'latin1'), 'a'.repeat(mapsize), 'Readonly memory map data file was modified');
      m.close();
    }

    // Opening mmap with size too big: an error on Unix (Windows would extend the file).
    {
      const fd = openFd(path, 'r+');
      throwsLike(
        () => new Mmap(fd, mapsize + 1),
        RangeError,
        'ERR_OUT_OF_RANGE',
        'mmap length is greater than file size',
      );
      assert.equal(statSync(path).size, mapsize);
    }

    // ACCESS_WRITE
    {
      const fd = openFd(path, 'r+');
      const m = new Mmap(fd, mapsize, { access: ACCESS_WRITE });
      m.setSlice(null, null, 'c'.repeat(mapsize));
      assert.deepEqual(m.slice(), b('c'.repeat(mapsize)), 'Write-through memory map memory not updated properly.');
      m.flush();
      m.close();
      assert.equal(
        readFileSync(path, 'latin1'),
        'c'.repeat(mapsize),
        'Write-through memory map data file not updated properly.',
      );
    }

    // ACCESS_COPY
    {
      const fd = openFd(path, 'r+');
      const m = new Mmap(fd, mapsize, { access: ACCESS_COPY });
      m.setSlice(null, null, 'd'.repeat(mapsize));
      assert.deepEqual(m.slice(), b('d'.repeat(mapsize)), 'Copy-on-write memory map data not written correctly.');
      m.flush();
      assert.equal(
        readFileSync(path, 'latin1'),
        'c'.repeat(mapsize),
        'Copy-on-write test data file should not be modified.',
      );
      throwsLike(
        () => m.resize(2 * mapsize),
        TypeError,
        'ERR_MMAP_NOT_RESIZABLE',
        "mmap can't resize a readonly or copy-on-write memory map.",
      );
      m.close();
    }

    // Invalid access parameter
    {
      const fd = openFd(path, 'r+');
      throwsLike(
        () => new Mmap(fd, mapsize, { access: 4 }),
        RangeError,
        'ERR_INVALID_ARG_VALUE',
        'mmap invalid access parameter.',
      );
      // Incompatible flags, prot and access parameters.
      throwsLike(
        () => new Mmap(fd, mapsize, { flags: MAP_PRIVATE, prot: PROT_READ, access: ACCESS_WRITE }),
        TypeError,
        'ERR_INCOMPATIBLE_OPTION_PAIR',
        "mmap can't specify both access and flags, prot.",
      );
    }

    // Writing with PROT_EXEC and without PROT_WRITE
    {
      const fd = openFd(path, 'r+');
      let m: Mmap;
      try {
        m = new Mmap(fd, mapsize, { prot: PROT_READ | PROT_EXEC });
      } catch (error) {
        // CPython tolerates PermissionError here (macOS 14); a noexec file system does the same.
        if ((error as { code?: string }).code === 'EPERM' || (error as { code?: string }).code === 'EACCES') {
          t.diagnostic(`PROT_READ | PROT_EXEC refused: ${(error as Error).message}`);
          return;
        }
        throw error;
      }
      throwsLike(() => m.write('abcdef'), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      throwsLike(() => m.writeByte(0), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
      m.close();
      assert.equal(readFileSync(path, 'latin1'), 'c'.repeat(mapsize));
    }
  },
);

for (const closeOriginalFd of [true, false]) {
  test(`test_trackfd_parameter: trackfd false, close_original_fd=${closeOriginalFd}`, () => {
    const size = 64;
    const path = makeFile(dir, 'a'.repeat(size));
    const fd = openSync(path, 'r+');
    let outer: Mmap;
    try {
      using m = new Mmap(fd, size, { trackfd: false });
      outer = m;
      if (closeOriginalFd) closeSync(fd);
      assert.equal(m.length, size);
      throwsLike(() => m.size(), Error, 'ERR_MMAP_TRACKFD', "can't get size with trackfd=False");
      throwsLike(() => m.resize(size * 2), Error, 'ERR_MMAP_TRACKFD', "mmap can't resize with trackfd=False.");
      throwsLike(() => m.resize(size / 2), Error, 'ERR_MMAP_TRACKFD', "mmap can't resize with trackfd=False.");
      assert.equal(m.closed, false);
      assert.equal(m.length, size);

      // Smoke-test other API
      m.writeByte('X'.charCodeAt(0));
      m.set(2, 'Y'.charCodeAt(0));
      m.flush();
      assert.equal(readFileSync(path, 'latin1').slice(0, 4), 'XaYa');
      assert.equal(m.tell(), 1);
      m.seek(0);
      assert.equal(m.tell(), 0);
      assert.equal(m.readByte(), 'X'.charCodeAt(0));

      // The file can be renamed while it is mapped (and the map follows it).
      const moved = path + '.moved';
      renameSync(path, moved);
      m.set(3, 'Z'.charCodeAt(0));
      assert.equal(readFileSync(moved, 'latin1').slice(0, 4), 'XaYZ');
      renameSync(moved, path);
    } finally {
      if (!closeOriginalFd) closeSync(fd);
    }
    assert.equal(outer.closed, true);
    assert.equal(statSync(path).size, size);
  });
}

test('test_trackfd_neg1: anonymous memory with trackfd false: size() and resize() refuse, the bytes work', () => {
  const size = 64;
  using m = new Mmap(-1, size, { trackfd: false });
  throwsLike(() => m.size(), Error, 'ERR_MMAP_TRACKFD', "can't get size with trackfd=False");
  throwsLike(() => m.resize(size / 2), Error, 'ERR_MMAP_TRACKFD', "mmap can't resize with trackfd=False.");
  assert.equal(m.length, size);
  m.set(0, 'a'.charCodeAt(0));
  assert.equal(m.get(0), 'a'.charCodeAt(0));
});

test('test_bad_file_desc: fileno -2 is EBADF', () => {
  throwsLike(() => new Mmap(-2, 4096), Error, 'EBADF', /^EBADF: bad file descriptor, \w+$/);
  try {
    new Mmap(-2, 4096);
  } catch (error) {
    // -9 on Linux; on Windows libuv's own number for EBADF, as in an fs error there.
    assert.equal(getSystemErrorName((error as { errno: number }).errno), 'EBADF');
    assert.equal(typeof (error as { syscall?: unknown }).syscall, 'string');
  }
});

test('test_tougher_find: find() with embedded NULs matches bytes.find (SF bug 515943)', () => {
  const data = b('aabaac\x00deef\x00\x00aa\x00');
  const n = data.length;
  const path = makeFile(dir, data);
  const fd = openSync(path, 'r+');
  const m = new Mmap(fd, n);
  closeSync(fd);
  let checked = 0;
  for (let start = 0; start <= n; start++) {
    for (let finish = start; finish <= n; finish++) {
      const slice = data.subarray(start, finish);
      assert.equal(m.find(slice), pyFind(data, slice), `find(${JSON.stringify(slice.toString('latin1'))})`);
      assert.equal(m.find(Buffer.concat([slice, b('x')])), -1);
      checked++;
    }
  }
  assert.equal(checked, ((n + 1) * (n + 2)) / 2);
  m.close();
});

test('test_find_end: find() with start and end, negative ones included, agrees with bytes.find', () => {
  const data = b('one two ones');
  const n = data.length;
  const path = makeFile(dir, data);
  const fd = openSync(path, 'r+');
  const m = new Mmap(fd, n);
  closeSync(fd);

  assert.equal(m.find('one'), 0);
  assert.equal(m.find('ones'), 8);
  assert.equal(m.find('one', 0, -1), 0);
  assert.equal(m.find('one', 1), 8);
  assert.equal(m.find('one', 1, -1), 8);
  assert.equal(m.find('one', 1, -2), -1);
  assert.equal(m.find(new Uint8Array(b('one'))), 0); // bytearray(b'one')

  for (let i = -n - 1; i <= n; i++) {
    for (let j = -n - 1; j <= n; j++) {
      for (const p of ['o', 'on', 'two', 'ones', 's']) {
        assert.equal(m.find(p, i, j), pyFind(data, b(p), i, j), `find(${p}, ${i}, ${j})`);
      }
    }
  }

  // 3.15 (gh-151021): an empty needle past the end is not found, as bytes.find(b'', n + 1) says.
  assert.equal(pyFind(data, zeros(0), n + 1), -1);
  assert.equal(m.find('', n + 1), -1);
  assert.equal(m.rfind('', n + 1), -1);
  assert.equal(m.find('', n), n);
  assert.equal(m.rfind('', n), n);
  m.close();
});

test(
  'test_find_does_not_access_beyond_buffer: find() near the end never touches the page after the map (gh-105235)',
  skipIf(onWindows, WINDOWS.fsResize),
  () => {
    // CPython puts a PROT_NONE guard map right above the searched map, so a read past the end
    // crashes. memmap maps every read-only map readable (so prot 0 does not make a guard); the
    // guard here is a file map whose file was then truncated to nothing: a touch of it is caught
    // by memmap's SIGBUS guard and sets its `faulted`, so a stray read is seen, not just survived.
    const path = testfn();
    const fd = openSync(path, 'w+');
    try {
      let tried = 0;
      for (let i = 0; i < 2049; i++) {
        ftruncateSync(fd, PAGESIZE * (i + 1));
        const guard = new Mmap(fd, PAGESIZE * (i + 1), { trackfd: false });
        ftruncateSync(fd, 0);
        const fm = new Mmap(-1, PAGESIZE * (i + 2048), { flags: MAP_PRIVATE | MAP_ANONYMOUS, prot: PROT_READ });
        try {
          assert.equal(fm.find('fo', -2), -1);
          assert.equal(guard.faulted, false, `find() read the page after the map (i = ${i})`);
          tried++;
        } finally {
          fm.close();
          guard.close();
        }
      }
      assert.equal(tried, 2049);

      // The detector works: touching such a guard is seen.
      ftruncateSync(fd, PAGESIZE);
      const guard = new Mmap(fd, PAGESIZE, { trackfd: false });
      ftruncateSync(fd, 0);
      throwsLike(() => guard.get(0), Error, 'ERR_MMAP_TRUNCATED');
      assert.equal(guard.faulted, true);
      guard.close();
    } finally {
      closeSync(fd);
    }
  },
);

test('test_rfind: rfind() with start and end', () => {
  const data = b('one two ones');
  const n = data.length;
  const path = makeFile(dir, data);
  const fd = openSync(path, 'r+');
  const m = new Mmap(fd, n);
  closeSync(fd);
  assert.equal(m.rfind('one'), 8);
  assert.equal(m.rfind('one '), 0);
  assert.equal(m.rfind('one', 0, -1), 8);
  assert.equal(m.rfind('one', 0, -2), 0);
  assert.equal(m.rfind('one', 1, -1), 8);
  assert.equal(m.rfind('one', 1, -2), -1);
  assert.equal(m.rfind(new Uint8Array(b('one'))), 8); // bytearray(b'one')
  m.close();
});

test('test_double_close: close() twice is fine (Bug 665913)', skipIf(onWindows, WINDOWS.zeroInPlace), () => {
  const path = makeFile(dir, 'a'.repeat(2 ** 16));
  const fd = openFd(path, 'r');
  const mf = new Mmap(fd, 2 ** 16, { access: ACCESS_READ });
  const view = mf.view(); // does not block close() (CPython: BufferError); it reads zeros after
  assert.equal(view.length, 2 ** 16);
  assert.equal(mf.close(), undefined);
  assert.equal(view.length, 2 ** 16);
  assert.ok(view.every((x) => x === 0));
  assert.equal(mf.close(), undefined);
  assert.equal(mf.closed, true);
  throwsLike(() => mf.read(), Error, 'ERR_MMAP_CLOSED', closedMsg);
});

test('test_entire_file: length 0 maps the whole file', () => {
  const path = makeFile(dir, 'm'.repeat(2 ** 16));
  const fd = openFd(path, 'r+');
  using mf = new Mmap(fd, 0);
  assert.equal(mf.length, 2 ** 16, 'Map size should equal file size.');
  assert.deepEqual(mf.read(2 ** 16), b('m'.repeat(2 ** 16)));
});

test('test_length_0_offset: length 0 with an offset maps the rest of the file (Issue #10916)', () => {
  const path = makeFile(dir, 'm'.repeat(65536 * 2));
  const fd = openFd(path, 'r');
  using mf = new Mmap(fd, 0, { offset: 65536, access: ACCESS_READ });
  assert.equal(mf.length, 65536);
  throwsLike(() => mf.get(80000), RangeError, 'ERR_OUT_OF_RANGE', 'mmap index out of range');
});

test('test_length_0_large_offset: length 0 with an offset past the end throws (Issue #10959)', () => {
  // CPython reopens the file with "w+b", which empties it, so its ValueError is in fact
  // "cannot mmap an empty file". Both that and the case the test means are checked.
  const path = makeFile(dir, 'm'.repeat(115699));
  {
    const fd = openFd(path, 'w+');
    throwsLike(
      () => new Mmap(fd, 0, { offset: 2147418112 }),
      Error,
      'ERR_MMAP_EMPTY_FILE',
      'cannot mmap an empty file',
    );
  }
  writeFileSync(path, 'm'.repeat(115699));
  {
    const fd = openFd(path, 'r+');
    throwsLike(
      () => new Mmap(fd, 0, { offset: 2147418112 }),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'mmap offset is greater than file size',
    );
  }
});

test('test_move: move() is memmove, over every dest/src/count of 10 bytes, and refuses bad ranges (Issue 5387)', () => {
  {
    const path = makeFile(dir, 'ABCDEabcde');
    const fd = openFd(path, 'r+');
    const mf = new Mmap(fd, 10);
    mf.move(5, 0, 5);
    assert.deepEqual(mf.slice(), b('ABCDEABCDE'), 'Map move should have duplicated front 5');
    mf.close();
  }

  // more excessive test
  const data = b('0123456789');
  let cases = 0;
  for (let dest = 0; dest < data.length; dest++) {
    for (let src = 0; src < data.length; src++) {
      for (let count = 0; count < data.length - Math.max(dest, src); count++) {
        const expected = Buffer.concat([
          data.subarray(0, dest),
          data.subarray(src, src + count),
          data.subarray(dest + count),
        ]);
        const m = new Mmap(-1, data.length);
        m.setSlice(null, null, data);
        m.move(dest, src, count);
        assert.deepEqual(m.slice(), expected, `move(${dest}, ${src}, ${count})`);
        m.close();
        cases++;
      }
    }
  }
  assert.equal(cases, 385);

  // segfault test (Issue 5387): every combination either works or throws the range error.
  {
    const m = new Mmap(-1, 100);
    const offsets = [-100, -1, 0, 1, 100];
    let refused = 0;
    for (const source of offsets) {
      for (const dest of offsets) {
        for (const size of offsets) {
          try {
            m.move(source, dest, size);
          } catch (error) {
            assert.ok(error instanceof RangeError, String(error));
            assert.equal((error as { code?: string }).code, 'ERR_OUT_OF_RANGE');
            assert.equal(error.message, 'source, destination, or count out of range');
            refused++;
          }
        }
      }
    }
    assert.ok(refused > 0 && refused < 125);
    for (const [source, dest, size] of [
      [-1, -1, -1],
      [-1, -1, 0],
      [-1, 0, -1],
      [0, -1, -1],
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, -1],
    ] as const) {
      throwsLike(
        () => m.move(source, dest, size),
        RangeError,
        'ERR_OUT_OF_RANGE',
        'source, destination, or count out of range',
      );
    }
    m.close();
  }

  {
    const m = new Mmap(-1, 1); // single byte
    throwsLike(() => m.move(0, 0, 2), RangeError, 'ERR_OUT_OF_RANGE', 'source, destination, or count out of range');
    throwsLike(() => m.move(1, 0, 1), RangeError, 'ERR_OUT_OF_RANGE', 'source, destination, or count out of range');
    throwsLike(() => m.move(0, 1, 1), RangeError, 'ERR_OUT_OF_RANGE', 'source, destination, or count out of range');
    assert.equal(m.move(0, 0, 1), undefined);
    assert.equal(m.move(0, 0, 0), undefined);
    m.close();
  }
});

test('test_anonymous: anonymous memory is zero-filled, byte-writable, and size() is its length', () => {
  using m = new Mmap(-1, PAGESIZE);
  for (let x = 0; x < PAGESIZE; x++) assert.equal(m.get(x), 0, "anonymously mmap'ed contents should be zero");
  for (let x = 0; x < PAGESIZE; x++) {
    const v = x & 0xff;
    m.set(x, v);
    assert.equal(m.get(x), v);
  }
  assert.equal(m.size(), PAGESIZE);
});

test('test_read_all: read() with no argument, null or a negative count reads to the end', () => {
  using m = new Mmap(-1, 16);
  const all = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  m.write(all);
  m.seek(0);
  assert.deepEqual(m.read(), all);
  m.seek(8);
  assert.deepEqual(m.read(), all.subarray(8));
  m.seek(16);
  assert.deepEqual(m.read(), zeros(0));
  m.seek(3);
  assert.deepEqual(m.read(null), all.subarray(3));
  m.seek(4);
  assert.deepEqual(m.read(-1), all.subarray(4));
  m.seek(5);
  assert.deepEqual(m.read(-2), all.subarray(5));
  m.seek(9);
  assert.deepEqual(m.read(-42), all.subarray(9));
  assert.equal(m.tell(), 16);
});

test('test_read_invalid_arg: read() of a string or an array is a TypeError', () => {
  using m = new Mmap(-1, 16);
  throwsLike(() => m.read('foo' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsLike(() => m.read([1, 2, 3] as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
  assert.equal(m.tell(), 0);
});

test('test_read_invalid_arg: read(5.5) is a TypeError', () => {
  using m = new Mmap(-1, 16);
  throwsLike(() => m.read(5.5), TypeError, 'ERR_INVALID_ARG_TYPE');
  assert.equal(m.tell(), 0);
});

// sys.maxsize: the largest index a JS number holds exactly.
const sliceGrid = [0, null, 1, 3, 19, 300, Number.MAX_SAFE_INTEGER, -1, -2, -31, -300] as const;

test('test_extended_getslice: slice(start, stop, step) equals Python slicing over the whole index grid', () => {
  const s = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  using m = new Mmap(-1, s.length);
  m.setSlice(null, null, s);
  assert.deepEqual(m.slice(), s);
  let checked = 0;
  for (const start of sliceGrid) {
    for (const stop of sliceGrid) {
      for (const step of sliceGrid.slice(1)) {
        // skip step 0 (invalid)
        const expected = Buffer.from(pySliceIndices(s.length, start, stop, step).map((i) => s[i]!));
        assert.deepEqual(m.slice(start, stop, step), expected, `[${start}:${stop}:${step}]`);
        checked++;
      }
    }
  }
  assert.equal(checked, 11 * 11 * 10);
  throwsLike(() => m.slice(null, null, 0), RangeError, 'ERR_OUT_OF_RANGE', 'slice step cannot be zero');
});

test('test_extended_set_del_slice: setSlice(start, stop, data, step) equals Python slice assignment', () => {
  const s = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  using m = new Mmap(-1, s.length);
  for (const start of sliceGrid) {
    for (const stop of sliceGrid) {
      for (const step of sliceGrid.slice(1)) {
        m.setSlice(null, null, s);
        assert.deepEqual(m.slice(), s);
        const L = Buffer.from(s);
        const indices = pySliceIndices(s.length, start, stop, step);
        // A slice of exactly the right length, but with different data.
        const data = Buffer.from(indices.map((i) => L[i]!).reverse());
        indices.forEach((at, k) => {
          L[at] = data[k]!;
        });
        m.setSlice(start, stop, data, step);
        assert.deepEqual(m.slice(), L, `[${start}:${stop}:${step}] = ...`);
      }
    }
  }
  throwsLike(() => m.setSlice(0, 10, zeros(9)), RangeError, 'ERR_OUT_OF_RANGE', 'mmap slice assignment is wrong size');
});

test('test_empty_file: mapping the whole of an empty file throws', () => {
  const path = makeFile(dir, '');
  const fd = openFd(path, 'r');
  throwsLike(() => new Mmap(fd, 0, { access: ACCESS_READ }), Error, 'ERR_MMAP_EMPTY_FILE', 'cannot mmap an empty file');
});

test('test_offset: bad offsets throw; a valid one maps from there; resize keeps the content and sets the file to offset + size', () => {
  const halfsize = ALLOCATIONGRANULARITY;
  const path = twoPageFile(halfsize);
  {
    const fd = openFd(path, 'r+');
    const m = new Mmap(fd, 0);
    assert.equal(m.length, 2 * halfsize);
    m.close();
  }
  const mapsize = halfsize * 2;
  const fd = openFd(path, 'r+');
  // Invalid offsets: -2 and -1 are out of range; a string is not a number. (CPython also refuses
  // offset=None; in memmap null means "not given" for every option, as undefined does.)
  throwsLike(
    () => new Mmap(fd, mapsize, { offset: -2 }),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'memory mapped offset must be positive',
  );
  throwsLike(
    () => new Mmap(fd, mapsize, { offset: -1 }),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'memory mapped offset must be positive',
  );
  throwsLike(() => new Mmap(fd, mapsize, { offset: '0' as unknown as number }), TypeError, 'ERR_INVALID_ARG_TYPE');
  {
    const whole = new Mmap(fd, mapsize, { offset: null });
    assert.equal(whole.offset, 0);
    assert.equal(whole.length, mapsize);
    whole.close();
  }

  const m = new Mmap(fd, mapsize - halfsize, { offset: halfsize });
  assert.deepEqual(m.slice(0, 3), b('foo'));
  m.resize(512);
  assert.equal(m.length, 512);
  throwsLike(() => m.seek(513, 0), RangeError, 'ERR_OUT_OF_RANGE', 'seek out of range');
  assert.deepEqual(m.slice(0, 3), b('foo'), 'the content is not changed');
  assert.equal(statSync(path).size, halfsize + 512);
  assert.equal(m.size(), halfsize + 512);
  m.close();
});

test('test_subclass: a subclass whose constructor forwards -1 makes anonymous memory', () => {
  // CPython overrides __new__; a JS subclass forwards its arguments through super().
  class AnonMmap extends Mmap {
    constructor(length: number) {
      super(-1, length);
    }
  }
  using m = new AnonMmap(PAGESIZE);
  assert.ok(m instanceof AnonMmap);
  assert.ok(m instanceof Mmap);
  assert.equal(m.length, PAGESIZE);
  m.write('subclass');
  m.seek(0);
  assert.deepEqual(m.read(8), b('subclass'));
});

test('test_prot_readonly: prot PROT_READ makes write() throw', skipIf(onWindows, WINDOWS.flags), () => {
  const mapsize = 10;
  const path = makeFile(dir, 'a'.repeat(mapsize));
  const fd = openFd(path, 'r');
  const m = new Mmap(fd, mapsize, { prot: PROT_READ });
  throwsLike(() => m.write('foo'), TypeError, 'ERR_MMAP_READONLY', readonlyMsg);
  assert.equal(m.access, ACCESS_READ);
  m.close();
  assert.equal(readFileSync(path, 'latin1'), 'a'.repeat(mapsize));
});

test(
  'test_error: system errors are the same kind of error node:fs throws',
  skipOn(
    'deno',
    "Deno's node:fs errors carry no errno or syscall ('Bad file descriptor (os error 9)'): there is no Node-shaped fs error to compare with",
  ),
  () => {
    // Python checks `mmap.error is OSError`. In Node the counterpart of OSError is the plain
    // Error with code/errno/syscall that fs throws: memmap's system errors have that shape.
    let fsError: unknown;
    try {
      closeSync(2 ** 30);
    } catch (error) {
      fsError = error;
    }
    let ours: unknown;
    try {
      new Mmap(-2, 4096);
    } catch (error) {
      ours = error;
    }
    assert.ok(fsError instanceof Error && ours instanceof Error);
    assert.equal(Object.getPrototypeOf(ours), Object.getPrototypeOf(fsError));
    const shape = (e: unknown) => {
      const { code, errno, syscall } = e as { code: unknown; errno: unknown; syscall: unknown };
      return { code, errno, syscallType: typeof syscall };
    };
    assert.deepEqual(shape(ours), shape(fsError));
    // The same message layout as fs: "EBADF: bad file descriptor, <syscall>".
    const layout = (e: unknown) => (e as Error).message.replace(/, \w+$/, ', <syscall>');
    assert.equal(layout(ours), layout(fsError));
  },
);

test('test_io_methods: writeByte/readByte/read/write move the position and stop at the end', () => {
  const data = b('0123456789');
  const path = makeFile(dir, 'x'.repeat(data.length));
  const fd = openSync(path, 'r+');
  const m = new Mmap(fd, data.length);
  closeSync(fd);
  // writeByte()
  for (let i = 0; i < data.length; i++) {
    assert.equal(m.tell(), i);
    m.writeByte(data[i]!);
    assert.equal(m.tell(), i + 1);
  }
  throwsLike(() => m.writeByte('x'.charCodeAt(0)), RangeError, 'ERR_OUT_OF_RANGE', 'write byte out of range');
  assert.deepEqual(m.slice(), data);
  // readByte()
  m.seek(0);
  for (let i = 0; i < data.length; i++) {
    assert.equal(m.tell(), i);
    assert.equal(m.readByte(), data[i]);
    assert.equal(m.tell(), i + 1);
  }
  throwsLike(() => m.readByte(), RangeError, 'ERR_OUT_OF_RANGE', 'read byte out of range');
  // read()
  m.seek(3);
  assert.deepEqual(m.read(3), b('345'));
  assert.equal(m.tell(), 6);
  // write()
  m.seek(3);
  m.write('bar');
  assert.equal(m.tell(), 6);
  assert.deepEqual(m.slice(), b('012bar6789'));
  m.write(new Uint8Array(b('baz'))); // bytearray(b"baz")
  assert.equal(m.tell(), 9);
  assert.deepEqual(m.slice(), b('012barbaz9'));
  throwsLike(() => m.write('ba'), RangeError, 'ERR_OUT_OF_RANGE', 'data out of range');
  assert.equal(m.tell(), 9);
  assert.deepEqual(m.slice(), b('012barbaz9'), 'no partial write');
  m.close();
  assert.equal(readFileSync(path, 'latin1'), '012barbaz9');
});

test('test_non_ascii_byte: bytes above 127 round-trip through writeByte, get and readByte', () => {
  for (const v of [129, 200, 255]) {
    const m = new Mmap(-1, 1);
    m.writeByte(v);
    assert.equal(m.get(0), v);
    m.seek(0);
    assert.equal(m.readByte(), v);
    m.close();
  }
});

test('test_context_manager: a `using` block closes the map', () => {
  let outer: Mmap;
  {
    using m = new Mmap(-1, 10);
    outer = m;
    assert.equal(m.closed, false);
  }
  assert.equal(outer.closed, true);
});

test('test_context_manager_exception: an error thrown inside `using` propagates and the map is closed', () => {
  let outer: Mmap | undefined;
  const thrown = Object.assign(new Error('boom'), { code: 'EIO' });
  assert.throws(
    () => {
      using m = new Mmap(-1, 10);
      outer = m;
      throw thrown;
    },
    (error: unknown) => error === thrown,
  );
  assert.ok(outer !== undefined);
  assert.equal(outer.closed, true, 'context manager failed');
});

test('test_weakref: a WeakRef to a map clears once the map is dropped and collected', async () => {
  const gc = collector();
  const make = () => {
    const mm = new Mmap(-1, 16);
    const wr = new WeakRef(mm);
    assert.equal(wr.deref(), mm);
    return wr;
  };
  const wr = make();
  // A WeakRef's target lives until the end of the job that created or read it.
  for (let i = 0; i < 20 && wr.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  assert.equal(wr.deref(), undefined);
});

test('test_write_returning_the_number_of_bytes_written: write() returns the byte count', () => {
  using mm = new Mmap(-1, 16);
  assert.equal(mm.write(''), 0);
  assert.equal(mm.write('x'), 1);
  assert.equal(mm.write('yz'), 2);
  assert.equal(mm.write('python'), 6);
  assert.equal(mm.tell(), 9);
});

test('test_resize_past_pos: after shrinking below the position, reads are empty and writes throw', () => {
  using m = new Mmap(-1, 8192);
  m.read(5000);
  m.resize(4096);
  assert.equal(m.tell(), 5000);
  assert.deepEqual(m.read(14), zeros(0));
  throwsLike(() => m.readByte(), RangeError, 'ERR_OUT_OF_RANGE', 'read byte out of range');
  throwsLike(() => m.writeByte(42), RangeError, 'ERR_OUT_OF_RANGE', 'write byte out of range');
  throwsLike(() => m.write('abc'), RangeError, 'ERR_OUT_OF_RANGE', 'data out of range');
});

test('test_concat_repeat_exception: a map is not a byte sequence to concatenate or repeat', () => {
  // Python's m + m and m * 2 are TypeErrors. JS has no operator overloading, so the intent
  // ported is: neither operator yields bytes, and there is no concat/repeat method.
  using m = new Mmap(-1, 16);
  const plus = (m as unknown as string) + (m as unknown as string);
  assert.equal(typeof plus, 'string');
  assert.equal(plus, String(m) + String(m));
  assert.match(String(m), /^<mmap\.mmap closed=False/);
  assert.ok(Number.isNaN((m as unknown as number) * 2));
  assert.equal((m as unknown as Record<string, unknown>)['concat'], undefined);
  assert.equal((m as unknown as Record<string, unknown>)['repeat'], undefined);
});

test('test_flush_return_value: flush() returns undefined; flush(1, 6) rounds the offset down and succeeds', () => {
  // CPython's flush(1, 6) is EINVAL on Linux (msync wants a page-aligned address, bpo-34754);
  // memmap rounds the offset down to the page.
  using mm = new Mmap(-1, 16);
  mm.write('python');
  assert.equal(mm.flush(), undefined);
  assert.equal(mm.flush(1, 'python'.length), undefined);

  const path = makeFile(dir, zeros(2 * PAGESIZE));
  const fd = openFd(path, 'r+');
  using fm = new Mmap(fd, 2 * PAGESIZE);
  fm.seek(PAGESIZE + 1);
  fm.write('python');
  assert.equal(fm.flush(PAGESIZE + 1, 6), undefined);
  assert.deepEqual(readFileSync(path).subarray(PAGESIZE + 1, PAGESIZE + 7), b('python'));
});

test("test_repr: toString() is CPython's repr for every access mode, position, size and offset", () => {
  const openPattern =
    /^<mmap\.mmap closed=False, access=(?<access>\S+), length=(?<length>\d+), pos=(?<pos>\d+), offset=(?<offset>\d+)>$/;
  const mapsizes = [50, 100, 1_000, 1_000_000, 10_000_000];
  const accesses = { ACCESS_DEFAULT, ACCESS_READ, ACCESS_COPY, ACCESS_WRITE } as const;
  for (const mapsize of mapsizes) {
    const offset = Math.floor(mapsize / 2 / ALLOCATIONGRANULARITY) * ALLOCATIONGRANULARITY;
    const length = mapsize - offset;
    const positions = [0, Math.floor(length / 10), Math.floor(length / 5), Math.floor(length / 4)];
    const path = makeFile(dir, Buffer.alloc(mapsize, 'a'));
    const fd = openFd(path, 'r+');
    for (const [name, access] of Object.entries(accesses)) {
      for (const pos of positions) {
        const mm = new Mmap(fd, length, { access, offset });
        mm.seek(pos);
        const match = openPattern.exec(String(mm));
        assert.ok(match?.groups, String(mm));
        assert.equal(match.groups['access'], name);
        assert.equal(match.groups['length'], String(length));
        assert.equal(match.groups['pos'], String(pos));
        assert.equal(match.groups['offset'], String(offset));
        mm.close();
        assert.equal(String(mm), '<mmap.mmap closed=True>');
      }
    }
    unlinkSync(path);
  }
});

test(
  "test_madvise: range errors with CPython's messages; valid calls return undefined",
  skipIf(onWindows, WINDOWS.madvise),
  () => {
    const size = 2 * PAGESIZE;
    using m = new Mmap(-1, size);
    throwsLike(() => m.madvise(MADV_NORMAL, size), RangeError, 'ERR_OUT_OF_RANGE', 'madvise start out of bounds');
    throwsLike(() => m.madvise(MADV_NORMAL, -1), RangeError, 'ERR_OUT_OF_RANGE', 'madvise start out of bounds');
    throwsLike(() => m.madvise(MADV_NORMAL, 0, -1), RangeError, 'ERR_OUT_OF_RANGE', 'madvise length invalid');
    throwsLike(
      () => m.madvise(MADV_NORMAL, PAGESIZE, Number.MAX_SAFE_INTEGER),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'madvise length too large',
    );
    throwsLike(() => m.madvise(MADV_NORMAL, 0, 'Not a Number' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
    assert.equal(m.madvise(MADV_NORMAL), undefined);
    assert.equal(m.madvise(MADV_NORMAL, PAGESIZE), undefined);
    assert.equal(m.madvise(MADV_NORMAL, PAGESIZE, size), undefined);
    assert.equal(m.madvise(MADV_NORMAL, 0, 2), undefined);
    assert.equal(m.madvise(MADV_NORMAL, 0, size), undefined);
    assert.equal(m.madvise(MADV_NORMAL, 0, null), undefined); // 3.15: length None
    // CPython also accepts __index__ objects; memmap never converts objects (see gh-103987 below).
    let converted = 0;
    const index = {
      valueOf: () => {
        converted++;
        return PAGESIZE;
      },
    };
    throwsLike(() => m.madvise(MADV_NORMAL, index as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
    assert.equal(converted, 0);
  },
);

test(
  'test_resize_up_anonymous_mapping: shared anonymous memory grows, keeps its data and zero-fills the tail',
  {
    ...skipIf(onWindows, WINDOWS.memoryFile),
    ...skipOn(
      'deno',
      "Deno's node:fs knows only descriptors Deno opened itself: fstat of mm.fd, a descriptor the addon made, is EBADF there",
    ),
  },
  () => {
    // CPython refuses this on Linux (ValueError, gh-138204) because its shared anonymous memory
    // cannot grow; memmap's lives in a memory file, which can. The checks are the ones CPython
    // makes where the grow is allowed, plus a write to the new tail.
    const startSize = PAGESIZE;
    const newSize = 2 * startSize;
    const data = randomBytes(startSize);
    using m = new Mmap(-1, startSize);
    m.setSlice(null, null, data);
    m.resize(newSize);
    assert.equal(m.length, newSize);
    assert.deepEqual(m.slice(0, startSize), data);
    assert.deepEqual(m.slice(startSize), zeros(newSize - startSize));
    m.set(newSize - 1, 0xab);
    assert.equal(m.get(newSize - 1), 0xab);
    assert.equal(m.faulted, false);
    assert.equal(fstatSync(m.fd).size, newSize);
  },
);

test('test_resize_up_private_anonymous_mapping: private anonymous memory grows, keeps its data and zero-fills the tail', () => {
  const startSize = PAGESIZE;
  const newSize = 2 * startSize;
  const data = randomBytes(startSize);
  using m = new Mmap(-1, startSize, { flags: MAP_PRIVATE });
  m.setSlice(null, null, data);
  m.resize(newSize);
  assert.equal(m.length, newSize);
  assert.deepEqual(m.slice(0, startSize), data);
  assert.deepEqual(m.slice(startSize), zeros(newSize - startSize));
});

test('test_resize_down_anonymous_mapping: shared anonymous memory shrinks to a prefix, and grows again', () => {
  // CPython's re-grow is a ValueError on Linux; memmap's grows (zero-filled past the prefix).
  const startSize = PAGESIZE;
  const newSize = startSize / 2;
  const data = randomBytes(startSize);
  using m = new Mmap(-1, startSize);
  m.setSlice(null, null, data);
  m.resize(newSize);
  assert.equal(m.length, newSize);
  assert.deepEqual(m.slice(), data.subarray(0, newSize));
  m.resize(startSize);
  assert.equal(m.length, startSize);
  assert.deepEqual(m.slice(0, newSize), data.subarray(0, newSize));
  assert.deepEqual(m.slice(newSize), zeros(startSize - newSize));
});

test('test_mmap_closed_by_int_scenarios: an argument whose valueOf closes the map is refused before anything runs (gh-103987)', () => {
  // CPython calls __index__, which may close the map mid-call; it then re-checks and raises
  // "mmap closed or invalid". memmap never converts objects to numbers: such an argument is a
  // TypeError, valueOf is never called, and the map stays open with its bytes and position.
  const path = testfn();
  const readModes = [ACCESS_READ, ACCESS_WRITE, ACCESS_COPY, ACCESS_DEFAULT];
  const writeModes = [ACCESS_WRITE, ACCESS_COPY, ACCESS_DEFAULT];

  const scenario = (access: number, label: string, call: (m: Mmap, X: () => number) => unknown) => {
    writeFileSync(path, randomBytes(100));
    const fd = openSync(path, 'r+');
    try {
      const m = new Mmap(fd, 100, { access });
      const before = m.slice();
      m.seek(7);
      let calls = 0;
      const X = () =>
        ({
          valueOf() {
            calls++;
            m.close();
            return 10;
          },
          [Symbol.toPrimitive]() {
            calls++;
            m.close();
            return 10;
          },
        }) as unknown as number;
      throwsLike(() => call(m, X), TypeError, 'ERR_INVALID_ARG_TYPE');
      assert.equal(calls, 0, `${label}: valueOf was called`);
      assert.equal(m.closed, false, `${label}: the map was closed`);
      assert.equal(m.tell(), 7, `${label}: the position moved`);
      assert.deepEqual(m.slice(), before, `${label}: the bytes changed`);
      m.close();
    } finally {
      closeSync(fd);
    }
  };

  for (const access of readModes) {
    scenario(access, 'm[X()]', (m, X) => m.get(X()));
    scenario(access, 'm[X() : 20]', (m, X) => m.slice(X(), 20));
    scenario(access, 'm[X() : 20 : 2]', (m, X) => m.slice(X(), 20, 2));
    scenario(access, 'm[20 : X() : -2]', (m, X) => m.slice(20, X(), -2));
    scenario(access, 'm.read(X())', (m, X) => m.read(X()));
    scenario(access, 'm.find(b"1", 1, X())', (m, X) => m.find('1', 1, X()));
  }
  for (const access of writeModes) {
    scenario(access, 'm[X() : 20] = b"1" * 10', (m, X) => m.setSlice(X(), 20, '1'.repeat(10)));
    scenario(access, 'm[X() : 20 : 2] = b"1" * 5', (m, X) => m.setSlice(X(), 20, '1'.repeat(5), 2));
    scenario(access, 'm[20 : X() : -2] = b"1" * 5', (m, X) => m.setSlice(20, X(), '1'.repeat(5), -2));
    scenario(access, 'm.move(1, 2, X())', (m, X) => m.move(1, 2, X()));
    scenario(access, 'm.write_byte(X())', (m, X) => m.writeByte(X()));
  }
});

test(
  'test_flush_parameters: flush() with an offset, a size and the MS_* flags',
  skipIf(onWindows, WINDOWS.msync),
  () => {
    const path = makeFile(dir, zeros(4 * PAGESIZE));
    const fd = openFd(path, 'r+');
    using m = new Mmap(fd, 4 * PAGESIZE);
    m.write('flush me');
    assert.equal(m.flush(), undefined);
    assert.equal(m.flush(PAGESIZE), undefined);
    assert.equal(m.flush(PAGESIZE, PAGESIZE), undefined);
    assert.equal(m.flush(undefined, undefined, MS_SYNC), undefined);
    assert.equal(m.flush(undefined, undefined, MS_ASYNC), undefined);
    assert.equal(m.flush(undefined, undefined, MS_INVALIDATE), undefined);
    assert.equal(m.flush(undefined, undefined, MS_ASYNC | MS_INVALIDATE), undefined);
    assert.equal(m.flush(m.length), undefined); // an empty flush at the end
    throwsLike(() => m.flush(m.length + 1), RangeError, 'ERR_OUT_OF_RANGE', 'flush values out of range');
    assert.deepEqual(readFileSync(path).subarray(0, 8), b('flush me'));
  },
);

test('test_set_name: a name longer than 66 bytes and a file-backed map are refused', () => {
  using m = new Mmap(-1, PAGESIZE);
  throwsLike(() => m.setName('a'.repeat(67)), RangeError, 'ERR_INVALID_ARG_VALUE', 'name is too long');
  const path = makeFile(dir, 'a'.repeat(PAGESIZE));
  const fd = openFd(path, 'r+');
  using fm = new Mmap(fd, PAGESIZE);
  throwsLike(
    () => fm.setName('test_name'),
    Error,
    'ERR_MMAP_NOT_ANONYMOUS',
    'Cannot set annotation on non-anonymous mappings',
  );
});

/** setName() when the kernel can name memory (Linux 5.17+ with CONFIG_ANON_VMA_NAME). */
function setNameCase(t: TestContext, options: { flags?: number }): void {
  using m = new Mmap(-1, PAGESIZE, options);
  try {
    assert.equal(m.setName('test_name'), undefined);
  } catch (error) {
    if ((error as { code?: string }).code === 'EINVAL') {
      t.skip('this kernel cannot name anonymous memory (EINVAL from prctl)');
      return;
    }
    throw error;
  }
  assert.ok(readFileSync('/proc/self/maps', 'utf8').includes('memmap:test_name'), 'the name shows in /proc/self/maps');
  assert.equal(m.setName('a'.repeat(66)), undefined);
}

test('test_set_name: private anonymous memory can be named', skipIf(onWindows, WINDOWS.setName), (t) => {
  setNameCase(t, { flags: MAP_PRIVATE });
});

test(
  'test_set_name: shared anonymous memory lives in a memory file and cannot be named',
  skipIf(onWindows, WINDOWS.setName),
  () => {
    // Adapted: CPython's shared anonymous map is kernel anonymous shared memory; ours is a memory
    // file (so it can be shared by descriptor and grown), which the kernel cannot rename.
    using m = new Mmap(-1, PAGESIZE);
    throwsLike(() => m.setName('test_name'), Error, 'ERR_MMAP_NOT_ANONYMOUS');
    assert.equal(m.closed, false);
  },
);

// ------------------------------------------------------------------------------------------
// LargeMmapTests: sparse files of several GiB in the temporary directory.

/** CPython's _make_test_file: `numZeroes` zero bytes (a hole), then `tail`. Null (and the test
 * skipped) when the file system cannot hold such a file. */
function makeLargeFile(t: TestContext, numZeroes: number, tail: Buffer): string | null {
  const path = testfn();
  const fd = openSync(path, 'w+');
  try {
    ftruncateSync(fd, numZeroes + tail.length);
    writeSync(fd, tail, 0, tail.length, numZeroes);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    t.skip(`file system does not have large file support: ${(error as Error).message}`);
    return null;
  }
  closeSync(fd);
  t.after(() => unlinkSync(path));
  return path;
}

test('test_large_offset: a map at offset 0x140000000 of a 5.3 GB sparse file', (t) => {
  const path = makeLargeFile(t, 0x14fffffff, b(' '));
  if (path === null) return;
  const fd = openFd(path, 'r');
  using m = new Mmap(fd, 0, { offset: 0x140000000, access: ACCESS_READ });
  assert.equal(m.length, 0x10000000);
  assert.equal(m.get(0xfffffff), 32);
  assert.equal(m.get(0), 0);
});

test('test_large_filesize: size() of a 6 GB sparse file through a 64 KiB map', (t) => {
  const path = makeLargeFile(t, 0x17fffffff, b(' '));
  if (path === null) return;
  const fd = openFd(path, 'r');
  using m = new Mmap(fd, 0x10000, { access: ACCESS_READ });
  assert.equal(m.length, 0x10000);
  assert.equal(m.size(), 0x180000000);
});

/** Issue 11277: a whole-file map of a sparse file ending just past `boundary`. */
function aroundBoundary(t: TestContext, boundary: number): void {
  const tail = b('  DEARdear  ');
  const start = boundary - tail.length / 2;
  const end = start + tail.length;
  const path = makeLargeFile(t, start, tail);
  if (path === null) return;
  const fd = openFd(path, 'r');
  using m = new Mmap(fd, 0, { access: ACCESS_READ });
  assert.equal(m.length, end);
  assert.deepEqual(m.slice(start, end), tail);
  assert.equal(m.find('DEARdear', start - 100), start + 2);
}

test('test_around_2GB: a whole-file map of a sparse file ending just past 2 GiB', (t) => {
  aroundBoundary(t, 2 ** 31);
});

test('test_around_4GB: a whole-file map of a sparse file ending just past 4 GiB', (t) => {
  aroundBoundary(t, 2 ** 32);
});
