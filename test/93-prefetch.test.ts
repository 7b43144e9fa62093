/**
 * mm.prefetch(): make a range resident on the thread pool; and examples/residency.ts, the small
 * vmtouch built on it and on mm.residency().
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { Mmap, PAGESIZE } from '../src/index.js';
import { residency } from '../examples/residency.js';
import { scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';
import { writeFileSync } from 'node:fs';

const dir = scratchDir();
const MADV_PAGEOUT = 21;
const sum = (a: Uint8Array) => a.reduce((n, x) => n + x, 0);

/** A file of `pages` pages, written through to disk (clean pages can be evicted). */
function cleanFile(name: string, pages: number): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(pages * PAGESIZE, 3), { flush: true });
  return path;
}

/** Evicts the file's pages from the page cache; false where the kernel cannot (no MADV_PAGEOUT)
 * or did not in 5 tries (it is best effort: a page held elsewhere at that moment stays). */
async function evict(path: string): Promise<boolean> {
  using mm = Mmap.open(path);
  await mm.prefetch();
  for (let tries = 0; tries < 5; tries++) {
    try {
      mm.madvise(MADV_PAGEOUT);
    } catch {
      return false;
    }
    if (sum(mm.residency()) === 0) return true;
  }
  return false;
}

describe('prefetch', () => {
  test('makes the range resident (from evicted), then the whole file', async (t) => {
    const path = cleanFile('a.bin', 1024);
    if (!(await evict(path))) {
      t.skip('MADV_PAGEOUT did not evict the file in 5 tries (no MADV_PAGEOUT here, or best effort failed)');
      return;
    }
    using mm = Mmap.open(path);
    assert.equal(sum(mm.residency()), 0, 'evicted');
    const p = mm.prefetch(100 * PAGESIZE + 5, 200 * PAGESIZE);
    assert.ok(p instanceof Promise);
    await p;
    const map = mm.residency();
    assert.equal(sum(map.subarray(100, 301)), 201, 'the pages of the range (a partial page counts) are resident');
    await mm.prefetch();
    assert.equal(sum(mm.residency()), 1024);
  });

  test('anonymous memory, empty ranges, and close() while a prefetch is in flight', async () => {
    const mm = new Mmap(-1, 64 * PAGESIZE);
    await mm.prefetch(0, 0);
    await mm.prefetch(3 * PAGESIZE);
    assert.equal(sum(mm.residency(3 * PAGESIZE)), 61);
    const inFlight = mm.prefetch();
    mm.close();
    await inFlight; // the region stays reserved for it: no crash, and it completes
    await assert.rejects(mm.prefetch(), { code: 'ERR_MMAP_CLOSED' });
  });

  test('bad arguments reject with coded errors', async () => {
    using mm = new Mmap(-1, 4096);
    await assert.rejects(mm.prefetch(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(mm.prefetch(0, 4097), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(mm.prefetch(4097), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(mm.prefetch(1.5), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects((Mmap.prototype.prefetch as Function).call({}), { code: 'ERR_INVALID_THIS' });
  });
});

describe('examples/residency.ts', skipIf(onWindows, WINDOWS.madvise), () => {
  const script = fileURLToPath(new URL('../examples/residency.js', import.meta.url));
  test('--evict, plain, --load on a file', async (t) => {
    const path = cleanFile('r.bin', 256);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [script, ...args, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return /(\d+)\/(\d+) pages resident/.exec(r.stdout)!.slice(1).map(Number);
    };
    // MADV_PAGEOUT is best effort: a page another process or the readahead holds at that moment
    // stays. Try a few times before deciding this kernel does not evict.
    let evicted = run('--evict');
    for (let tries = 1; tries < 5 && evicted[0] === 256; tries++) evicted = run('--evict');
    if (evicted[0] === 256) {
      t.skip('MADV_PAGEOUT evicted none of the pages in 5 tries (no MADV_PAGEOUT here, or best effort failed)');
      return;
    }
    assert.deepEqual(run(), evicted, 'counting changes nothing');
    assert.deepEqual(run('--load'), [256, 256]);
    assert.deepEqual(await residency(path), { resident: 256, pages: 256, bytes: 256 * PAGESIZE });
  });
});
