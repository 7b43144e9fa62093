/**
 * Windows' own rules (CPython's Windows constructor): tagname sharing between processes, a
 * length past the end extends the file, an empty file, the allocation granularity, resize by
 * unmapping and mapping again, and a file that cannot shrink while another view of it lives
 * (ERROR_USER_MAPPED_FILE, EBUSY). On POSIX, what Windows alone has is refused.
 */
import assert from 'node:assert/strict';
import { fstatSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  ACCESS_READ,
  ACCESS_WRITE,
  ALLOCATIONGRANULARITY,
  HAS_TAGNAME,
  MAP_SHARED,
  Mmap,
  constants,
} from '../src/index.js';
import { makeFile, onWindows, openFd, runFixture, scratchDir, skipIf } from './helpers.js';

const dir = scratchDir();
const windowsOnly = skipIf(!onWindows, 'Windows semantics: POSIX has its own tests');
const posixOnly = skipIf(onWindows, 'POSIX: Windows takes a tagname');

test('POSIX refuses tagname, as CPython does (TypeError: unexpected keyword argument)', posixOnly, () => {
  assert.equal(HAS_TAGNAME, false);
  assert.throws(() => new Mmap(-1, 16, { tagname: 'x' }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: /tagname/,
  });
  const fd = openFd(makeFile(dir, 'abcdef'));
  assert.throws(() => new Mmap(fd, 6, { tagname: 'x' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
});

test(
  'Windows has no flags/prot: the options are refused, and no MAP_*/PROT_*/MS_* constants exist',
  windowsOnly,
  () => {
    assert.equal(HAS_TAGNAME, true);
    assert.equal(MAP_SHARED, undefined);
    for (const name of Object.keys(constants)) assert.doesNotMatch(name, /^(MAP|PROT|MS)_/);
    assert.deepEqual(
      Object.keys(constants)
        .filter((n) => n.startsWith('MADV_'))
        .sort(),
      ['MADV_DONTNEED', 'MADV_WILLNEED'],
    );
    assert.throws(() => new Mmap(-1, 16, { flags: 1 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: /"flags"/,
    });
    assert.throws(() => new Mmap(-1, 16, { prot: 1 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: /"prot"/,
    });
    using mm = new Mmap(-1, 16);
    assert.throws(() => mm.flush(0, 16, 4), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new Mmap(-1, 16, { tagname: 5 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  },
);

test('tagname: another process mapping the same tag shares the memory, both ways', windowsOnly, () => {
  const tagname = `memmap-test-${process.pid}-${Date.now()}`;
  using mm = new Mmap(-1, 4096, { tagname });
  mm.setSlice(0, 8, 'parent!!');
  const r = runFixture('windows-tag', [tagname, '4096']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Buffer.from(r.stdout, 'hex').toString(), 'parent!!');
  assert.equal(mm.slice(0, 8).toString(), 'childt!!'); // "child" over "parent!!"
  // A named mapping object cannot be replaced by a longer one under the same name.
  assert.throws(() => mm.resize(8192), { code: 'ENOTSUP' });
  assert.equal(mm.length, 4096);
  // Another tag is other memory.
  using other = new Mmap(-1, 4096, { tagname: `${tagname}-other` });
  assert.equal(other.get(0), 0);
});

test('tagname over a file: two maps of the same tag are one mapping object', windowsOnly, () => {
  const fd = openFd(makeFile(dir, 'abcdefgh'));
  const tagname = `memmap-file-${process.pid}-${Date.now()}`;
  using a = new Mmap(fd, 8, { tagname });
  using b = new Mmap(-1, 8, { tagname });
  a.setSlice(0, 3, 'XYZ');
  assert.equal(b.slice(0, 8).toString(), 'XYZdefgh');
});

test('a length past the end extends the file; without access the map writes through', windowsOnly, () => {
  const path = makeFile(dir, 'abc');
  const fd = openFd(path);
  {
    using mm = new Mmap(fd, 100);
    assert.equal(fstatSync(fd).size, 100);
    assert.equal(mm.slice(0, 4).toString('latin1'), 'abc\0');
    mm.setSlice(99, 100, 'Z');
    mm.flush();
  }
  const bytes = readFileSync(path);
  assert.equal(bytes.length, 100);
  assert.equal(bytes[99], 'Z'.charCodeAt(0));
  // Read-only cannot extend (the section is copy-on-write over a read-only file).
  const ro = openFd(makeFile(dir, 'abc'), 'r');
  assert.throws(() => new Mmap(ro, 100, { access: ACCESS_READ }));
  assert.equal(fstatSync(ro).size, 3);
});

test('an empty file: length 0 throws ERR_MMAP_EMPTY_FILE; an explicit length extends it', windowsOnly, () => {
  const fd = openFd(makeFile(dir, ''));
  assert.throws(() => new Mmap(fd, 0), { code: 'ERR_MMAP_EMPTY_FILE', message: 'cannot mmap an empty file' });
  assert.equal(fstatSync(fd).size, 0);
  using mm = new Mmap(fd, 10, { access: ACCESS_WRITE });
  assert.equal(fstatSync(fd).size, 10);
  assert.equal(mm.length, 10);
});

test('the offset is a multiple of ALLOCATIONGRANULARITY (64 KiB), not of the page size', windowsOnly, () => {
  assert.equal(ALLOCATIONGRANULARITY, 65536);
  const data = Buffer.alloc(2 * 65536);
  data.write('second', 65536);
  const fd = openFd(makeFile(dir, data));
  assert.throws(() => new Mmap(fd, 16, { offset: 4096 }), { code: 'EINVAL' });
  using mm = new Mmap(fd, 16, { offset: 65536 });
  assert.equal(mm.slice(0, 6).toString(), 'second');
});

test('resize(): grows and shrinks the file to offset + size, keeping the bytes', windowsOnly, () => {
  const path = makeFile(dir, 'hello world');
  const fd = openFd(path);
  using mm = new Mmap(fd, 11);
  mm.resize(70000);
  assert.equal(fstatSync(fd).size, 70000);
  assert.equal(mm.slice(0, 11).toString(), 'hello world');
  mm.set(69999, 7);
  mm.resize(5);
  assert.equal(mm.length, 5);
  assert.equal(fstatSync(fd).size, 5);
  assert.equal(readFileSync(path).toString(), 'hello');
  // Anonymous memory gets a new section with the bytes copied over.
  using anon = new Mmap(-1, 10);
  anon.setSlice(0, 3, 'abc');
  anon.resize(100000);
  assert.equal(anon.slice(0, 4).toString('latin1'), 'abc\0');
});

test(
  'ERROR_USER_MAPPED_FILE: a file cannot shrink while another view of it lives (EBUSY, nothing changes)',
  windowsOnly,
  () => {
    const path = makeFile(dir, '0123456789abcdef');
    const fd = openFd(path);
    using a = new Mmap(fd, 16);
    using b = new Mmap(fd, 16);
    assert.throws(() => a.resize(4), { code: 'EBUSY', syscall: 'SetEndOfFile' });
    assert.equal(a.length, 16);
    assert.equal(fstatSync(fd).size, 16);
    a.setSlice(0, 1, 'X');
    assert.equal(b.slice(0, 4).toString(), 'X123');
    b.close();
    a.resize(4);
    assert.equal(readFileSync(path).toString(), 'X123');
    // A view handed out keeps the old view mapped, so the file cannot shrink under it either.
    const view = a.view();
    assert.throws(() => a.resize(2), { code: 'EBUSY' });
    assert.equal(view.toString(), 'X123');
  },
);
