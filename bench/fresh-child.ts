/**
 * One job of the short-script mode or of a cost curve, in a fresh process (started by
 * bench/fresh.ts): memmap, plain fs, or the runtime alone (the `floor` rows).
 *
 *   node dist/bench/fresh-child.js PARTICIPANT ROW KEY=VALUE...
 *
 * prints "ok ROW NANOSECONDS CHECK" for a short-script row, one "point X NANOSECONDS OPS CHECK"
 * line per point of a curve ("stop N REASON" where it had to stop), or "skip ROW REASON".
 * A short-script row times the first `calls` calls of the process: nothing before the loop but
 * the imports, opening the file and mapping it; no warm-up. The same work as
 * bench/peer_cpython_once.py and `limits once` (bench/limits.c), with the same check values.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

import { ACCESS_READ, ACCESS_WRITE, Mmap } from '../src/index.js';

const PAGE = 4096;
const now = () => process.hrtime.bigint();
const since = (t0: bigint) => String(process.hrtime.bigint() - t0);
const out = (line: string) => process.stdout.write(line + '\n');

/** 48 pseudo-random bits from two steps of the LCG every participant uses. */
export function recordOffsets(seed: number, count: number, size: number): Float64Array {
  const records = Math.floor(size / 64);
  const offsets = new Float64Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const hi = x >>> 8;
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    offsets[i] = ((hi * 16777216 + (x >>> 8)) % records) * 64;
  }
  return offsets;
}

const numbers = (text: string) =>
  text
    .split(',')
    .filter((x) => x !== '')
    .map(Number);

type Job = (cfg: Record<string, string>) => void;

// ------------------------------------------------------------------------------------------
// short-script rows: each prints "ok ROW NS CHECK"

const memmapShort: Record<string, Job> = {
  get_int(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) total += mm.get(i);
    out(`ok get_int ${since(t0)} ${total}`);
  },
  read_byte(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) total += mm.readByte();
    out(`ok read_byte ${since(t0)} ${total}`);
  },
  write_byte(c) {
    const mm = Mmap.open(c.write!, { access: ACCESS_WRITE });
    const n = Number(c.calls);
    const t0 = now();
    for (let i = 0; i < n; i++) mm.writeByte(98);
    out(`ok write_byte ${since(t0)} ${n}`);
  },
  slice_64(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    const span = mm.length - 64;
    const stride = Number(c.stride);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const a = (i * stride) % span;
      total += mm.slice(a, a + 64)[0]!;
    }
    out(`ok slice_64 ${since(t0)} ${total}`);
  },
  read_64(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) total += mm.read(64)[0]!;
    out(`ok read_64 ${since(t0)} ${total}`);
  },
  readline(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const line = mm.readLine();
      if (line.length === 0) break;
      total += line.length;
    }
    out(`ok readline ${since(t0)} ${total}`);
  },
  lines(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    let count = 0;
    const t0 = now();
    for (const line of mm.lines()) {
      total += line.length;
      if (++count === n) break;
    }
    out(`ok lines ${since(t0)} ${total}`);
  },
  read_into(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const offsets = recordOffsets(Number(c.seed), Number(c.calls), mm.length);
    const record = Buffer.alloc(64);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      mm.readInto(record, 0, 64, offsets[i]!);
      total += record[0]!;
    }
    out(`ok read_into ${since(t0)} ${total}`);
  },
  map_close(c) {
    // Read-write from an fd opened read-write, like the full bench's row and every peer's.
    const fd = openSync(c.file!, 'r+');
    const n = Number(c.ops);
    const t0 = now();
    for (let i = 0; i < n; i++) new Mmap(fd, 0).close();
    out(`ok map_close ${since(t0)} ${n}`);
  },
};

const fsShort: Record<string, Job> = {
  read_into(c) {
    const fd = openSync(c.file!, 'r');
    const size = Number(c.size);
    const offsets = recordOffsets(Number(c.seed), Number(c.calls), size);
    const record = Buffer.alloc(64);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      readSync(fd, record, 0, 64, offsets[i]!);
      total += record[0]!;
    }
    out(`ok read_into ${since(t0)} ${total}`);
  },
};

/** What a floor job reads: a Buffer over the whole map (made before the timed part), its
 * ArrayBuffer, and how many calls to time. */
function floorInput(c: Record<string, string>): { view: Buffer; ab: ArrayBufferLike; n: number } {
  const view = Mmap.open(c.file!, { access: ACCESS_READ }).view();
  return { view, ab: view.buffer, n: Number(c.calls) };
}

/** The runtime's cheapest new 64-byte Buffer: an instance of its own Buffer class (Node's and
 * Deno's FastBuffer, `Buffer[Symbol.species]`), whose bytes V8 keeps inside the object at this
 * size; `Buffer.allocUnsafe` where the runtime has no such class. */
type RuntimeBufferClass = {
  new (length: number): Buffer;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Buffer;
};
const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
const RuntimeBuffer = typeof species === 'function' && species !== Buffer ? (species as RuntimeBufferClass) : null;
const newBuffer64: () => Buffer = RuntimeBuffer !== null ? () => new RuntimeBuffer(64) : () => Buffer.allocUnsafe(64);
/** The runtime's cheapest Buffer over existing memory: its Buffer class directly (`Buffer.from`
 * reaches the same class through more checks). */
const bufferOver: (ab: ArrayBufferLike, at: number, n: number) => Buffer =
  RuntimeBuffer !== null ? (ab, at, n) => new RuntimeBuffer(ab, at, n) : (ab, at, n) => Buffer.from(ab, at, n);
/** The runtime's cheapest new Buffer of a few dozen bytes: cut from a 64 KiB ArrayBuffer, a new
 * one when it is full (as `Buffer.allocUnsafe` does with its 8 KiB pool, with none of its checks). */
let linePool = new ArrayBuffer(64 * 1024);
let linePoolUsed = 0;
function pooledBuffer(n: number): Buffer {
  if (linePoolUsed + n > linePool.byteLength) {
    linePool = new ArrayBuffer(64 * 1024);
    linePoolUsed = 0;
  }
  const b = bufferOver(linePool, linePoolUsed, n);
  linePoolUsed = (linePoolUsed + n + 7) & ~7;
  return b;
}

/** The runtime's own cost of what memmap's calls must do at least, over the map's memory
 * (a Buffer from `view()`): one typed-array read, one view allocation, one allocation + copy,
 * the least work of a line, a sequential or a random record. */
const floorShort: Record<string, Job> = {
  floor_map_close(c) {
    if (c.addon === undefined) return out(`skip floor_map_close ${c.why ?? 'no floor addon'}`);
    type FloorAddon = { map(fd: number, owner: object): unknown; unmap(handle: unknown): void };
    const addon = createRequire(import.meta.url)(c.addon) as FloorAddon;
    /** What an Mmap is at least: an object holding its handle, whose collection would release it. */
    class Owner {
      readonly handle: unknown;
      constructor(fd: number) {
        this.handle = addon.map(fd, this);
      }
      close(): void {
        addon.unmap(this.handle);
      }
    }
    const fd = openSync(c.file!, 'r+');
    const n = Number(c.ops);
    const t0 = now();
    for (let i = 0; i < n; i++) new Owner(fd).close();
    out(`ok floor_map_close ${since(t0)} ${n}`);
  },
  floor_get(c) {
    const { view, n } = floorInput(c);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) total += view[i]!;
    out(`ok floor_get ${since(t0)} ${total}`);
  },
  floor_get_first_view(c) {
    const mm = Mmap.open(c.file!, { access: ACCESS_READ });
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    const view = mm.view();
    for (let i = 0; i < n; i++) total += view[i]!;
    out(`ok floor_get_first_view ${since(t0)} ${total}`);
  },
  floor_call_get(c) {
    /** The least a method over the map's bytes can be: one property load and one read. */
    class ByteReader {
      constructor(readonly view: Buffer) {}
      get(i: number): number {
        return this.view[i]!;
      }
    }
    const o = new ByteReader(Mmap.open(c.file!, { access: ACCESS_READ }).view());
    const n = Number(c.calls);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) total += o.get(i);
    out(`ok floor_call_get ${since(t0)} ${total}`);
  },
  floor_subarray_64(c) {
    const { view, n } = floorInput(c);
    const span = view.length - 64;
    const stride = Number(c.stride);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const a = (i * stride) % span;
      total += view.subarray(a, a + 64)[0]!;
    }
    out(`ok floor_subarray_64 ${since(t0)} ${total}`);
  },
  floor_alloc_copy_64(c) {
    const { view, ab, n } = floorInput(c);
    const span = view.length - 64;
    const stride = Number(c.stride);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const a = (i * stride) % span;
      const copy = newBuffer64();
      copy.set(new Uint8Array(ab, a, 64));
      total += copy[0]!;
    }
    out(`ok floor_alloc_copy_64 ${since(t0)} ${total}`);
  },
  floor_alloc_copy_seq_64(c) {
    const { ab, n } = floorInput(c);
    let total = 0;
    const t0 = now();
    for (let i = 0, at = 0; i < n; i++, at += 64) {
      const copy = newBuffer64();
      copy.set(new Uint8Array(ab, at, 64));
      total += copy[0]!;
    }
    out(`ok floor_alloc_copy_seq_64 ${since(t0)} ${total}`);
  },
  floor_line_view(c) {
    const { view, ab, n } = floorInput(c);
    let at = 0;
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n && at < view.length; i++) {
      const nl = view.indexOf(10, at);
      const stop = nl < 0 ? view.length : nl;
      total += bufferOver(ab, at, stop - at).length;
      at = stop + 1;
    }
    out(`ok floor_line_view ${since(t0)} ${total}`);
  },
  floor_line_copy(c) {
    const { view, ab, n } = floorInput(c);
    let at = 0;
    let total = 0;
    const t0 = now();
    for (let i = 0; i < n && at < view.length; i++) {
      const nl = view.indexOf(10, at);
      const end = nl < 0 ? view.length : nl + 1;
      const line = pooledBuffer(end - at);
      line.set(new Uint8Array(ab, at, end - at));
      total += line.length;
      at = end;
    }
    out(`ok floor_line_copy ${since(t0)} ${total}`);
  },
  floor_random_copy_64(c) {
    const view = Mmap.open(c.file!, { access: ACCESS_READ }).view();
    const offsets = recordOffsets(Number(c.seed), Number(c.calls), view.length);
    const ab = view.buffer;
    const record = Buffer.alloc(64);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      record.set(new Uint8Array(ab, offsets[i]!, 64));
      total += record[0]!;
    }
    out(`ok floor_random_copy_64 ${since(t0)} ${total}`);
  },
};

// ------------------------------------------------------------------------------------------
// curves: each prints "point X NS OPS CHECK" per point

const memmapCurves: Record<string, Job> = {
  map_close_size(c) {
    const fd = openSync(c.file!, 'r');
    const ops = Number(c.ops);
    for (const size of numbers(c.sizes!)) {
      for (let i = 0; i < ops; i++) new Mmap(fd, size, { access: ACCESS_READ }).close(); // warm-up
      const t0 = now();
      for (let i = 0; i < ops; i++) new Mmap(fd, size, { access: ACCESS_READ }).close();
      out(`point ${size} ${since(t0)} ${ops} ${ops}`);
    }
  },
  live_maps(c) {
    const fd = openSync(c.file!, 'r');
    // trackfd=0: the maps keep no dup() of the descriptor, so the limit of open files does not cap them
    const options = { access: ACCESS_READ, trackfd: c.trackfd !== '0' };
    for (let i = 0; i < 500; i++) new Mmap(fd, PAGE, options).close(); // warm-up, none kept
    const live: Mmap[] = [];
    try {
      for (const at of numbers(c.points!)) {
        const from = live.length;
        const t0 = now();
        while (live.length < at) live.push(new Mmap(fd, PAGE, options));
        out(`point ${at} ${since(t0)} ${at - from} ${live.length}`);
      }
    } catch (error) {
      out(`stop ${live.length} ${String((error as Error).message ?? error).split('\n')[0]}`);
    }
  },
  random_read(c) {
    const size = Number(c.size);
    const offsets = recordOffsets(Number(c.seed), Number(c.ops), size);
    const mm = Mmap.open(c.file!, { access: ACCESS_READ, length: size });
    if (c.warm === '1') for (let i = 0; i < size; i += PAGE) mm.get(i);
    const record = Buffer.alloc(64);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      mm.readInto(record, 0, 64, offsets[i]!);
      total += record[0]!;
    }
    out(`point ${size} ${since(t0)} ${offsets.length} ${total}`);
  },
  find(c) {
    const needle = Buffer.from(c.needle!);
    const budget = Number(c.budget);
    const maxReps = Number(c.maxReps);
    for (const size of numbers(c.sizes!)) {
      const mm = Mmap.open(c.file!, { access: ACCESS_READ, length: size });
      for (let i = 0; i < size; i += PAGE) mm.get(i);
      const reps = Math.min(maxReps, Math.max(3, Math.floor(budget / size)));
      let found = -1;
      const t0 = now();
      for (let i = 0; i < reps; i++) found = mm.find(needle);
      out(`point ${size} ${since(t0)} ${reps} ${found}`);
      mm.close();
    }
  },
};

const CHUNK = 1024 * 1024;

const fsCurves: Record<string, Job> = {
  /** fs's side of map + close: reading the same bytes into a preallocated Buffer (what a
   * program that does not map pays to get them). */
  map_close_size(c) {
    const fd = openSync(c.file!, 'r');
    const sizes = numbers(c.sizes!);
    const buf = Buffer.allocUnsafe(Math.max(...sizes));
    const budget = Number(c.fsBudget);
    for (const size of sizes) {
      const ops = Math.min(Number(c.ops), Math.max(3, Math.floor(budget / size)));
      readSync(fd, buf, 0, size, 0);
      const t0 = now();
      for (let i = 0; i < ops; i++) readSync(fd, buf, 0, size, 0);
      out(`point ${size} ${since(t0)} ${ops} ${ops}`);
    }
  },
  live_maps(c) {
    for (let i = 0; i < 500; i++) closeSync(openSync(c.file!, 'r')); // warm-up, none kept
    const live: number[] = [];
    try {
      for (const at of numbers(c.points!)) {
        const from = live.length;
        const t0 = now();
        while (live.length < at) live.push(openSync(c.file!, 'r'));
        out(`point ${at} ${since(t0)} ${at - from} ${live.length}`);
      }
    } catch (error) {
      out(`stop ${live.length} ${String((error as Error).message ?? error).split('\n')[0]}`);
    }
  },
  random_read(c) {
    const size = Number(c.size);
    const offsets = recordOffsets(Number(c.seed), Number(c.ops), size);
    const fd = openSync(c.file!, 'r');
    if (c.warm === '1') {
      const chunk = Buffer.allocUnsafe(CHUNK);
      for (let at = 0; at < size; at += CHUNK) readSync(fd, chunk, 0, Math.min(CHUNK, size - at), at);
    }
    const record = Buffer.alloc(64);
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      readSync(fd, record, 0, 64, offsets[i]!);
      total += record[0]!;
    }
    out(`point ${size} ${since(t0)} ${offsets.length} ${total}`);
    closeSync(fd);
  },
  /** fs's side of find: read the range in 1 MiB chunks (overlapping by the needle's length
   * less one) and search each with Buffer.indexOf. */
  find(c) {
    const needle = Buffer.from(c.needle!);
    const budget = Number(c.budget);
    const maxReps = Number(c.maxReps);
    const fd = openSync(c.file!, 'r');
    const chunk = Buffer.allocUnsafe(CHUNK);
    const findIn = (size: number): number => {
      for (let pos = 0; ;) {
        const n = readSync(fd, chunk, 0, Math.min(CHUNK, size - pos), pos);
        const at = chunk.subarray(0, n).indexOf(needle);
        if (at >= 0) return pos + at;
        if (pos + n >= size || n === 0) return -1;
        pos += n - (needle.length - 1);
      }
    };
    for (const size of numbers(c.sizes!)) {
      findIn(size); // untimed: the pages into the page cache, as the maps are prefaulted
      const reps = Math.min(maxReps, Math.max(3, Math.floor(budget / size)));
      let found = -1;
      const t0 = now();
      for (let i = 0; i < reps; i++) found = findIn(size);
      out(`point ${size} ${since(t0)} ${reps} ${found}`);
    }
  },
};

const JOBS: Record<string, Record<string, Job>> = {
  memmap: { ...memmapShort, ...memmapCurves },
  fs: { ...fsShort, ...fsCurves },
  runtime: floorShort,
};

const [participant = '', row = '', ...rest] = process.argv.slice(2);
const cfg = Object.fromEntries(rest.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const job = JOBS[participant]?.[row];
if (job === undefined) out(`skip ${row} ${participant} has no such row`);
else job(cfg);
