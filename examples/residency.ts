/**
 * A tiny vmtouch: how much of a file is in the page cache, and load or evict it.
 *
 *   node dist/examples/residency.js FILE            pages resident / total
 *   node dist/examples/residency.js --load FILE     read it all in (mm.prefetch(), off the event loop)
 *   node dist/examples/residency.js --evict FILE    ask the kernel to drop its clean pages (Linux 5.4+)
 *   node dist/examples/residency.js                 (demo on a file it makes and removes)
 *
 * mm.residency() is a bitmap with one entry per page (1: resident), from mincore(2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Mmap, PAGESIZE } from '../src/index.js';

/** MADV_PAGEOUT (Linux 5.4): reclaim these pages now; clean file pages leave the page cache. */
const MADV_PAGEOUT = 21;

export interface Residency {
  resident: number;
  pages: number;
  bytes: number;
}

/** Counts the resident pages of the file at `path`; `--load` / `--evict` first if asked. */
export async function residency(path: string, action?: 'load' | 'evict'): Promise<Residency> {
  using mm = Mmap.open(path);
  if (action === 'load') await mm.prefetch();
  if (action === 'evict') {
    // MADV_PAGEOUT reclaims the pages this map has in its page tables: map them all first.
    // Dirty pages (written and not yet on disk) stay until they are written back.
    await mm.prefetch();
    mm.madvise(MADV_PAGEOUT);
  }
  const map = mm.residency();
  let resident = 0;
  for (const page of map) resident += page;
  return { resident, pages: map.length, bytes: mm.length };
}

function describe(path: string, r: Residency): string {
  const mib = (pages: number) => ((pages * PAGESIZE) / 2 ** 20).toFixed(1);
  return (
    `${path}: ${r.resident}/${r.pages} pages resident (${mib(r.resident)} of ${mib(r.pages)} MiB, ` +
    `${r.pages === 0 ? 100 : ((100 * r.resident) / r.pages).toFixed(1)}%)`
  );
}

export async function residencyDemo(args: string[] = []): Promise<void> {
  const action = args.includes('--load') ? 'load' : args.includes('--evict') ? 'evict' : undefined;
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length > 0) {
    for (const path of files) console.log(describe(path, await residency(path, action)));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'memmap-residency-'));
  try {
    const path = join(dir, 'data.bin');
    writeFileSync(path, Buffer.alloc(16 * 2 ** 20, 7), { flush: true }); // on disk: its pages are clean
    console.log('evict:', describe('data.bin', await residency(path, 'evict')));
    console.log('load: ', describe('data.bin', await residency(path, 'load')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await residencyDemo(process.argv.slice(2));
