/** The conveniences beyond CPython: Mmap.open, fd, flushAsync, inspect, lock/residency, options. */
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getSystemErrorName, inspect } from 'node:util';

import {
  ACCESS_COPY,
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  constants,
  MAP_PRIVATE,
  Mmap,
  MS_ASYNC,
  PAGESIZE,
  PROT_READ,
} from '../src/index.js';
import { makeFile, openFd, scratchDir, skipOn, WINDOWS, onWindows, skipIf } from './helpers.js';

const dir = scratchDir();

test('Mmap.open maps read-only by default and closes its own descriptor', skipIf(onWindows, WINDOWS.procfs), () => {
  const path = makeFile(dir, 'abcdef');
  const before = countFds();
  const mm = Mmap.open(path);
  assert.equal(mm.access, ACCESS_READ);
  assert.equal(mm.length, 6);
  assert.equal(mm.read().toString(), 'abcdef');
  assert.throws(() => mm.write('x'), { name: 'TypeError', code: 'ERR_MMAP_READONLY' });
  assert.equal(countFds(), before + 1, "only the map's own duplicate stays open");
  mm.close();
  assert.equal(countFds(), before);
});

test('Mmap.open with ACCESS_WRITE writes through; with ACCESS_COPY it does not', () => {
  const path = makeFile(dir, 'abcdef');
  using w = Mmap.open(path, { access: ACCESS_WRITE });
  w.set(0, 0x41);
  assert.equal(readFileSync(path, 'utf8'), 'Abcdef');
  using c = Mmap.open(path, { access: ACCESS_COPY });
  c.set(1, 0x42);
  assert.equal(c.slice(0, 2).toString(), 'AB');
  assert.equal(readFileSync(path, 'utf8'), 'Abcdef');
});

test(
  'Mmap.open with create makes and extends the file; without a length it refuses',
  skipIf(onWindows, WINDOWS.modes),
  () => {
    const path = join(dir, 'created.bin');
    assert.equal(existsSync(path), false);
    using mm = Mmap.open(path, { access: ACCESS_WRITE, length: 3 * PAGESIZE, create: true, mode: 0o600 });
    assert.equal(statSync(path).size, 3 * PAGESIZE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    mm.write('hello');
    assert.equal(readFileSync(path).subarray(0, 5).toString(), 'hello');
    // an existing longer file is not shortened
    writeFileSync(path, Buffer.alloc(5 * PAGESIZE, 1));
    using again = Mmap.open(path, { access: ACCESS_WRITE, length: PAGESIZE, create: true });
    assert.equal(statSync(path).size, 5 * PAGESIZE);
    assert.equal(again.get(0), 1);
    assert.throws(() => Mmap.open(join(dir, 'x.bin'), { create: true, length: 10 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => Mmap.open(join(dir, 'y.bin'), { access: ACCESS_WRITE, create: true }), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => Mmap.open(join(dir, 'missing.bin')), { code: 'ENOENT' });
  },
);

test('unknown options and wrongly typed options are refused', () => {
  assert.throws(() => new Mmap(-1, 10, { acces: ACCESS_READ } as never), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
  });
  assert.throws(() => new Mmap(-1, 10, { trackfd: 1 } as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => new Mmap(-1, 10, 5 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  // tagname is an option only where the platform names mappings (Windows).
  if (!onWindows)
    assert.throws(() => Mmap.open(join(dir, 'a'), { tagname: 'x' } as never), { code: 'ERR_INVALID_ARG_VALUE' });
});

test(
  'fd is the duplicate the map holds, -1 for private anonymous memory, -1 after close',
  {
    ...skipIf(onWindows, WINDOWS.memoryFile),
    ...skipOn(
      'deno',
      "Deno's node:fs knows only descriptors Deno opened itself: fstat of mm.fd, a descriptor the addon made, is EBADF there",
    ),
  },
  () => {
    const path = makeFile(dir, 'xyz');
    const fd = openFd(path);
    const mm = new Mmap(fd, 0);
    assert.notEqual(mm.fd, fd);
    assert.ok(mm.fd > 2);
    assert.equal(fstatSync(mm.fd).ino, fstatSync(fd).ino);
    const held = mm.fd;
    mm.close();
    assert.equal(mm.fd, -1);
    assert.throws(() => fstatSync(held), { code: 'EBADF' }, 'close() closes the duplicate');
    using priv = new Mmap(-1, 100, { flags: MAP_PRIVATE });
    assert.equal(priv.fd, -1);
    using shared = new Mmap(-1, 100);
    assert.ok(shared.fd > 2);
    assert.equal(fstatSync(shared.fd).size, 100);
    using untracked = new Mmap(fd, 0, { trackfd: false });
    assert.equal(untracked.fd, -1);
  },
);

test('flushAsync resolves, writes the data, and keeps the mapping until it settles', async () => {
  const path = makeFile(dir, Buffer.alloc(4 * PAGESIZE));
  const mm = Mmap.open(path, { access: ACCESS_WRITE });
  mm.write('durable');
  const pending = mm.flushAsync();
  assert.ok(pending instanceof Promise);
  mm.close(); // the flush holds the memory until it is done
  assert.equal(await pending, undefined);
  assert.equal(readFileSync(path).subarray(0, 7).toString(), 'durable');
  const again = Mmap.open(path, { access: ACCESS_WRITE });
  await again.flushAsync(PAGESIZE + 3, 10, MS_ASYNC);
  await assert.rejects(again.flushAsync(0, 5 * PAGESIZE), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(again.flushAsync('0' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  again.close();
  await assert.rejects(again.flushAsync(), { code: 'ERR_MMAP_CLOSED' });
});

test('resize waits for no flush: it throws ERR_MMAP_BUSY while one is in flight', async () => {
  const path = makeFile(dir, Buffer.alloc(PAGESIZE));
  using mm = Mmap.open(path, { access: ACCESS_WRITE });
  const pending = mm.flushAsync();
  assert.throws(() => mm.resize(2 * PAGESIZE), { code: 'ERR_MMAP_BUSY' });
  await pending;
  mm.resize(2 * PAGESIZE);
  assert.equal(mm.length, 2 * PAGESIZE);
});

test("toString is CPython's repr and inspect shows the state", skipIf(onWindows, WINDOWS.memoryFile), () => {
  const mm = new Mmap(-1, 10);
  mm.seek(3);
  assert.equal(String(mm), '<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=10, pos=3, offset=0>');
  assert.match(inspect(mm), /^Mmap \{ access: 'ACCESS_DEFAULT', length: 10, pos: 3, offset: 0, fd: \d+ \}$/);
  assert.match(
    inspect(mm),
    new RegExp(`fd: ${mm.fd} `),
    'inspect shows mm.fd, never the descriptor memmap keeps for itself',
  );
  assert.equal(Object.prototype.toString.call(mm), '[object Mmap]');
  mm.close();
  assert.equal(String(mm), '<mmap.mmap closed=True>');
  assert.equal(inspect(mm), 'Mmap { closed: true }');
  const ro = new Mmap(-1, 10, { prot: PROT_READ });
  assert.match(String(ro), /access=ACCESS_READ/);
  ro.close();
});

test('setName validates its argument before asking the kernel', skipIf(onWindows, WINDOWS.setName), (t) => {
  using anon = new Mmap(-1, PAGESIZE, { flags: MAP_PRIVATE });
  assert.throws(() => anon.setName(5 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => anon.setName('a\0b'), {
    name: 'RangeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: 'embedded null character',
  });
  assert.throws(() => anon.setName('x'.repeat(67)), { name: 'RangeError', message: 'name is too long' });
  const path = makeFile(dir, 'file');
  using file = Mmap.open(path);
  assert.throws(() => file.setName('x'), {
    code: 'ERR_MMAP_NOT_ANONYMOUS',
    message: 'Cannot set annotation on non-anonymous mappings',
  });
  try {
    anon.setName('x'.repeat(66));
  } catch (error) {
    if ((error as { code?: string }).code === 'EINVAL') return t.skip('kernel without CONFIG_ANON_VMA_NAME');
    throw error;
  }
  assert.match(readFileSync('/proc/self/maps', 'utf8'), /\[anon:memmap:x{66}\]/);
});

test('lock, unlock and residency', () => {
  const path = makeFile(dir, Buffer.alloc(4 * PAGESIZE, 7));
  using mm = Mmap.open(path, { access: ACCESS_WRITE });
  mm.get(0); // fault in the first page
  const resident = mm.residency();
  assert.equal(resident.length, 4);
  assert.equal(resident[0], 1);
  assert.ok(resident.every((r) => r === 0 || r === 1));
  assert.equal(mm.residency(PAGESIZE + 1, 1).length, 1);
  assert.equal(mm.residency(PAGESIZE - 1, 2).length, 2);
  mm.lock(0, PAGESIZE);
  mm.unlock(0, PAGESIZE);
  assert.throws(() => mm.lock(0, 5 * PAGESIZE), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
});

test('constants have the platform values and the ACCESS_* values', skipIf(onWindows, WINDOWS.flags), () => {
  assert.equal(constants.ACCESS_DEFAULT, ACCESS_DEFAULT);
  assert.equal(constants.ACCESS_COPY, 3);
  assert.equal(constants.PAGESIZE, PAGESIZE);
  assert.equal(constants.PROT_READ, 1);
  assert.equal(constants.MAP_SHARED, 1);
  assert.equal(constants.MAP_PRIVATE, 2);
  assert.equal(constants.MS_SYNC, 4);
  assert.ok(Number.isInteger(constants.MADV_DONTNEED));
  assert.ok(Object.isFrozen(constants));
});

test('system errors look like fs errors', () => {
  const path = makeFile(dir, 'readonly');
  const fd = openSync(path, 'r');
  try {
    assert.throws(
      () => new Mmap(fd, 0),
      (error: Error & { code: string; errno: number; syscall: string }) => {
        // The call that failed: mmap, or on Windows CreateFileMapping; errno is libuv's number
        // for the name (-13 on Linux), as in an fs error.
        const syscall = onWindows ? 'CreateFileMapping' : 'mmap';
        assert.equal(error.code, 'EACCES');
        assert.equal(getSystemErrorName(error.errno), 'EACCES');
        assert.equal(error.syscall, syscall);
        assert.equal(error.message, `EACCES: permission denied, ${syscall}`);
        return true;
      },
    );
  } finally {
    closeSync(fd);
  }
});

function countFds(): number {
  return readdirSync('/proc/self/fd').length;
}
