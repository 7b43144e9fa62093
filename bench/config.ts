/**
 * What the benchmark measures: sizes, operation counts, the rows (workloads) and the targets.
 *
 * Full sizes are those of CPython's own figures (a 256 MiB file of 80-byte lines, 1e6 small
 * operations, ...). `BENCH_QUICK=1` shrinks everything so the suite can be checked in seconds;
 * quick results are not figures.
 */

const MiB = 1024 * 1024;
/** The largest size of at most `bytes` that holds whole 80-byte lines. */
const wholeLines = (bytes: number) => Math.floor(bytes / 80) * 80;

export interface Sizes {
  quick: boolean;
  /** Untimed runs of each participant before the timed rounds. */
  warmup: number;
  /** Timed rounds; each round runs every participant once, in a rotating order. */
  rounds: number;
  /** The file of 80-byte lines for find/readLine/byte/slice rows. */
  linesBytes: number;
  /** The write target (rows 5). */
  writeBytes: number;
  /** The large file for random reads and the sequential scan (rows 6 and 7). */
  bigBytes: number;
  /** The file mapped and closed by row 1. */
  smallBytes: number;
  /** Dirty pages flushed by rows 8. */
  flushBytes: number;
  ops: {
    /** map + close per sample */
    map: number;
    /** readByte / get / writeByte per sample */
    byte: number;
    /** 64-byte slice / read(64) per sample */
    slice: number;
    /** random 64-byte record reads per sample */
    random: number;
  };
  /** Distance between the starts of consecutive 64-byte slices (crosses a page each time). */
  stride: number;
  /** Chunk of the write rows. */
  writeChunk: number;
  /** Chunk of fs.readSync in the sequential scan (and of CPython's slices there). */
  scanChunk: number;
  /** Seed of the pseudo-random record offsets (the same LCG in every participant). */
  seed: number;
}

export function sizes(quick: boolean): Sizes {
  const rounds = Number(process.env.BENCH_ROUNDS) || (quick ? 3 : 7);
  if (quick) {
    return {
      quick,
      warmup: 1,
      rounds,
      linesBytes: wholeLines(16 * MiB),
      writeBytes: 16 * MiB,
      bigBytes: 64 * MiB,
      smallBytes: MiB,
      flushBytes: 8 * MiB,
      ops: { map: 1000, byte: 100_000, slice: 100_000, random: 50_000 },
      stride: 4160,
      writeChunk: 4096,
      scanChunk: MiB,
      seed: 12345,
    };
  }
  return {
    quick,
    warmup: 1,
    rounds,
    linesBytes: wholeLines(256 * MiB),
    writeBytes: 256 * MiB,
    bigBytes: 1024 * MiB,
    smallBytes: MiB,
    flushBytes: 64 * MiB,
    ops: { map: 5000, byte: 1_000_000, slice: 1_000_000, random: 250_000 },
    stride: 4160,
    writeChunk: 4096,
    scanChunk: MiB,
    seed: 12345,
  };
}

export type Unit = 'ops/s' | 'lines/s' | 'GB/s' | 'ms';

export interface Row {
  id: string;
  /** The workload's number in the benchmark issue (1..8; 9: regex search, issue 13). */
  group: number;
  title: string;
  unit: Unit;
  /** Amount of work of one sample (operations, lines or bytes); the rate is work / time. For
   * unit 'ms' the figure is the time itself (lower is better). */
  work(s: Sizes): number;
}

const linesIn = (bytes: number) => Math.ceil(bytes / 80);

export const ROWS: Row[] = [
  { id: 'map_close_1mib', group: 1, title: 'map + close of a 1 MiB file', unit: 'ops/s', work: (s) => s.ops.map },
  {
    id: 'find_end_15',
    group: 2,
    title: 'find: 15-byte needle in the last line',
    unit: 'GB/s',
    work: (s) => s.linesBytes,
  },
  {
    id: 'find_absent_bloom',
    group: 2,
    title: 'find: absent "NOT_PRESENT!!" over lines of a (bloom worst case)',
    unit: 'GB/s',
    work: (s) => s.linesBytes,
  },
  {
    id: 'find_1byte',
    group: 2,
    title: 'find: 1-byte needle in the last line',
    unit: 'GB/s',
    work: (s) => s.linesBytes,
  },
  { id: 'rfind_start', group: 2, title: 'rfind: needle in the first line', unit: 'GB/s', work: (s) => s.linesBytes },
  {
    id: 'readline_loop',
    group: 3,
    title: 'readLine loop over the whole file',
    unit: 'lines/s',
    work: (s) => linesIn(s.linesBytes),
  },
  { id: 'read_byte', group: 4, title: 'readByte()', unit: 'ops/s', work: (s) => s.ops.byte },
  { id: 'get_int', group: 4, title: 'get(i)', unit: 'ops/s', work: (s) => s.ops.byte },
  { id: 'slice_64', group: 4, title: '64-byte slice at strided offsets', unit: 'ops/s', work: (s) => s.ops.slice },
  { id: 'read_64', group: 4, title: 'read(64)', unit: 'ops/s', work: (s) => s.ops.slice },
  {
    id: 'write_4k_dirty',
    group: 5,
    title: 'write of 4 KiB chunks, pages already dirty',
    unit: 'GB/s',
    work: (s) => Math.floor(s.writeBytes / s.writeChunk) * s.writeChunk,
  },
  { id: 'write_byte', group: 5, title: 'writeByte()', unit: 'ops/s', work: (s) => s.ops.byte },
  {
    id: 'random_read_64',
    group: 6,
    title: 'random 64-byte record reads across the large file',
    unit: 'ops/s',
    work: (s) => s.ops.random,
  },
  {
    id: 'random_read_64_chain',
    group: 6,
    title: 'the same reads, each offset depending on the previous record (one miss at a time)',
    unit: 'ops/s',
    work: (s) => s.ops.random,
  },
  {
    id: 'scan_newlines',
    group: 7,
    title: 'sequential scan of the large file: count newlines',
    unit: 'GB/s',
    work: (s) => s.bigBytes,
  },
  {
    id: 'regex_search_end',
    group: 9,
    title: 'regex search: /NEEDLE_AT_END_+Z/ in the last line (search() vs re.search over the map)',
    unit: 'GB/s',
    work: (s) => s.linesBytes,
  },
  {
    id: 'regex_count_lines',
    group: 9,
    title: 'regex matchAll: count /a+\\n/ over every line (matchAll() vs re.finditer over the map)',
    unit: 'GB/s',
    work: (s) => s.linesBytes,
  },
  { id: 'flush_64mib', group: 8, title: 'flush of dirty pages (msync)', unit: 'ms', work: (s) => s.flushBytes },
];

/** The participants, in the order of the table's columns. */
export const PARTICIPANTS = ['memmap', 'CPython', 'fs', 'mmap-io', '@riaskov/mmap-io', 'Bun.mmap', 'C'] as const;
export type ParticipantName = (typeof PARTICIPANTS)[number];

export interface Target {
  row: string;
  /** The peer the ratio is taken against, or 'self' for a figure of memmap alone. */
  peer: ParticipantName | 'self';
  /** The ratio memmap/peer (speed) must be at least this; for 'self', the figure must be below. */
  min: number;
  text: string;
}

// Row group 9 (regex search) is measured against CPython's re, with no target set for it yet.
const cpythonRows = ROWS.filter((r) => r.group !== 9).map((r) => r.id);

export const TARGETS: Target[] = [
  ...cpythonRows.map((row): Target => ({ row, peer: 'CPython', min: 1, text: 'at least as fast as CPython' })),
  { row: 'find_end_15', peer: 'CPython', min: 3, text: 'find: at least 3× CPython on the 15-byte needle' },
  { row: 'find_absent_bloom', peer: 'CPython', min: 10, text: 'find: at least 10× CPython on the bloom worst case' },
  ...['find_end_15', 'find_absent_bloom', 'find_1byte', 'rfind_start'].map((row): Target => ({
    row,
    peer: 'C',
    min: 0.5,
    text: 'find: within 2× of the C program (memmem/memchr) on the same bytes',
  })),
  { row: 'read_byte', peer: 'CPython', min: 10, text: 'readByte: at least 10× CPython' },
  { row: 'get_int', peer: 'CPython', min: 10, text: 'get: at least 10× CPython' },
  { row: 'slice_64', peer: 'CPython', min: 1.5, text: '64-byte slice: at least 1.5× CPython' },
  { row: 'read_64', peer: 'CPython', min: 1.5, text: 'read(64): at least 1.5× CPython' },
  {
    row: 'readline_loop',
    peer: 'CPython',
    min: 1,
    text: 'readLine (a copy with the newline, as CPython): at least 1× CPython',
  },
  { row: 'random_read_64', peer: 'fs', min: 5, text: 'random 64-byte reads: at least 5× fs.readSync' },
  { row: 'map_close_1mib', peer: 'C', min: 1 / 1.5, text: "map + close: within 1.5× of the C program's mmap+munmap" },
  { row: 'flush_async_64mib', peer: 'self', min: 1, text: 'flushAsync: event loop blocked under 1 ms' },
];

/** What each peer's figures mean, printed under the table. */
export const NOTES: Record<string, string> = {
  CPython: "CPython's `mmap` module, the same work written as a Python user would (bench/peer_cpython.py).",
  fs: '`fs.readSync` / `fs.writeSync` with a preallocated Buffer, at the same offsets (rows 5–7 only).',
  'mmap-io': 'Buffer over the mapping; map + close is map only (it unmaps when the Buffer is collected).',
  '@riaskov/mmap-io': 'as mmap-io.',
  'Bun.mmap':
    'run by the `bun` binary in its own process; map + close is `Bun.mmap(path)` (open + map; unmapped when collected); no flush.',
  C:
    "bench/limits.c, `cc -O2`: memmem/memchr/memrchr, memcpy, byte loops, mmap+munmap, msync: the machine's limit for the same work. " +
    "Its find rows use glibc's memmem, which Node's Buffer search beats on these needles, so ratios above 1 there are real.",
};
