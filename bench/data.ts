/** The benchmark's data files, made fresh in a scratch directory under os.tmpdir(). */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Sizes } from './config.js';

export interface DataFiles {
  dir: string;
  /** 80-byte lines of `a`; NEEDLE_AT_START in the first line, NEEDLE_AT_END__Z in the last. */
  lines: string;
  /** The write target, filled with data (not sparse). */
  write: string;
  /** 80-byte lines of varying letters, for random reads and the newline scan. */
  big: string;
  /** The file mapped and closed by row 1. */
  small: string;
  /** Per participant, the file whose dirty pages rows 8 flush. Each has its own: writeback
   * write-protects a page in every map of it, so a file mapped by all participants would make
   * each flush pay for the others' maps (and interrupt their processes). */
  flush: Record<string, string>;
}

const LINE = 80;
/** The participants that have a flush row. */
const FLUSHERS = ['memmap', 'CPython', 'mmap-io', '@riaskov/mmap-io', 'C'];
const BLOCK_LINES = 13_107; // 80 · 13107 = 1 MiB - 16: a block of whole lines

export function writeFile(path: string, size: number, block: (offset: number) => Buffer): void {
  const fd = openSync(path, 'w');
  try {
    for (let offset = 0; offset < size;) {
      const b = block(offset);
      const n = Math.min(b.length, size - offset);
      writeSync(fd, b, 0, n, offset);
      offset += n;
    }
    // Written back now, so the disk is quiet while the rows run.
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function makeDataFiles(s: Sizes): DataFiles {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-bench-'));
  const files: DataFiles = {
    dir,
    lines: join(dir, 'lines.txt'),
    write: join(dir, 'write.bin'),
    big: join(dir, 'big.txt'),
    small: join(dir, 'small.bin'),
    flush: Object.fromEntries(
      FLUSHERS.map((name) => [name, join(dir, `flush-${name.replace(/[^a-z0-9]+/gi, '-')}.bin`)]),
    ),
  };

  const plain = Buffer.alloc(LINE * BLOCK_LINES, 'a'.repeat(LINE - 1) + '\n');
  if (s.linesBytes % LINE !== 0) throw new Error('the lines file must hold whole lines');
  const first = Buffer.from('NEEDLE_AT_START' + 'a'.repeat(LINE - 16) + '\n');
  const last = Buffer.from('a'.repeat(LINE - 17) + 'NEEDLE_AT_END__Z\n');
  writeFile(files.lines, s.linesBytes, (offset) => {
    const b = Buffer.from(plain.subarray(0, Math.min(plain.length, s.linesBytes - offset)));
    if (offset === 0) first.copy(b, 0);
    if (offset + b.length === s.linesBytes) last.copy(b, b.length - LINE);
    return b;
  });

  const varied = Buffer.alloc(LINE * BLOCK_LINES);
  for (let i = 0; i < BLOCK_LINES; i++) {
    varied.fill(97 + (i % 26), i * LINE, i * LINE + LINE - 1);
    varied[i * LINE + LINE - 1] = 10;
  }
  writeFile(files.big, s.bigBytes, () => varied);

  const filler = Buffer.alloc(1024 * 1024, 'x');
  writeFile(files.write, s.writeBytes, () => filler);
  for (const path of Object.values(files.flush)) writeFile(path, s.flushBytes, () => filler);
  writeFile(files.small, s.smallBytes, () => filler);
  return files;
}

/** A block of whole 80-byte lines: all `a` (as the lines file), or each line of one letter,
 * `a` to `z` in turn (as the large file). */
export function linesBlock(varied: boolean): Buffer {
  if (!varied) return Buffer.alloc(LINE * BLOCK_LINES, 'a'.repeat(LINE - 1) + '\n');
  const b = Buffer.alloc(LINE * BLOCK_LINES);
  for (let i = 0; i < BLOCK_LINES; i++) {
    b.fill(97 + (i % 26), i * LINE, i * LINE + LINE - 1);
    b[i * LINE + LINE - 1] = 10;
  }
  return b;
}
