/**
 * The public surface: exactly these names, in both builds (ESM dist/src, CommonJS dist/cjs),
 * over one addon; internal helpers stay private; errors are recognisable with isMmapError.
 */
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import * as memmap from '../src/index.js';
import { isMmapError, Mmap, PAGESIZE } from '../src/index.js';
import { makeFile, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();

const PUBLIC = [
  'Mmap',
  'isMmapError',
  'constants',
  'HAS_TAGNAME',
  'utf8Source',
  'DEFAULT_MAX_MATCH_LENGTH',
  'MAX_MATCH_LENGTH',
  'ACCESS_DEFAULT',
  'ACCESS_READ',
  'ACCESS_WRITE',
  'ACCESS_COPY',
  'PAGESIZE',
  'ALLOCATIONGRANULARITY',
  'PROT_READ',
  'PROT_WRITE',
  'PROT_EXEC',
  'MAP_SHARED',
  'MAP_PRIVATE',
  'MAP_ANONYMOUS',
  'MAP_ANON',
  'MAP_DENYWRITE',
  'MAP_EXECUTABLE',
  'MAP_POPULATE',
  'MAP_STACK',
  'MAP_NORESERVE',
  'MAP_32BIT',
  // macOS's own (CPython 3.13 and 3.8); undefined elsewhere
  'MAP_NOEXTEND',
  'MAP_HASSEMAPHORE',
  'MAP_NOCACHE',
  'MAP_JIT',
  'MAP_RESILIENT_CODESIGN',
  'MAP_RESILIENT_MEDIA',
  'MAP_TRANSLATED_ALLOW_EXECUTE',
  'MAP_UNIX03',
  'MAP_TPRO',
  'MADV_ZERO_WIRED_PAGES',
  'MADV_FREE_REUSABLE',
  'MADV_FREE_REUSE',
  'MADV_NORMAL',
  'MADV_RANDOM',
  'MADV_SEQUENTIAL',
  'MADV_WILLNEED',
  'MADV_DONTNEED',
  'MADV_FREE',
  'MADV_REMOVE',
  'MADV_DONTFORK',
  'MADV_DOFORK',
  'MADV_MERGEABLE',
  'MADV_UNMERGEABLE',
  'MADV_HUGEPAGE',
  'MADV_NOHUGEPAGE',
  'MADV_DONTDUMP',
  'MADV_DODUMP',
  'MADV_HWPOISON',
  'MADV_SOFT_OFFLINE',
  'MS_ASYNC',
  'MS_INVALIDATE',
  'MS_SYNC',
].sort();

test('the ESM entry exports exactly the public names', () => {
  assert.deepEqual(Object.keys(memmap).sort(), PUBLIC);
  for (const internal of [
    'REFUSED_MAP_FLAGS',
    'ACCESS_NAMES',
    'INT32_MIN',
    'INT32_MAX',
    'setWindowLimitForTesting',
    'native',
  ]) {
    assert.equal(internal in memmap, false, internal);
  }
});

test('the CommonJS build exports the same names over the same addon', () => {
  const cjs = createRequire(import.meta.url)('../cjs/index.js') as typeof memmap;
  assert.deepEqual(Object.keys(cjs).sort(), PUBLIC);
  assert.notEqual(cjs.Mmap, Mmap); // a second copy of the JavaScript ...
  assert.deepEqual(cjs.constants, memmap.constants); // ... over one addon
  using mm = new cjs.Mmap(-1, PAGESIZE);
  mm.write('shared');
  assert.equal(mm.slice(0, 6).toString(), 'shared');
  // Each build recognises the other's errors.
  assert.throws(
    () => mm.get(PAGESIZE),
    (e) => isMmapError(e, 'ERR_OUT_OF_RANGE'),
  );
});

test('isMmapError recognises memmap errors by code, and only them', () => {
  const mm = new Mmap(-1, PAGESIZE);
  mm.close();
  let caught: unknown;
  try {
    mm.read(1);
  } catch (e) {
    caught = e;
  }
  assert.ok(isMmapError(caught));
  assert.ok(isMmapError(caught, 'ERR_MMAP_CLOSED'));
  assert.equal(isMmapError(caught, 'ERR_OUT_OF_RANGE'), false);
  if (isMmapError(caught)) assert.equal(caught.code, 'ERR_MMAP_CLOSED');

  assert.equal(isMmapError(Object.assign(new Error('x'), { code: 'ERR_MMAP_CLOSED' })), false);
  assert.equal(isMmapError('ERR_MMAP_CLOSED'), false);
  assert.equal(isMmapError(null), false);

  // A code the addon reports (an empty file) is marked too.
  try {
    Mmap.open(makeFile(dir, ''));
  } catch (e) {
    caught = e;
  }
  assert.ok(isMmapError(caught, 'ERR_MMAP_EMPTY_FILE'), String(caught));

  try {
    new Mmap(2 ** 30, PAGESIZE);
  } catch (e) {
    caught = e;
  }
  assert.ok(isMmapError(caught, 'EBADF'));
  if (isMmapError(caught, 'EBADF')) {
    assert.equal(typeof caught.syscall, 'string');
    assert.equal(caught.errno < 0, true);
  }
});

test('ERR_MMAP_TRUNCATED carries the file size as .size', skipIf(onWindows, WINDOWS.sigbus), () => {
  const path = makeFile(dir, Buffer.alloc(2 * PAGESIZE, 1));
  using mm = Mmap.open(path);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, PAGESIZE);
  closeSync(fd);
  let caught: unknown;
  try {
    mm.get(PAGESIZE);
    mm.get(0);
  } catch (e) {
    caught = e;
  }
  assert.ok(isMmapError(caught, 'ERR_MMAP_TRUNCATED'), String(caught));
  if (isMmapError(caught, 'ERR_MMAP_TRUNCATED')) assert.equal(caught.size, PAGESIZE);
});

test('the builds name each class directly: no module-level alias of a class (a V8 slow path)', () => {
  // TypeScript compiles a class whose private methods name the class (`Mmap.#enter(this, …)`)
  // with every reference to it going through `var _a` (`_a = Mmap` after the class). V8 cannot
  // fold that variable into a constant, so each use in a hot path is a lookup (7 ns of a
  // lines() step on Node 24). Private methods use `this` instead (src/mmap.ts, #checkFaults).
  for (const build of ['src', 'cjs']) {
    const dirUrl = new URL(`../${build}/`, import.meta.url);
    for (const name of readdirSync(dirUrl).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(new URL(name, dirUrl), 'utf8');
      assert.doesNotMatch(text, /^\s*_[a-z]\d* = [A-Z]\w*;$/m, `dist/${build}/${name} aliases a class`);
    }
  }
});
