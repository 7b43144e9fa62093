/**
 * A pure-TypeScript model of one memory map with CPython 3.13's `mmap` semantics on Linux, plus
 * the refinements memmap documents (the new position from `seek`, `flush(offset)` to the end,
 * `find(empty, start > length)` = -1, `undefined`/`null` as "default", `size()` of anonymous
 * memory, a `resize` that fails cleanly, views that read zeros after `close`/`resize`).
 *
 * It has the same method names and arguments as `Mmap`, so one operation can be applied to both
 * and the outcomes compared. It never touches memory maps or files: the "file" is a byte array.
 *
 * Pages are modelled, because the kernel's page granularity is visible through the API:
 * - a shared map is a window onto its backing store (the file, or the memory file of shared
 *   anonymous memory): writes go straight to it, and `resize` truncates or extends it;
 * - a private map (`ACCESS_COPY`, `ACCESS_READ`, `MAP_PRIVATE`) reads its backing store until a
 *   page is first written; that page is then copied (copy-on-write) and never reaches the file.
 *   A copied page that a shrinking `resize` keeps (the one holding the new end) keeps its bytes
 *   past the end, so growing again shows them, exactly as `mremap` does.
 */

export const ACCESS_DEFAULT = 0;
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const ACCESS_COPY = 3;
const ACCESS_NAMES = ['ACCESS_DEFAULT', 'ACCESS_READ', 'ACCESS_WRITE', 'ACCESS_COPY'];

export type ErrorKind = 'TypeError' | 'RangeError' | 'Error';

/** What the model expects a call to throw: the error class and its `code`. */
export class ModelError {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly why: string,
  ) {}
}

function fail(kind: ErrorKind, code: string, why: string): never {
  throw new ModelError(kind, code, why);
}

/** Data as the model sees it: bytes (the test converts them to the form passed to memmap). */
export type ModelData = Uint8Array;

export interface ModelConfig {
  /** `fileno` -1. */
  anonymous: boolean;
  /** Writes reach the backing store (MAP_SHARED and not ACCESS_READ/ACCESS_COPY). */
  shared: boolean;
  /** The effective access mode, after CPython's inference from `prot`. */
  access: number;
  /** The file's bytes (file-backed), or the initial contents of the memory file behind shared
   * anonymous memory; null for private anonymous memory. Copied. */
  backing: Uint8Array | null;
  offset: number;
  length: number;
  trackfd: boolean;
  pageSize: number;
  /** Outcome of setName() on this kind of map: null for success, else the error code. */
  setNameError?: string | null;
  /** Outcome of lock()/unlock() on this machine: null for success, else the error code. */
  lockError?: string | null;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MS_SYNC = 4;
const MS_ASYNC = 1;
const MS_INVALIDATE = 2;

/**
 * The error for a number that is not an integer (NaN, ±Infinity, 1.5) where an integer is
 * wanted. memmap uses one rule for every such argument; which one (Node's RangeError
 * ERR_OUT_OF_RANGE or CPython's TypeError) is memmap's documented choice, set by the tests.
 */
export const nonInteger: { kind: ErrorKind; code: string } = { kind: 'RangeError', code: 'ERR_OUT_OF_RANGE' };

/** validateInteger of src/validate.ts, stated independently: a number, an integer, in range. */
function int(value: unknown, min = -MAX_SAFE, max = MAX_SAFE): number {
  if (typeof value !== 'number') fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'not a number');
  if (!Number.isInteger(value)) fail(nonInteger.kind, nonInteger.code, 'not an integer');
  if (value < min || value > max) fail('RangeError', 'ERR_OUT_OF_RANGE', 'out of range');
  return value === 0 ? 0 : value;
}

function optInt(value: unknown, fallback: number, min?: number, max?: number): number {
  return value === undefined || value === null ? fallback : int(value, min, max);
}

/** Python's slice.indices() followed by the slice length (PySlice_AdjustIndices). */
export function pySlice(length: number, start: unknown, stop: unknown, step: unknown): [number, number, number] {
  const big = Number.MAX_VALUE;
  // CPython clamps the step to ±sys.maxsize; any larger integer is accepted.
  let k = optInt(step, 1, -big, big);
  if (k === 0) fail('RangeError', 'ERR_OUT_OF_RANGE', 'slice step cannot be zero');
  k = Math.max(-MAX_SAFE, Math.min(MAX_SAFE, k));
  let s = start === undefined || start === null ? (k < 0 ? big : 0) : int(start, -big, big);
  let e = stop === undefined || stop === null ? (k < 0 ? -big : big) : int(stop, -big, big);
  if (s < 0) {
    s += length;
    if (s < 0) s = k < 0 ? -1 : 0;
  } else if (s >= length) s = k < 0 ? length - 1 : length;
  if (e < 0) {
    e += length;
    if (e < 0) e = k < 0 ? -1 : 0;
  } else if (e >= length) e = k < 0 ? length - 1 : length;
  let n = 0;
  if (k < 0) {
    if (e < s) n = Math.floor((s - e - 1) / -k) + 1;
  } else if (s < e) n = Math.floor((e - s - 1) / k) + 1;
  return [s, k, n];
}

/** bytes.find / bytes.rfind with Python's index adjustment (3.15 rules: start > len is -1). */
function pyFind(hay: Uint8Array, sub: Uint8Array, start: number, end: number, reverse: boolean): number {
  const len = hay.length;
  if (end > len) end = len;
  else if (end < 0) {
    end += len;
    if (end < 0) end = 0;
  }
  if (start < 0) {
    start += len;
    if (start < 0) start = 0;
  }
  if (start > len) return -1;
  if (end - start < sub.length) return -1;
  const matchAt = (at: number) => {
    for (let j = 0; j < sub.length; j++) if (hay[at + j] !== sub[j]) return false;
    return true;
  };
  if (reverse) {
    for (let at = end - sub.length; at >= start; at--) if (matchAt(at)) return at;
  } else {
    for (let at = start; at + sub.length <= end; at++) if (matchAt(at)) return at;
  }
  return -1;
}

export class MmapModel {
  readonly anonymous: boolean;
  readonly shared: boolean;
  readonly access: number;
  readonly offset: number;
  readonly trackfd: boolean;
  readonly pageSize: number;
  /** The file (or memory file); private maps read it where they have no copied page. */
  backing: Uint8Array | null;
  /** Copied (written) pages of a private map, by page index within the map. */
  private pages = new Map<number, Uint8Array>();
  /** Pages locked by lock() (msync with MS_INVALIDATE refuses them: EBUSY). */
  private locked = new Set<number>();
  #length: number;
  pos = 0;
  isClosed = false;
  /** Bumped by close() and resize(): views handed out before then read as length 0. */
  viewGeneration = 0;
  private setNameError: string | null;
  private lockError: string | null;

  constructor(config: ModelConfig) {
    this.anonymous = config.anonymous;
    this.shared = config.shared;
    this.access = config.access;
    this.offset = config.offset;
    this.trackfd = config.trackfd;
    this.pageSize = config.pageSize;
    this.backing = config.backing === null ? null : Uint8Array.from(config.backing);
    this.#length = config.length;
    this.setNameError = config.setNameError ?? null;
    this.lockError = config.lockError ?? null;
  }

  // ---------------------------------------------------------------- memory

  private underlying(i: number): number {
    if (this.backing === null) return 0;
    return this.backing[this.offset + i] ?? 0;
  }

  byte(i: number): number {
    if (this.shared) return this.underlying(i);
    const page = this.pages.get(Math.floor(i / this.pageSize));
    return page === undefined ? this.underlying(i) : page[i % this.pageSize]!;
  }

  private setByte(i: number, value: number): void {
    if (this.shared) {
      this.backing![this.offset + i] = value;
      return;
    }
    this.copyPage(Math.floor(i / this.pageSize))[i % this.pageSize] = value;
  }

  /** A private map's own copy of page p, made from what it showed until now. */
  private copyPage(p: number): Uint8Array {
    let page = this.pages.get(p);
    if (page === undefined) {
      page = new Uint8Array(this.pageSize);
      for (let j = 0; j < this.pageSize; j++) page[j] = this.underlying(p * this.pageSize + j);
      this.pages.set(p, page);
    }
    return page;
  }

  /** Page indices of [offset, offset + length), as the kernel rounds them: the page holding an
   * unaligned offset counts even when length is 0. */
  private pageRange(offset: number, length: number): number[] {
    const out: number[] = [];
    for (let p = Math.floor(offset / this.pageSize); p * this.pageSize < offset + length; p++) out.push(p);
    return out;
  }

  /** The map's bytes [from, to). */
  bytes(from = 0, to = this.#length): Uint8Array {
    const out = new Uint8Array(Math.max(0, to - from));
    if (this.shared && this.backing !== null) {
      out.set(this.backing.subarray(this.offset + from, this.offset + to));
      return out;
    }
    for (let i = from; i < to; i++) out[i - from] = this.byte(i);
    return out;
  }

  /** Copies src into the map at `at`; src is already a snapshot (memmove semantics). */
  private put(at: number, src: Uint8Array): void {
    for (let j = 0; j < src.length; j++) this.setByte(at + j, src[j]!);
  }

  /** The bytes the file should hold now (file-backed maps), or null. */
  fileBytes(): Uint8Array | null {
    return this.anonymous ? null : this.backing;
  }

  // ---------------------------------------------------------------- checks

  private check(): void {
    if (this.isClosed) fail('Error', 'ERR_MMAP_CLOSED', 'closed');
  }

  private writable(): void {
    if (this.access === ACCESS_READ) fail('TypeError', 'ERR_MMAP_READONLY', 'readonly');
  }

  // ---------------------------------------------------------------- the API

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.viewGeneration++;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get length(): number {
    this.check();
    return this.#length;
  }

  seekable(): true {
    return true;
  }

  get(index: unknown): number {
    this.check();
    if (typeof index !== 'number' || !Number.isInteger(index)) fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'index');
    const i = index < 0 ? index + this.#length : index;
    if (i < 0 || i >= this.#length) fail('RangeError', 'ERR_OUT_OF_RANGE', 'index out of range');
    return this.byte(i);
  }

  set(index: unknown, value: unknown): void {
    this.check();
    this.writable();
    if (typeof index !== 'number' || !Number.isInteger(index)) fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'index');
    const i = index < 0 ? index + this.#length : index;
    if (i < 0 || i >= this.#length) fail('RangeError', 'ERR_OUT_OF_RANGE', 'index out of range');
    if (typeof value !== 'number' || !Number.isInteger(value)) fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'value');
    if (value < 0 || value > 255) fail('RangeError', 'ERR_OUT_OF_RANGE', 'value range');
    this.setByte(i, value);
  }

  slice(start?: unknown, stop?: unknown, step?: unknown): Uint8Array {
    this.check();
    const [first, k, n] = pySlice(this.#length, start, stop, step);
    const out = new Uint8Array(n);
    for (let i = 0, at = first; i < n; i++, at += k) out[i] = this.byte(at);
    return out;
  }

  setSlice(start: unknown, stop: unknown, data: ModelData, step?: unknown): void {
    this.check();
    this.writable();
    const [first, k, n] = pySlice(this.#length, start, stop, step);
    if (data.length !== n) fail('RangeError', 'ERR_OUT_OF_RANGE', 'wrong size');
    const src = Uint8Array.from(data);
    for (let i = 0, at = first; i < n; i++, at += k) this.setByte(at, src[i]!);
  }

  /** A copy of what `view(offset, length)` shows. */
  view(offset?: unknown, length?: unknown): Uint8Array {
    this.check();
    const o = optInt(offset, 0, 0, this.#length);
    const n = optInt(length, this.#length - o, 0, this.#length - o);
    return this.bytes(o, o + n);
  }

  /** A write through a view: no checks but the view's own bounds (the caller keeps to them). */
  viewWrite(offset: number, data: Uint8Array): void {
    this.put(offset, Uint8Array.from(data));
  }

  iterate(): number[] {
    this.check();
    return Array.from(this.bytes());
  }

  read(n?: unknown): Uint8Array {
    this.check();
    const want = optInt(n, -1);
    const remaining = this.pos < this.#length ? this.#length - this.pos : 0;
    const count = want < 0 || want > remaining ? remaining : want;
    const out = this.bytes(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  readByte(): number {
    this.check();
    if (this.pos >= this.#length) fail('RangeError', 'ERR_OUT_OF_RANGE', 'read byte out of range');
    return this.byte(this.pos++);
  }

  readLine(): Uint8Array {
    this.check();
    if (this.pos >= this.#length) return new Uint8Array(0);
    let end = this.pos;
    while (end < this.#length && this.byte(end) !== 0x0a) end++;
    if (end < this.#length) end++;
    const out = this.bytes(this.pos, end);
    this.pos = end;
    return out;
  }

  write(data: ModelData): number {
    this.check();
    this.writable();
    if (this.pos > this.#length || this.#length - this.pos < data.length) {
      fail('RangeError', 'ERR_OUT_OF_RANGE', 'data out of range');
    }
    this.put(this.pos, Uint8Array.from(data));
    this.pos += data.length;
    return data.length;
  }

  writeByte(byte: unknown): void {
    this.check();
    if (typeof byte !== 'number' || !Number.isInteger(byte)) fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'byte');
    if (byte > 255 || byte < 0) fail('RangeError', 'ERR_OUT_OF_RANGE', 'byte range');
    this.writable();
    if (this.pos >= this.#length) fail('RangeError', 'ERR_OUT_OF_RANGE', 'write byte out of range');
    this.setByte(this.pos++, byte);
  }

  seek(pos: unknown, whence: unknown = 0): number {
    this.check();
    const distance = int(pos);
    const how = int(whence, -(2 ** 31), 2 ** 31 - 1);
    let target: number;
    if (how === 0) target = distance;
    else if (how === 1) target = this.pos + distance;
    else if (how === 2) target = this.#length + distance;
    else fail('RangeError', 'ERR_INVALID_ARG_VALUE', 'unknown seek type');
    if (target < 0 || target > this.#length) fail('RangeError', 'ERR_OUT_OF_RANGE', 'seek out of range');
    this.pos = target;
    return target;
  }

  tell(): number {
    this.check();
    return this.pos;
  }

  /** readInto into a target of `room` bytes. */
  readInto(room: number, offset?: unknown, length?: unknown, position?: unknown): number {
    this.check();
    const o = optInt(offset, 0, 0, room);
    const n = optInt(length, room - o, 0, room - o);
    const fromCursor = position === undefined || position === null;
    const at = fromCursor ? this.pos : int(position, 0, MAX_SAFE);
    const count = at >= this.#length ? 0 : Math.min(n, this.#length - at);
    if (fromCursor) this.pos = at + count;
    return count;
  }

  /** lines(start, end) as latin1 strings: find()'s bounds (from 0), split at \n, \n dropped. */
  lines(start?: unknown, end?: unknown): string[] {
    this.check();
    const big = Number.MAX_VALUE;
    const len = this.#length;
    let s = optInt(start, 0, -big, big);
    let e = optInt(end, len, -big, big);
    if (s < 0) s = Math.max(0, s + len);
    if (e < 0) e = Math.max(0, e + len);
    if (e > len) e = len;
    const hay = this.bytes();
    const out: string[] = [];
    for (let at = s; at < e;) {
      let stop = at;
      while (stop < e && hay[stop] !== 0x0a) stop++;
      out.push(Buffer.from(hay.subarray(at, stop)).toString('latin1'));
      at = stop === e ? e : stop + 1;
    }
    return out;
  }

  find(sub: ModelData, start?: unknown, end?: unknown): number {
    this.check();
    const big = Number.MAX_VALUE;
    const s = optInt(start, this.pos, -big, big);
    const e = optInt(end, this.#length, -big, big);
    return pyFind(this.bytes(), sub, s, e, false);
  }

  rfind(sub: ModelData, start?: unknown, end?: unknown): number {
    this.check();
    const big = Number.MAX_VALUE;
    const s = optInt(start, this.pos, -big, big);
    const e = optInt(end, this.#length, -big, big);
    return pyFind(this.bytes(), sub, s, e, true);
  }

  move(dest: unknown, src: unknown, count: unknown): void {
    this.check();
    const d = int(dest);
    const s = int(src);
    const n = int(count);
    this.writable();
    const len = this.#length;
    if (d < 0 || s < 0 || n < 0 || len - d < n || len - s < n) {
      fail('RangeError', 'ERR_OUT_OF_RANGE', 'source, destination, or count out of range');
    }
    if (n === 0 || d === s) return;
    this.put(d, this.bytes(s, s + n));
  }

  flush(offset?: unknown, size?: unknown, flags?: unknown): void {
    this.check();
    const o = optInt(offset, 0);
    let n = optInt(size, -1);
    const f = flags === undefined ? MS_SYNC : int(flags, -(2 ** 31), 2 ** 31 - 1);
    if (n === -1) n = this.#length - o;
    if (n < 0 || o < 0 || this.#length - o < n) fail('RangeError', 'ERR_OUT_OF_RANGE', 'flush values out of range');
    if (this.access === ACCESS_READ || this.access === ACCESS_COPY || n === 0) return;
    // msync(2): unknown bits, or MS_SYNC together with MS_ASYNC, are EINVAL.
    if ((f & ~(MS_SYNC | MS_ASYNC | MS_INVALIDATE)) !== 0 || (f & MS_SYNC && f & MS_ASYNC)) {
      fail('Error', 'EINVAL', 'msync flags');
    }
    if (f & MS_INVALIDATE && this.pageRange(o, n).some((p) => this.locked.has(p))) {
      fail('Error', 'EBUSY', 'msync(MS_INVALIDATE) of locked pages');
    }
  }

  madvise(option: unknown, start?: unknown, length?: unknown): void {
    this.check();
    int(option, -(2 ** 31), 2 ** 31 - 1);
    const size = this.#length;
    const s = optInt(start, 0);
    if (s < 0 || s >= size) fail('RangeError', 'ERR_OUT_OF_RANGE', 'madvise start out of bounds');
    const n = optInt(length, size - s);
    if (n < 0) fail('RangeError', 'ERR_OUT_OF_RANGE', 'madvise length invalid');
    if (s + n > MAX_SAFE) fail('RangeError', 'ERR_OUT_OF_RANGE', 'madvise length too large');
    // Linux's advice that cannot make a page fault (HWPOISON 100, SOFT_OFFLINE 101,
    // GUARD_INSTALL 102 and unknown values are refused before the kernel sees them).
    const safe = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
    if (!safe.includes(option as number)) fail('RangeError', 'ERR_INVALID_ARG_VALUE', 'advice not allowed');
    if (s % this.pageSize !== 0) fail('Error', 'EINVAL', 'madvise of an unaligned start');
  }

  /** mlock: the pages are locked, and a private writable map's pages are copied (the kernel
   * breaks copy-on-write when it populates them). */
  lock(offset?: unknown, length?: unknown): void {
    for (const p of this.lockRange(offset, length)) {
      // Under AddressSanitizer mlock does nothing (its runtime intercepts it).
      if (!process.env.MEMMAP_ASAN) this.locked.add(p);
      if (!this.shared) this.copyPage(p);
    }
  }

  unlock(offset?: unknown, length?: unknown): void {
    for (const p of this.lockRange(offset, length)) this.locked.delete(p);
  }

  private lockRange(offset: unknown, length: unknown): number[] {
    this.check();
    const o = optInt(offset, 0, 0, this.#length);
    const n = optInt(length, this.#length - o, 0, this.#length - o);
    if (this.lockError !== null) fail('Error', this.lockError, 'mlock');
    return this.pageRange(o, n);
  }

  /** How many entries residency(offset, length) returns (their values are the kernel's). */
  residency(offset?: unknown, length?: unknown): number {
    this.check();
    const o = optInt(offset, 0, 0, this.#length);
    const n = optInt(length, this.#length - o, 0, this.#length - o);
    const first = o - (o % this.pageSize);
    return Math.ceil((n + o - first) / this.pageSize);
  }

  resize(newSize: unknown): void {
    this.check();
    if (!this.trackfd) fail('Error', 'ERR_MMAP_TRACKFD', 'trackfd');
    if (this.access === ACCESS_READ || this.access === ACCESS_COPY) {
      fail('TypeError', 'ERR_MMAP_NOT_RESIZABLE', 'readonly or copy-on-write');
    }
    const size = int(newSize);
    if (size <= 0 || this.offset + size > MAX_SAFE) fail('RangeError', 'ERR_OUT_OF_RANGE', 'new size out of range');
    if (this.backing !== null) {
      const next = new Uint8Array(this.offset + size);
      next.set(this.backing.subarray(0, Math.min(this.backing.length, next.length)));
      this.backing = next;
    }
    // mremap keeps the pages below the new end; the rest are dropped (private copies included).
    // Pages it adds belong to the last page's region, so they are locked if that page was.
    const keep = Math.ceil(size / this.pageSize);
    const had = Math.ceil(this.#length / this.pageSize);
    for (const p of [...this.pages.keys()]) if (p >= keep) this.pages.delete(p);
    for (const p of [...this.locked]) if (p >= keep) this.locked.delete(p);
    if (this.locked.has(had - 1)) for (let p = had; p < keep; p++) this.locked.add(p);
    this.#length = size;
    this.viewGeneration++;
  }

  size(): number {
    this.check();
    if (!this.trackfd) fail('Error', 'ERR_MMAP_TRACKFD', 'trackfd');
    if (this.anonymous) return this.#length;
    return this.backing!.length;
  }

  setName(name: unknown): void {
    this.check();
    if (typeof name !== 'string') fail('TypeError', 'ERR_INVALID_ARG_TYPE', 'name');
    if (name.includes('\0')) fail('RangeError', 'ERR_INVALID_ARG_VALUE', 'embedded null character');
    if (Buffer.byteLength(name) > 66) fail('RangeError', 'ERR_INVALID_ARG_VALUE', 'name is too long');
    if (!this.anonymous) fail('Error', 'ERR_MMAP_NOT_ANONYMOUS', 'file-backed');
    if (this.setNameError !== null) fail('Error', this.setNameError, 'prctl');
  }

  get faulted(): boolean {
    return false;
  }

  toString(): string {
    if (this.isClosed) return '<mmap.mmap closed=True>';
    return (
      `<mmap.mmap closed=False, access=${ACCESS_NAMES[this.access]}, length=${this.#length}, ` +
      `pos=${this.pos}, offset=${this.offset}>`
    );
  }
}

/**
 * The outcome CPython's constructor rules give for a regular file of `fileSize` bytes (or
 * anonymous memory when fileSize is null): the map's length and access, or the error.
 */
export function expectConstruct(args: {
  fileSize: number | null;
  length: number;
  offset: number;
  access?: number;
  flags?: number;
  prot?: number;
  readOnlyFd?: boolean;
  pageSize: number;
  MAP_SHARED: number;
  MAP_PRIVATE: number;
  PROT_READ: number;
  PROT_WRITE: number;
}): { length: number; access: number } | ModelError {
  const { fileSize, offset, pageSize } = args;
  let length = args.length;
  const flags = args.flags ?? args.MAP_SHARED;
  const prot = args.prot ?? args.PROT_READ | args.PROT_WRITE;
  const access = args.access ?? ACCESS_DEFAULT;
  try {
    if (length < 0) fail('RangeError', 'ERR_OUT_OF_RANGE', 'length must be positive');
    if (offset < 0) fail('RangeError', 'ERR_OUT_OF_RANGE', 'offset must be positive');
    if (access !== ACCESS_DEFAULT && (flags !== args.MAP_SHARED || prot !== (args.PROT_READ | args.PROT_WRITE))) {
      fail('TypeError', 'ERR_INCOMPATIBLE_OPTION_PAIR', 'access with flags/prot');
    }
    if (access < 0 || access > 3) fail('RangeError', 'ERR_INVALID_ARG_VALUE', 'invalid access');
    let effective = access;
    if (access === ACCESS_DEFAULT) {
      // CPython 3.13's rule, on prot's bits (PROT_EXEC and others do not change it).
      const r = (prot & args.PROT_READ) !== 0;
      const w = (prot & args.PROT_WRITE) !== 0;
      effective = r && w ? ACCESS_DEFAULT : w ? ACCESS_WRITE : ACCESS_READ;
    }
    if (fileSize !== null) {
      if (length === 0) {
        if (fileSize === 0) fail('Error', 'ERR_MMAP_EMPTY_FILE', 'empty file');
        if (offset >= fileSize) fail('RangeError', 'ERR_OUT_OF_RANGE', 'offset is greater than file size');
        length = fileSize - offset;
      } else if (offset > fileSize || fileSize - offset < length) {
        fail('RangeError', 'ERR_OUT_OF_RANGE', 'length is greater than file size');
      }
    } else if (length === 0) {
      fail('Error', 'EINVAL', 'anonymous length 0');
    }
    if (offset % pageSize !== 0) fail('Error', 'EINVAL', 'unaligned offset');
    // The map is shared and writable for ACCESS_WRITE, and for ACCESS_DEFAULT with MAP_SHARED flags
    // and a writable prot (which infers DEFAULT or WRITE); MAP_PRIVATE flags keep it private.
    const sharedWrite =
      access === ACCESS_WRITE ||
      (access === ACCESS_DEFAULT && effective !== ACCESS_READ && (flags & args.MAP_SHARED) !== 0);
    if (fileSize !== null && args.readOnlyFd && sharedWrite)
      fail('Error', 'EACCES', 'shared writable map of a read-only fd');
    return { length, access: effective };
  } catch (error) {
    if (error instanceof ModelError) return error;
    throw error;
  }
}
