/**
 * Differential test against CPython's mmap: random sequences of operations (fixed seeds) run on
 * CPython 3.13+ (test/fixtures/differential.py, one process for the whole batch) and on memmap,
 * over identical files. For every op it compares the result, the error (class, message, and
 * errno name for system errors), the position after the op and a CRC-32 of the whole map; then
 * the final file contents. One family runs on windowed maps (the window limit lowered to a
 * page), so the code that walks overlapping windows is checked against CPython as well.
 *
 * Documented differences (README, "Which CPython") are kept out deliberately:
 *   - flush(offset) without a size and offset > 0: CPython 3.13 raises ValueError (gh-138092),
 *     memmap flushes to the end. Only flush() / flush(0) / flush(offset, size) and offsets
 *     past the end (an error on both sides) are generated. An explicit size of -1 is not
 *     generated either: it means "to the end" in 3.15 and memmap, and is an error in 3.13.
 *   - flush with an offset that is not page-aligned: CPython passes it to msync (EINVAL), memmap
 *     rounds it down. Unaligned offsets are generated only where nothing is synced (ACCESS_READ
 *     and ACCESS_COPY maps) or where the range is out of bounds (an error on both sides).
 *   - find/rfind of an empty needle starting past the end: memmap returns -1 (3.15, gh-151021);
 *     the driver normalizes CPython's 3.13 answer and counts how often it did.
 *   - size() of anonymous memory (3.13 raises EBADF, gh-87595) and resize() of anonymous memory
 *     (memmap can grow it; 3.13.0 dies of SIGBUS) are not generated.
 *   - resize(0) of a writable map (CPython truncates the file, then fails and leaves a map that
 *     crashes) is not generated; a failed resize() differs by design.
 *   - Error classes map per the README: TypeError stays; IndexError, OverflowError and ValueError
 *     become RangeError, except "mmap closed or invalid", an Error with ERR_MMAP_CLOSED; OSError
 *     becomes an Error whose code is the errno name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

import { ACCESS_COPY, ACCESS_READ, ACCESS_WRITE, MAP_PRIVATE, Mmap, PAGESIZE, PROT_READ } from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { findPython, scratchDir } from './helpers.js';

// tsc does not copy the Python driver: take it from the sources, next to the compiled fixtures
const DRIVER_SOURCE = fileURLToPath(new URL('../../test/fixtures/differential.py', import.meta.url));
const DRIVER = fileURLToPath(new URL('./fixtures/differential.py', import.meta.url));
const python = findPython();
const skip = python === null ? 'no CPython 3.13 or newer found (python3.13 / python3)' : false;

type Mode = 'write' | 'default' | 'read' | 'copy' | 'protread' | 'private' | 'anon' | 'anonprivate';
type Op = [string, ...unknown[]];
interface Sequence {
  seed: number;
  family: string;
  windowed: boolean;
  mode: Mode;
  path: string | null;
  length: number;
  offset: number;
  ops: Op[];
}
interface Outcome {
  r?: unknown;
  e?: [string, string, string | null];
  p: number | null;
  c: number | null;
}
interface PyResult {
  ops: Outcome[];
  final: string;
}

// ------------------------------------------------------------------------------------------
// generation

/** mulberry32: a small seeded PRNG, so every run generates the same sequences. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

/** Few distinct bytes, so needles are often found: ASCII, newlines, NUL and bytes >= 0x80. */
const ALPHABET = [0x61, 0x61, 0x62, 0x62, 0x63, 0x0a, 0x0a, 0x00, 0x80, 0xe9, 0xff];

function bytesOf(r: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r.chance(0.1) ? r.int(0, 255) : r.pick(ALPHABET);
  return out;
}

/** File contents: lines of 0..40 bytes, each ending with \n, the last one perhaps not. */
function contents(r: Rng, size: number): Buffer {
  const out = bytesOf(r, size);
  for (let at = r.int(0, 40); at < size; at += r.int(1, 41)) out[at] = 0x0a;
  return out;
}

/** Python's slice.indices() length, written out plainly from its definition. */
function sliceLength(length: number, start: number | null, stop: number | null, step: number | null): number {
  const k = step ?? 1;
  let count = 0;
  const norm = (v: number | null, dflt: number, lo: number, hi: number) => {
    if (v === null) return dflt;
    if (v < 0) return Math.max(v + length, lo);
    return Math.min(v, hi);
  };
  if (k > 0) {
    const s = norm(start, 0, 0, length);
    const e = norm(stop, length, 0, length);
    for (let i = s; i < e; i += k) count++;
  } else {
    const s = norm(start, length - 1, -1, length - 1);
    const e = norm(stop, -1, -1, length - 1);
    for (let i = s; i > e; i += k) count++;
  }
  return count;
}

const WRITABLE: ReadonlySet<Mode> = new Set(['write', 'default', 'private', 'anon', 'anonprivate']);
const SYNCS: ReadonlySet<Mode> = WRITABLE; // maps whose flush() calls msync

function generate(seed: number, mode: Mode, dir: string, windowed: boolean): Sequence {
  const r = rng(seed);
  const file = !mode.startsWith('anon');
  const writable = WRITABLE.has(mode);
  let offset = 0;
  let length: number;
  let path: string | null = null;
  if (file) {
    offset = (mode === 'write' || mode === 'default') && r.chance(0.2) ? PAGESIZE : 0;
    const size =
      offset + (windowed ? r.int(PAGESIZE + 1, 5 * PAGESIZE) : r.chance(0.6) ? r.int(1, 200) : r.int(1, 3 * PAGESIZE));
    const data = contents(r, size);
    path = join(dir, `py-${seed}.bin`);
    writeFileSync(path, data);
    copyFileSync(path, join(dir, `js-${seed}.bin`));
    length = r.chance(0.6) ? 0 : r.int(windowed ? PAGESIZE + 1 : 1, size - offset);
  } else {
    length = windowed
      ? r.int(PAGESIZE + 1, 4 * PAGESIZE)
      : r.chance(0.6)
        ? r.int(1, 300)
        : r.int(1, 2 * PAGESIZE + 100);
  }
  // the generator tracks the map's length, to aim indices near its edges
  let L = length === 0 ? readFileSync(path!).length - offset : length;
  let closed = false;
  const index = () => {
    const v = r.int(0, 5);
    if (v === 0) return r.pick([0, L, L - 1, -L, -L - 1, L + 1, -1, 1]);
    if (v === 1) return r.int(-L - 3, -1);
    if (v === 2) return r.chance(0.5) ? 10 * L + r.int(1, 100) : -10 * L - r.int(1, 100);
    if (v === 3 && windowed) return r.int(0, Math.floor(L / PAGESIZE)) * PAGESIZE + r.int(-3, 3); // window edges
    return r.int(0, L + 3);
  };
  const orNull = (v: () => number) => (r.chance(0.2) ? null : v());
  const needle = () => (r.chance(0.2) ? '' : bytesOf(r, r.int(1, 3)).toString('hex'));
  const bounds = (): number[] => {
    const n = r.int(0, 2);
    return n === 0 ? [] : n === 1 ? [index()] : [index(), index()];
  };

  const kinds: Array<[string, number]> = [
    ['read', 8],
    ['readByte', 4],
    ['readLine', 6],
    ['write', 8],
    ['writeByte', 4],
    ['seek', 10],
    ['tell', 2],
    ['find', 8],
    ['rfind', 6],
    ['get', 5],
    ['set', 4],
    ['slice', 6],
    ['setSlice', 5],
    ['move', 4],
    ['flush', 4],
    ['length', 1],
    ...(file
      ? ([
          ['size', 2],
          ['resize', 5],
        ] as Array<[string, number]>)
      : []),
  ];
  const total = kinds.reduce((sum, [, w]) => sum + w, 0);
  const kind = () => {
    let x = r.next() * total;
    for (const [name, w] of kinds) if ((x -= w) < 0) return name;
    return kinds[0]![0];
  };

  const count = r.int(40, 60);
  const closeAt = file && r.chance(0.15) ? count - r.int(1, 3) : -1;
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    if (i === closeAt) {
      ops.push(['close']);
      closed = true;
      continue;
    }
    switch (kind()) {
      case 'read':
        ops.push(
          r.chance(0.25)
            ? ['read']
            : r.chance(0.1)
              ? ['read', null]
              : ['read', r.pick([-1, -5, 0, r.int(0, 20), r.int(0, L + 10)])],
        );
        break;
      case 'readByte':
        ops.push(['readByte']);
        break;
      case 'readLine':
        ops.push(['readLine']);
        break;
      case 'write': {
        const size =
          windowed && r.chance(0.2)
            ? r.int(PAGESIZE - 100, 2 * PAGESIZE + 100)
            : r.chance(0.9)
              ? r.int(0, 12)
              : r.int(13, 60);
        ops.push(['write', bytesOf(r, size).toString('hex')]);
        break;
      }
      case 'writeByte':
        ops.push(['writeByte', r.chance(0.95) ? r.int(0, 255) : r.pick([256, -1, 1000])]);
        break;
      case 'seek': {
        const whence = r.chance(0.96) ? r.int(0, 2) : r.pick([3, -1]);
        ops.push(r.chance(0.15) ? ['seek', index()] : ['seek', index(), whence]);
        break;
      }
      case 'tell':
        ops.push(['tell']);
        break;
      case 'find':
        ops.push(['find', needle(), ...bounds()]);
        break;
      case 'rfind':
        ops.push(['rfind', needle(), ...bounds()]);
        break;
      case 'get':
        ops.push(['get', index()]);
        break;
      case 'set':
        ops.push(['set', index(), r.chance(0.95) ? r.int(0, 255) : r.pick([256, -1])]);
        break;
      case 'slice': {
        const step = r.chance(0.02) ? 0 : r.pick([null, null, 1, 2, 3, -1, -1, -2, -3, 5, -7]);
        ops.push(['slice', orNull(index), orNull(index), step]);
        break;
      }
      case 'setSlice': {
        const step = r.chance(0.02) ? 0 : r.pick([null, null, 1, 2, 3, -1, -2, -3, 5]);
        const a = orNull(index);
        const b = orNull(index);
        let n = step === 0 ? r.int(0, 3) : sliceLength(L, a, b, step);
        if (r.chance(0.15)) n = Math.max(0, n + r.pick([-1, 1]));
        ops.push(['setSlice', a, b, bytesOf(r, n).toString('hex'), step]);
        break;
      }
      case 'move': {
        if (r.chance(0.8)) {
          const n = r.int(0, L);
          ops.push(['move', r.int(0, L - n), r.int(0, L - n), n]);
        } else {
          ops.push(['move', index(), index(), r.pick([r.int(0, L + 2), -1, L + 1])]);
        }
        break;
      }
      case 'flush': {
        const pages = Math.floor(L / PAGESIZE);
        const v = r.int(0, 6);
        if (v === 0) ops.push(['flush']);
        else if (v === 1) ops.push(['flush', 0]);
        else if (v === 2)
          ops.push(['flush', r.pick([L + 1, L + PAGESIZE, -1])]); // an error both sides
        else if (v === 3)
          ops.push(['flush', 0, r.pick([0, L, r.int(0, L), L + 1, -2])]); // not -1: 3.15's "to the end"
        else if (v === 4) {
          const o = r.int(0, pages) * PAGESIZE;
          ops.push(['flush', o, r.pick([0, L - o, r.int(0, Math.max(0, L - o)), L - o + 1])]);
        } else {
          const o = r.int(1, L + 2);
          const size = r.int(0, L + 2);
          // unaligned: comparable only when nothing is synced or the range is out of bounds
          if (SYNCS.has(mode) && o % PAGESIZE !== 0 && o + size <= L) ops.push(['flush', o, L - o + 1 + size]);
          else ops.push(['flush', o, size]);
        }
        break;
      }
      case 'length':
        ops.push(['length']);
        break;
      case 'size':
        ops.push(['size']);
        break;
      case 'resize': {
        let n = windowed ? r.int(1, 5 * PAGESIZE) : r.chance(0.5) ? r.int(1, 200) : r.int(1, 3 * PAGESIZE);
        if (r.chance(0.2)) n = r.pick([PAGESIZE, 2 * PAGESIZE, L, L + 1, Math.max(1, L - 1)]);
        if (r.chance(0.05)) n = r.pick([-1, -PAGESIZE]);
        if (!writable && r.chance(0.2)) n = 0;
        ops.push(['resize', n]);
        if (writable && n > 0 && !closed) L = n;
        break;
      }
    }
  }
  return { seed, family: '', windowed, mode, path, length, offset, ops };
}

// ------------------------------------------------------------------------------------------
// running on memmap

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: unknown) => Buffer.from(h as string, 'hex');
const n = (v: unknown) => v as number;

function openMap(seq: Sequence, dir: string): Mmap {
  switch (seq.mode) {
    case 'anon':
      return new Mmap(-1, seq.length);
    case 'anonprivate':
      return new Mmap(-1, seq.length, { flags: MAP_PRIVATE });
    default:
      break;
  }
  const readonly = seq.mode === 'read' || seq.mode === 'copy' || seq.mode === 'protread';
  const fd = openSync(join(dir, `js-${seq.seed}.bin`), readonly ? 'r' : 'r+');
  try {
    const options = { offset: seq.offset } as Record<string, number>;
    if (seq.mode === 'write') options.access = ACCESS_WRITE;
    else if (seq.mode === 'read') options.access = ACCESS_READ;
    else if (seq.mode === 'copy') options.access = ACCESS_COPY;
    else if (seq.mode === 'protread') options.prot = PROT_READ;
    else if (seq.mode === 'private') options.flags = MAP_PRIVATE;
    return new Mmap(fd, seq.length, options);
  } finally {
    closeSync(fd);
  }
}

function runOp(mm: Mmap, op: Op): unknown {
  const [name, ...a] = op;
  switch (name) {
    case 'read':
      return a.length === 0 ? mm.read() : mm.read(a[0] as number | null);
    case 'readByte':
      return mm.readByte();
    case 'readLine':
      return mm.readLine();
    case 'write':
      return mm.write(bytes(a[0]));
    case 'writeByte':
      return mm.writeByte(n(a[0]));
    case 'seek':
      return a.length === 1 ? mm.seek(n(a[0])) : mm.seek(n(a[0]), n(a[1]));
    case 'tell':
      return mm.tell();
    case 'find':
      return mm.find(bytes(a[0]), ...(a.slice(1) as number[]));
    case 'rfind':
      return mm.rfind(bytes(a[0]), ...(a.slice(1) as number[]));
    case 'get':
      return mm.get(n(a[0]));
    case 'set':
      return mm.set(n(a[0]), n(a[1]));
    case 'slice':
      return mm.slice(a[0] as number | null, a[1] as number | null, a[2] as number | null);
    case 'setSlice':
      return mm.setSlice(a[0] as number | null, a[1] as number | null, bytes(a[2]), a[3] as number | null);
    case 'move':
      return mm.move(n(a[0]), n(a[1]), n(a[2]));
    case 'flush':
      return mm.flush(...(a as number[]));
    case 'size':
      return mm.size();
    case 'length':
      return mm.length;
    case 'resize':
      return mm.resize(n(a[0]));
    case 'close':
      return mm.close();
    default:
      throw new Error(`unknown op ${name}`);
  }
}

/** What memmap must throw for a CPython exception (README "Names", src/errors.ts). */
function expectedError([type, message, errnoName]: [string, string, string | null]) {
  if (type === 'ValueError' && message === 'mmap closed or invalid')
    return { cls: 'Error', code: 'ERR_MMAP_CLOSED', message };
  if (type === 'TypeError') return { cls: 'TypeError', message };
  if (type === 'IndexError' || type === 'OverflowError' || type === 'ValueError') return { cls: 'RangeError', message };
  if (type === 'OSError' || type === 'PermissionError' || type === 'FileNotFoundError')
    return { cls: 'Error', code: errnoName };
  return { cls: `(unmapped Python ${type})`, message };
}

/** The same fields as `wanted`, in the same order, taken from what memmap threw. */
function actualError(error: Error & { code?: string }, wanted: Record<string, unknown>) {
  const cls = error instanceof RangeError ? 'RangeError' : error instanceof TypeError ? 'TypeError' : 'Error';
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(wanted))
    out[key] = key === 'cls' ? cls : (error as unknown as Record<string, unknown>)[key];
  return out;
}

function encode(value: unknown): unknown {
  if (value instanceof Uint8Array) return { b: hexOf(value) };
  return value === undefined ? null : value;
}

interface Mismatch {
  seed: number;
  mode: Mode;
  at: number;
  op: Op;
  what: string;
  python: unknown;
  memmap: unknown;
}

/** Runs one sequence on memmap; returns the first divergence from CPython, or null. */
function compare(seq: Sequence, py: PyResult, dir: string, stats: Stats): Mismatch | null {
  const mm = openMap(seq, dir);
  if (seq.windowed && mm.view(mm.length - 1, 1).buffer.byteLength < mm.length) stats.windowed++; // a window, not the whole map
  const diverged = (at: number, what: string, python: unknown, memmap: unknown): Mismatch => {
    mm.close();
    const op = seq.ops[at]!.map((a) =>
      typeof a === 'string' && a.length > 40 ? `${a.slice(0, 40)}... (${a.length / 2} bytes)` : a,
    ) as Op;
    return { seed: seq.seed, mode: seq.mode, at, op, what, python, memmap };
  };
  for (let i = 0; i < seq.ops.length; i++) {
    const op = seq.ops[i]!;
    const want = py.ops[i]!;
    let result: unknown;
    let thrown: (Error & { code?: string }) | undefined;
    try {
      result = encode(runOp(mm, op));
    } catch (error) {
      thrown = error as Error;
    }
    stats.ops++;
    stats.kinds.add(op[0]);
    if (want.e !== undefined) {
      const expected = expectedError(want.e);
      stats.errors.add(`${want.e[0]}->${expected.cls}`);
      if (thrown === undefined) return diverged(i, 'CPython raised, memmap did not', want.e, result);
      const actual = actualError(thrown, expected);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) return diverged(i, 'error', expected, actual);
    } else {
      if (thrown !== undefined)
        return diverged(i, 'memmap threw, CPython did not', want.r, `${thrown.name} ${thrown.code}: ${thrown.message}`);
      if (JSON.stringify(result) !== JSON.stringify(want.r)) return diverged(i, 'result', want.r, result);
      if ((op[0] === 'find' || op[0] === 'rfind') && n(result) >= 0) {
        stats.found++;
        const last = n(result) + (op[1] as string).length / 2 - 1;
        if (Math.floor(n(result) / PAGESIZE) !== Math.floor(last / PAGESIZE)) stats.straddling++;
      }
    }
    let pos: number | null = null;
    let crc: number | null = null;
    if (!mm.closed) {
      pos = mm.tell();
      crc = crc32(mm.view());
    }
    if (pos !== want.p) return diverged(i, 'position after the op', want.p, pos);
    if (crc !== want.c) return diverged(i, 'contents after the op (CRC-32)', want.c, crc);
  }
  let final: string;
  if (seq.path === null) {
    final = hexOf(mm.view());
    mm.close();
  } else {
    mm.close();
    final = hexOf(readFileSync(join(dir, `js-${seq.seed}.bin`)));
  }
  if (final !== py.final) return diverged(seq.ops.length - 1, 'final contents', py.final.length / 2, final.length / 2);
  stats.sequences++;
  return null;
}

interface Stats {
  sequences: number;
  windowed: number;
  straddling: number;
  ops: number;
  found: number;
  kinds: Set<string>;
  errors: Set<string>;
}

// ------------------------------------------------------------------------------------------
// the batch

const FAMILIES: Array<{ name: string; modes: Mode[]; count: number; seed: number; windowed?: boolean }> = [
  {
    name: 'read-write file maps (ACCESS_WRITE, ACCESS_DEFAULT, MAP_PRIVATE, with offsets)',
    modes: ['write', 'write', 'default', 'private'],
    count: 160,
    seed: 1_000,
  },
  { name: 'read-only file maps (ACCESS_READ, PROT_READ)', modes: ['read', 'protread'], count: 60, seed: 2_000 },
  { name: 'copy-on-write file maps (ACCESS_COPY)', modes: ['copy'], count: 60, seed: 3_000 },
  { name: 'anonymous memory (shared and MAP_PRIVATE)', modes: ['anon', 'anonprivate'], count: 120, seed: 4_000 },
  // maps of 1 to 5 pages covered by overlapping windows of two pages (setWindowLimitForTesting)
  {
    name: 'windowed maps (files and anonymous memory)',
    modes: ['write', 'default', 'copy', 'read', 'anon'],
    count: 100,
    seed: 5_000,
    windowed: true,
  },
];

const dir = skip ? '' : scratchDir();
const batch: Sequence[] = [];
const pyResults = new Map<number, PyResult>();
let pyInfo = { version: [] as number[], normalized: 0 };
const totals: Stats = {
  sequences: 0,
  windowed: 0,
  straddling: 0,
  ops: 0,
  found: 0,
  kinds: new Set(),
  errors: new Set(),
};

before(() => {
  if (skip) return;
  for (const family of FAMILIES) {
    for (let i = 0; i < family.count; i++) {
      const seed = family.seed + i;
      const seq = generate(seed, family.modes[i % family.modes.length]!, dir, family.windowed === true);
      seq.family = family.name;
      batch.push(seq);
    }
  }
  mkdirSync(dirname(DRIVER), { recursive: true });
  copyFileSync(DRIVER_SOURCE, DRIVER);
  const cmd = python!;
  const input = JSON.stringify({
    sequences: batch.map((s) => ({ path: s.path, length: s.length, offset: s.offset, mode: s.mode, ops: s.ops })),
  });
  const run = spawnSync(cmd[0]!, [...cmd.slice(1), DRIVER], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`the CPython driver failed (${run.status} ${run.signal}):\n${run.stderr}`);
  const out = JSON.parse(run.stdout) as { version: number[]; normalized: number; results: PyResult[] };
  pyInfo = out;
  batch.forEach((seq, i) => pyResults.set(seq.seed, out.results[i]!));
});

for (const family of FAMILIES) {
  test(`CPython and memmap agree on random op sequences: ${family.name}`, { skip, timeout: 60_000 }, (t) => {
    if (family.windowed) {
      setWindowLimitForTesting(PAGESIZE); // windows of 2 pages every page; set for whole sequences
      t.after(() => setWindowLimitForTesting(undefined));
    }
    const stats: Stats = {
      sequences: 0,
      windowed: 0,
      straddling: 0,
      ops: 0,
      found: 0,
      kinds: new Set(),
      errors: new Set(),
    };
    const mismatches: Mismatch[] = [];
    const mine = batch.filter((s) => s.family === family.name);
    assert.equal(mine.length, family.count);
    for (const seq of mine) {
      const m = compare(seq, pyResults.get(seq.seed)!, dir, stats);
      if (m !== null) mismatches.push(m);
    }
    totals.sequences += stats.sequences;
    totals.ops += stats.ops;
    totals.found += stats.found;
    for (const k of stats.kinds) totals.kinds.add(k);
    for (const e of stats.errors) totals.errors.add(e);
    assert.deepEqual(
      mismatches.slice(0, 5),
      [],
      `${mismatches.length} of ${mine.length} sequences diverged from CPython ${pyInfo.version.join('.')}`,
    );
    assert.equal(stats.sequences, family.count);
    if (family.windowed) {
      assert.equal(stats.windowed, family.count, 'every map of this family was windowed');
      assert.ok(stats.straddling >= 5, `only ${stats.straddling} finds matched across a window stride`);
      t.diagnostic(`${stats.straddling} finds matched across a window stride`);
    }
  });
}

test('the differential batch covers every op and every error mapping', { skip }, (t) => {
  // only meaningful once the family tests have run (node:test runs them in order)
  if (totals.ops === 0) {
    t.skip('the family tests did not run');
    return;
  }
  const expectedKinds = [
    'read',
    'readByte',
    'readLine',
    'write',
    'writeByte',
    'seek',
    'tell',
    'find',
    'rfind',
    'get',
    'set',
    'slice',
    'setSlice',
    'move',
    'flush',
    'size',
    'length',
    'resize',
    'close',
  ];
  assert.deepEqual(
    expectedKinds.filter((k) => !totals.kinds.has(k)),
    [],
    'op kinds never generated',
  );
  for (const e of [
    'TypeError->TypeError',
    'ValueError->RangeError',
    'IndexError->RangeError',
    'OverflowError->RangeError',
    'ValueError->Error',
  ]) {
    assert.ok(totals.errors.has(e), `no ${e} case in the batch (${[...totals.errors].join(', ')})`);
  }
  assert.ok(totals.found > 500, `find/rfind found something only ${totals.found} times`);
  t.diagnostic(
    `${totals.sequences} sequences, ${totals.ops} ops compared with CPython ${pyInfo.version.join('.')}; ` +
      `${totals.found} successful finds; ${pyInfo.normalized} empty-needle finds normalized to 3.15`,
  );
});
