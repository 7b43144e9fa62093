/**
 * The participants that run inside the benchmark's own Node process: memmap, plain fs, and the
 * Buffer-returning mmap packages (mmap-io, @riaskov/mmap-io). Each row does the same work as
 * the other participants' version of it (bench/peer_cpython.py, bench/peer-bun.mjs,
 * bench/limits.c), and returns a check value so the runner can see that it did.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import { ACCESS_READ, ACCESS_WRITE, Mmap } from '../src/index.js';
import type { ParticipantName, Sizes } from './config.js';
import type { DataFiles } from './data.js';

/** One timed run: nanoseconds and a value that shows the work was done (compared across peers). */
export interface Sample {
  ns: number;
  check: number;
}

export interface Participant {
  name: ParticipantName;
  /** The rows this participant runs; others are left blank in the table. */
  rows: ReadonlySet<string>;
  run(row: string): Promise<Sample>;
  close(): Promise<void>;
}

const PAGE = 4096;
const NL = 0x0a;
const now = () => process.hrtime.bigint();
const since = (t0: bigint) => Number(process.hrtime.bigint() - t0);

/** Counts newlines with Buffer.indexOf (the fastest way in Node; the same code for every
 * Node participant). */
export function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let p = 0; ; n++) {
    const at = buf.indexOf(NL, p);
    if (at < 0) return n;
    p = at + 1;
  }
}

/** The same pseudo-random 64-byte record offsets as every other participant. */
export function randomOffsets(s: Sizes, fileBytes: number): Float64Array {
  const records = Math.floor(fileBytes / 64);
  const out = new Float64Array(s.ops.random);
  let x = s.seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = ((x >>> 8) % records) * 64;
  }
  return out;
}

/** Touches every page (untimed) so the page tables are populated before rows are timed. */
function prefault(buf: Uint8Array, write: boolean): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i += PAGE) {
    sum += buf[i]!;
    if (write) buf[i] = buf[i]!;
  }
  return sum;
}

/**
 * The source chunk of the write rows, page-aligned in every participant: a 4 KiB memcpy runs
 * about twice as fast from an address that is a multiple of 32 as from one that is 16 past it
 * (Buffer.alloc gives the latter), and that is the caller's data, not the map's doing.
 * WebAssembly memory is mapped by pages.
 */
export function alignedChunk(size: number, byte: number): Buffer {
  const wasm = (
    globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }
  ).WebAssembly;
  const memory = new wasm.Memory({ initial: Math.ceil(size / 65536) });
  return Buffer.from(memory.buffer, 0, size).fill(byte);
}

function dirtyPages(buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i += PAGE) buf[i] = (buf[i]! + 1) & 0xff;
}

type Rows = Record<string, () => Sample>;

function participant(name: ParticipantName, rows: Rows, close: () => void): Participant {
  return {
    name,
    rows: new Set(Object.keys(rows)),
    run: async (row) => rows[row]!(),
    close: async () => close(),
  };
}

const NEEDLES: Record<string, [string, boolean]> = {
  find_end_15: ['NEEDLE_AT_END__', false],
  find_absent_bloom: ['NOT_PRESENT!!', false],
  find_1byte: ['Z', false],
  rfind_start: ['NEEDLE_AT_START', true],
};

// ------------------------------------------------------------------------------------------
// memmap

export interface MemmapMaps {
  flush: Mmap;
  flushView: Buffer;
}

export function memmapParticipant(s: Sizes, files: DataFiles): Participant & { maps: MemmapMaps } {
  const lines = Mmap.open(files.lines, { access: ACCESS_READ });
  const out = Mmap.open(files.write, { access: ACCESS_WRITE });
  const big = Mmap.open(files.big, { access: ACCESS_READ });
  const flush = Mmap.open(files.flush.memmap!, { access: ACCESS_WRITE });
  const smallFd = openSync(files.small, 'r+');
  prefault(lines.view(), false);
  prefault(out.view(), true);
  prefault(big.view(), false);
  const flushView = flush.view();
  prefault(flushView, true);
  const offsets = randomOffsets(s, s.bigBytes);
  const chunk = alignedChunk(s.writeChunk, 0x77);

  const rows: Rows = {
    map_close_1mib() {
      const n = s.ops.map;
      const t0 = now();
      for (let i = 0; i < n; i++) new Mmap(smallFd, 0).close();
      return { ns: since(t0), check: n };
    },
    readline_loop() {
      lines.seek(0);
      let count = 0;
      const t0 = now();
      while (lines.readLine().length > 0) count++;
      return { ns: since(t0), check: count };
    },
    read_byte() {
      lines.seek(0);
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.byte; i++) total += lines.readByte();
      return { ns: since(t0), check: total };
    },
    get_int() {
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.byte; i++) total += lines.get(i);
      return { ns: since(t0), check: total };
    },
    slice_64() {
      const span = s.linesBytes - 64;
      const stride = s.stride;
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.slice; i++) {
        const a = (i * stride) % span;
        total += lines.slice(a, a + 64)[0]!;
      }
      return { ns: since(t0), check: total };
    },
    read_64() {
      lines.seek(0);
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.slice; i++) total += lines.read(64)[0]!;
      return { ns: since(t0), check: total };
    },
    write_4k_dirty() {
      out.seek(0);
      const n = Math.floor(s.writeBytes / chunk.length);
      const t0 = now();
      for (let i = 0; i < n; i++) out.write(chunk);
      return { ns: since(t0), check: n };
    },
    write_byte() {
      out.seek(0);
      const t0 = now();
      for (let i = 0; i < s.ops.byte; i++) out.writeByte(98);
      return { ns: since(t0), check: s.ops.byte };
    },
    random_read_64() {
      let total = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) {
        const a = offsets[i]!;
        total += big.slice(a, a + 64)[0]!;
      }
      return { ns: since(t0), check: total };
    },
    random_read_64_chain() {
      // prev >>> 7 is 0 for this file's bytes, but the CPU cannot know: each read waits for the last.
      let total = 0;
      let prev = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) {
        const a = offsets[i]! + (prev >>> 7);
        prev = big.slice(a, a + 64)[0]!;
        total += prev;
      }
      return { ns: since(t0), check: total };
    },
    scan_newlines() {
      const t0 = now();
      const count = countNewlines(big.view());
      return { ns: since(t0), check: count };
    },
    regex_search_end() {
      const t0 = now();
      const m = lines.search(/NEEDLE_AT_END_+Z/);
      return { ns: since(t0), check: m === null ? -1 : m.index };
    },
    regex_count_lines() {
      let count = 0;
      const t0 = now();
      for (const _ of lines.matchAll(/a+\n/)) count++;
      return { ns: since(t0), check: count };
    },
    flush_64mib() {
      dirtyPages(flushView);
      const t0 = now();
      flush.flush();
      return { ns: since(t0), check: s.flushBytes };
    },
  };
  for (const [row, [text, reverse]] of Object.entries(NEEDLES)) {
    const needle = Buffer.from(text);
    rows[row] = () => {
      const t0 = now();
      const at = reverse ? lines.rfind(needle, 0) : lines.find(needle, 0);
      return { ns: since(t0), check: at };
    };
  }
  const p = participant('memmap', rows, () => {
    for (const m of [lines, out, big, flush]) m.close();
    closeSync(smallFd);
  });
  return { ...p, maps: { flush, flushView } };
}

// ------------------------------------------------------------------------------------------
// fs.readSync / fs.writeSync

export function fsParticipant(s: Sizes, files: DataFiles): Participant {
  const outFd = openSync(files.write, 'r+');
  const bigFd = openSync(files.big, 'r');
  const offsets = randomOffsets(s, s.bigBytes);
  const chunk = alignedChunk(s.writeChunk, 0x77);
  const record = Buffer.alloc(64);
  const scan = Buffer.alloc(s.scanChunk);
  const rows: Rows = {
    write_4k_dirty() {
      const n = Math.floor(s.writeBytes / chunk.length);
      const size = chunk.length;
      const t0 = now();
      for (let i = 0; i < n; i++) writeSync(outFd, chunk, 0, size, i * size);
      return { ns: since(t0), check: n };
    },
    random_read_64() {
      let total = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) {
        readSync(bigFd, record, 0, 64, offsets[i]!);
        total += record[0]!;
      }
      return { ns: since(t0), check: total };
    },
    random_read_64_chain() {
      let total = 0;
      let prev = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) {
        readSync(bigFd, record, 0, 64, offsets[i]! + (prev >>> 7));
        prev = record[0]!;
        total += prev;
      }
      return { ns: since(t0), check: total };
    },
    scan_newlines() {
      let count = 0;
      const t0 = now();
      for (let pos = 0; pos < s.bigBytes;) {
        const n = readSync(bigFd, scan, 0, scan.length, pos);
        if (n === 0) break;
        count += countNewlines(n === scan.length ? scan : scan.subarray(0, n));
        pos += n;
      }
      return { ns: since(t0), check: count };
    },
  };
  return participant('fs', rows, () => {
    closeSync(outFd);
    closeSync(bigFd);
  });
}

// ------------------------------------------------------------------------------------------
// mmap-io and @riaskov/mmap-io: map() returns a Buffer, unmapped when it is collected

/** The part of the mmap-io API the benchmark uses (both packages have it). */
export interface MmapIo {
  PROT_READ: number;
  PROT_WRITE: number;
  MAP_SHARED: number;
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  sync(buffer: Buffer, offset: number, size: number, blocking: boolean, invalidate?: boolean): void;
}

export function mmapIoParticipant(name: ParticipantName, lib: MmapIo, s: Sizes, files: DataFiles): Participant {
  const fds: number[] = [];
  const map = (path: string, size: number, write: boolean) => {
    const fd = openSync(path, write ? 'r+' : 'r');
    fds.push(fd);
    const buf = lib.map(size, write ? lib.PROT_READ | lib.PROT_WRITE : lib.PROT_READ, lib.MAP_SHARED, fd, 0);
    prefault(buf, write);
    return buf;
  };
  const lines = map(files.lines, s.linesBytes, false);
  const out = map(files.write, s.writeBytes, true);
  const big = map(files.big, s.bigBytes, false);
  const flush = map(files.flush[name]!, s.flushBytes, true);
  const smallFd = openSync(files.small, 'r+');
  fds.push(smallFd);
  const offsets = randomOffsets(s, s.bigBytes);
  const chunk = alignedChunk(s.writeChunk, 0x77);
  // A copy of 64 bytes as a Node user would write it for a Buffer.
  const copy64 = (b: Buffer, a: number) => {
    const o = Buffer.allocUnsafe(64);
    b.copy(o, 0, a, a + 64);
    return o;
  };

  const rows: Rows = {
    map_close_1mib() {
      const n = s.ops.map;
      const prot = lib.PROT_READ | lib.PROT_WRITE;
      const t0 = now();
      for (let i = 0; i < n; i++) lib.map(s.smallBytes, prot, lib.MAP_SHARED, smallFd, 0);
      return { ns: since(t0), check: n };
    },
    get_int() {
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.byte; i++) total += lines[i]!;
      return { ns: since(t0), check: total };
    },
    slice_64() {
      const span = s.linesBytes - 64;
      const stride = s.stride;
      let total = 0;
      const t0 = now();
      for (let i = 0; i < s.ops.slice; i++) {
        const a = (i * stride) % span;
        total += copy64(lines, a)[0]!;
      }
      return { ns: since(t0), check: total };
    },
    write_4k_dirty() {
      const n = Math.floor(s.writeBytes / chunk.length);
      const size = chunk.length;
      const t0 = now();
      for (let i = 0; i < n; i++) out.set(chunk, i * size);
      return { ns: since(t0), check: n };
    },
    write_byte() {
      const t0 = now();
      for (let i = 0; i < s.ops.byte; i++) out[i] = 98;
      return { ns: since(t0), check: s.ops.byte };
    },
    random_read_64() {
      let total = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) total += copy64(big, offsets[i]!)[0]!;
      return { ns: since(t0), check: total };
    },
    random_read_64_chain() {
      let total = 0;
      let prev = 0;
      const t0 = now();
      for (let i = 0; i < offsets.length; i++) {
        prev = copy64(big, offsets[i]! + (prev >>> 7))[0]!;
        total += prev;
      }
      return { ns: since(t0), check: total };
    },
    scan_newlines() {
      const t0 = now();
      const count = countNewlines(big);
      return { ns: since(t0), check: count };
    },
    flush_64mib() {
      dirtyPages(flush);
      const t0 = now();
      lib.sync(flush, 0, flush.length, true);
      return { ns: since(t0), check: s.flushBytes };
    },
  };
  for (const [row, [needle, reverse]] of Object.entries(NEEDLES)) {
    const n = Buffer.from(needle);
    rows[row] = () => {
      const t0 = now();
      const at = reverse ? lines.lastIndexOf(n) : lines.indexOf(n);
      return { ns: since(t0), check: at };
    };
  }
  return participant(name, rows, () => {
    for (const fd of fds) closeSync(fd);
  });
}
