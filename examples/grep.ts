/**
 * grep over a memory-mapped file: prints the lines that contain a string, with line numbers.
 * The file is never read into memory as a whole: find() scans the mapped pages directly and
 * only the matching lines are copied out.
 *
 *   node dist/examples/grep.js NEEDLE FILE
 *   node dist/examples/grep.js                 (makes a 64 MiB log in a temporary directory)
 */
import { mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Mmap, constants } from '../src/index.js';

export interface Match {
  line: number;
  text: string;
}

/** Every line of the file at `path` that contains `needle`, with its 1-based line number. */
export function grep(path: string, needle: string): Match[] {
  using mm = Mmap.open(path);
  // Read-ahead advice where the platform has it (Windows has no MADV_SEQUENTIAL).
  const sequential = constants.MADV_SEQUENTIAL;
  if (sequential !== undefined) mm.madvise(sequential);
  const matches: Match[] = [];
  let line = 1;
  let counted = 0; // line numbers are counted up to here
  for (let at = mm.find(needle, 0); at >= 0; at = mm.find(needle, mm.tell())) {
    const start = mm.rfind('\n', counted, at) + 1 || 0;
    line += countNewlines(mm, counted, start);
    mm.seek(start);
    const text = mm
      .readLine()
      .toString('utf8')
      .replace(/\r?\n$/, '');
    matches.push({ line, text });
    counted = mm.tell();
    line += 1;
  }
  return matches;
}

function countNewlines(mm: Mmap, from: number, to: number): number {
  let n = 0;
  for (let at = mm.find('\n', from, to); at >= 0; at = mm.find('\n', at + 1, to)) n++;
  return n;
}

/** Writes a log of about `bytes` bytes with a few lines worth finding. */
export function makeSampleLog(path: string, bytes = 64 << 20): void {
  const fd = openSync(path, 'w');
  try {
    const lines: string[] = [];
    let size = 0;
    for (let i = 1; size < bytes; i++) {
      const text =
        i % 250_000 === 0
          ? `2026-11-27T10:00:${String(i % 60).padStart(2, '0')}Z ERROR disk quota exceeded on volume ${i}\n`
          : `2026-11-27T10:00:${String(i % 60).padStart(2, '0')}Z INFO request ${i} served in ${i % 97} ms\n`;
      lines.push(text);
      size += text.length;
      if (lines.length === 10_000) {
        writeSync(fd, lines.join(''));
        lines.length = 0;
      }
    }
    writeSync(fd, lines.join(''));
  } finally {
    closeSync(fd);
  }
}

export function grepDemo(needle = 'ERROR', path?: string): void {
  // Without a file, search a 64 MiB sample made for the demo, and remove it afterwards.
  const scratch = path === undefined ? mkdtempSync(join(tmpdir(), 'memmap-grep-')) : undefined;
  try {
    if (scratch !== undefined) makeSampleLog((path = join(scratch, 'sample.log')));
    const started = process.hrtime.bigint();
    const matches = grep(path!, needle);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    for (const m of matches) console.log(`${m.line}: ${m.text}`);
    console.log(`${matches.length} matching lines for ${JSON.stringify(needle)} (${ms.toFixed(1)} ms)`);
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) grepDemo(process.argv[2], process.argv[3]);
