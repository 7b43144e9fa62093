/** The shortest path through the library: if this fails, look here first. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ACCESS_WRITE, Mmap, PAGESIZE } from '../src/index.js';
import { makeFile, scratchDir } from './helpers.js';

const dir = scratchDir();

test('a file maps, reads, writes through and closes', () => {
  const path = makeFile(dir, 'Hello Python!\n');
  const mm = Mmap.open(path, { access: ACCESS_WRITE });
  assert.equal(mm.length, 14);
  assert.equal(mm.readLine().toString(), 'Hello Python!\n');
  mm.setSlice(6, 12, 'world!');
  assert.equal(readFileSync(path, 'utf8'), 'Hello world!!\n');
  mm.close();
  assert.equal(mm.closed, true);
  assert.throws(() => mm.read(), { code: 'ERR_MMAP_CLOSED', message: 'mmap closed or invalid' });
});

test('anonymous memory is zero-filled and a page long', () => {
  using mm = new Mmap(-1, PAGESIZE);
  assert.equal(mm.length, PAGESIZE);
  assert.ok(mm.view().every((b) => b === 0));
});
