/**
 * The `Mmap` class: Python's `mmap.mmap` for JavaScript.
 *
 * State lives here, in TypeScript: the position, the length, the access mode and a cache of
 * Buffers over the mapped memory. Byte work (get/set/read/write/find/readLine/slice) runs on
 * those cached Buffers, so a hot call never crosses into native code; the addon is called for
 * system calls only (map, unmap, remap, msync, madvise, ...).
 *
 * Views. A map smaller than 4 GiB (`SAFE_LIMIT`) is covered by one Buffer. A larger map is
 * covered by overlapping windows of 2·S bytes starting every S bytes (S = a quarter of that
 * limit), so any range of at most S bytes lies inside one window; longer operations walk the
 * windows. No Buffer or ArrayBuffer over a map reaches 2^32 bytes, even where the runtime's
 * `buffer.constants.MAX_LENGTH` allows it (2^53 - 1 on Node 22+): runtimes mis-handle Buffers
 * past 2^32 (Node 22 and 24's `indexOf`/`lastIndexOf` wrap, Node 26's `indexOf` mis-handles a
 * start offset past 2^32, Deno reads zeros from a map past 4 GiB), and the windows keep every
 * result independent of that.
 */
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, constants as fsConstants, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { inspect, types } from 'node:util';

import * as workerThreads from 'node:worker_threads';

import { faultCounter, native, type Handle } from './binding.js';
import { copyOf } from './pool.js';
import {
  first as firstMatch, prepare as prepareSearch, scan as scanMatches, type MapMatch, type SearchOptions,
  type SearchSource,
} from './search.js';
import {
  ACCESS_COPY, ACCESS_DEFAULT, ACCESS_NAMES, ACCESS_READ, MS_SYNC, PAGESIZE,
} from './constants.js';
import {
  argTypeError, closedError, nativeError, rangeError, readonlyError, stateError, systemError, typeError,
} from './errors.js';
import { mapArguments, openArguments, type MmapOptions, type OpenOptions } from './options.js';
import {
  copyBytes, type Data, lengthOf, optionalInteger, ownView, searchBounds, setBytes, sliceIndices, targetBytes, toBytes, validateInt32,
  validateInteger,
} from './validate.js';

export type { MmapOptions, OpenOptions } from './options.js';

const OPEN = 0;
const CLOSED = 1;
const FAULTED = 2;
type State = typeof OPEN | typeof CLOSED | typeof FAULTED;

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.of(NEWLINE);
const NAME_PREFIX = 'memmap:';
const MAX_NAME_BYTES = 66; // CPython's limit, so names that work there work here

/** The largest Buffer memmap makes over a map: below 2^32 bytes on every runtime (see the
 * header), in whole 64 KiB units so that it is a multiple of every page size. */
const SAFE_LIMIT = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32 - 2 ** 16);

/** Largest single Buffer over a map; a test hook may lower it to exercise the windows. */
let windowLimit = SAFE_LIMIT;

/** @internal Lowers the single-Buffer limit so tests can cover windowed maps cheaply. */
export function setWindowLimitForTesting(bytes: number | undefined): void {
  windowLimit = bytes === undefined ? SAFE_LIMIT : bytes;
}

/**
 * Keeps a view's ArrayBuffer from being moved to another thread by postMessage or
 * structuredClone: its memory belongs to the thread that mapped it (a thread's exit releases
 * it). Node 20 then copies the buffer; Node 22 refuses to move it. Node 24+ refuses to move
 * external buffers by itself, and marking them there would make them non-detachable, which
 * aborts Node when it detaches them at a thread's exit: marking is used only where it leaves
 * the buffer detachable. transfer() within the thread is safe either way (the addresses stay
 * reserved until the moved buffer is freed).
 */
const markAsUntransferable: (ab: ArrayBuffer) => void = (() => {
  const mark = (workerThreads as { markAsUntransferable?: (ab: ArrayBuffer) => void }).markAsUntransferable;
  if (typeof mark !== 'function') return () => {};
  const probe = new ArrayBuffer(8);
  mark(probe);
  const transfer = (probe as { transfer?: () => ArrayBuffer }).transfer;
  if (typeof transfer === 'function') {
    try {
      transfer.call(probe);
    } catch {
      return () => {}; // marking makes a buffer non-detachable here
    }
  }
  return (ab) => mark(ab);
})();

/** The TypedArray classes view() accepts, with their element sizes (Float16Array where the
 * runtime has it). */
export type TypedArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor | Int16ArrayConstructor
  | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor
  | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;
const TYPED_ARRAYS = new Map<Function, number>(
  [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
    Float64Array, BigInt64Array, BigUint64Array, (globalThis as { Float16Array?: Function }).Float16Array]
    .filter((c): c is Function & { BYTES_PER_ELEMENT: number } => typeof c === 'function')
    .map((c) => [c, (c as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT]));

const WAIT_RESULTS = ['ok', 'not-equal', 'timed-out'] as const;

/** Where native.map() reports what it made: whether it owns a descriptor (>= 0), the length,
 * whether writes stay private, whether it is anonymous memory in a memory file. */
const mapOut = new Float64Array(4);

/**
 * A memory-mapped file or block of shared memory, with Python's `mmap` API.
 *
 * ```ts
 * import { Mmap, ACCESS_READ } from 'memmap';
 * using mm = Mmap.open('data.bin', { access: ACCESS_READ });
 * const header = mm.read(16);
 * const at = mm.find('needle');
 * ```
 */
export class Mmap implements Iterable<number>, Disposable {
  #handle: Handle | null = null;
  #state: State = CLOSED;
  #faultMark = 0;
  #length = 0;
  #pos = 0;
  #offset = 0;
  #access = ACCESS_DEFAULT;
  #readonly = false;
  /** Whether the map keeps a descriptor of its file (the number stays in the addon). */
  #hasFd = false;
  #anonymous = false;
  #trackfd = true;
  #memoryFile = false;
  /** Writes stay in this process (MAP_PRIVATE, ACCESS_READ, ACCESS_COPY): no futex is shared. */
  #private = false;
  #pendingFlushes = 0;
  /** waitAsync() calls in flight: each one's cancel flag and word offset (close() wakes them). */
  #waits = new Map<Int32Array, number>();
  // Two sets of Buffers over the map. The internal ones (#buf, #windows) serve get/set/read/
  // find...; they never leave this object, so they can be detached before close() or resize()
  // and no caller can detach, transfer or hand them to native code. The public ones (#view,
  // #viewWindows, spanning views) back view(); they are never detached (native code may still
  // be reading or writing through them), and the addon keeps their addresses reserved until
  // V8 frees them: after close() or resize() they read zeros.
  /** The internal Buffer over the whole map, made on first use; null for windowed maps. */
  #buf: Buffer | null = null;
  /** The public Buffer over the whole map that views are cut from; null until first needed. */
  #view: Buffer | null = null;
  /** Windowed maps only: window k covers [k·stride, k·stride + 2·stride). */
  #windowed = false;
  #stride = 0;
  #windows: Buffer[] = [];
  #viewWindows: Buffer[] = [];
  /** Every public ArrayBuffer over the live mapping, to recognise a view of this map passed
   * back in (a windowed copy is not one memmove, so it must copy such a source first). */
  #viewBuffers = new WeakSet<ArrayBufferLike>();

  /**
   * Maps `length` bytes of the file open as `fileno`, from `options.offset` (CPython's
   * `mmap.mmap(fileno, length, flags, prot, access, offset, trackfd=...)`).
   *
   * - `fileno` -1 makes anonymous memory. Shared (the default) anonymous memory lives in a
   *   memory file whose descriptor is `mm.fd`, so another process or thread can map it too.
   * - `length` 0 maps the whole file from `offset`.
   * - The caller's descriptor is never closed; with `trackfd` (the default) the map keeps a
   *   duplicate of it.
   *
   * @throws RangeError `ERR_OUT_OF_RANGE` for a negative length/offset or a length past the
   *   end of the file; TypeError `ERR_INCOMPATIBLE_OPTION_PAIR` for access with flags/prot;
   *   Error `ERR_MMAP_EMPTY_FILE`; a system error (`EACCES`, `EINVAL`, `EBADF`, ...) from mmap.
   */
  constructor(fileno: number, length: number, options?: MmapOptions) {
    const from = Mmap;
    // Every argument is checked, and the access and mmap's flags and prot are worked out, by
    // the option path Mmap.open shares (src/options.ts).
    const plan = mapArguments(fileno, length, options, from);
    // How the request becomes a mapping (protections, flags, shared anonymous memory, which file
    // sizes can be mapped, which descriptor is kept) is the platform's: native/platform.h.
    try {
      this.#handle = native.map(plan.fd, plan.length, plan.offset, plan.given, plan.access, plan.flags, plan.prot,
        plan.trackfd, mapOut, plan.tagname);
    } catch (error) {
      throw nativeError(error, from);
    }
    this.#state = OPEN;
    this.#faultMark = faultCounter[0]!;
    this.#length = mapOut[1]!;
    this.#offset = plan.offset;
    this.#access = plan.access;
    this.#readonly = plan.access === ACCESS_READ;
    this.#trackfd = plan.trackfd;
    this.#anonymous = plan.fd === -1;
    this.#private = mapOut[2] === 1;
    this.#memoryFile = mapOut[3] === 1;
    // trackfd: false keeps no descriptor (for anonymous memory, the mapping alone holds the
    // memory file).
    this.#hasFd = plan.trackfd && mapOut[0]! >= 0;
    this.#resetViews();
  }

  /**
   * Opens `path` with the mode `access` needs, maps it and closes the descriptor (the map
   * keeps its own). The default access is `ACCESS_READ`.
   *
   * ```ts
   * using mm = Mmap.open('log.txt');                                  // read-only, whole file
   * using out = Mmap.open('out.bin', { access: ACCESS_WRITE, length: 1 << 20, create: true });
   * ```
   */
  static open(path: string | URL | Buffer, options?: OpenOptions): Mmap {
    const from = Mmap.open;
    // Every option is checked (types, values, combinations, ranges) before the file is opened,
    // created or extended, so a bad option leaves the file system as it was.
    const plan = openArguments(path, options, from);
    const { length, map } = plan;
    let fd: number;
    let created = false;
    if (plan.create) {
      try {
        fd = openSync(plan.path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL, plan.mode);
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        fd = openSync(plan.path, fsConstants.O_RDWR | fsConstants.O_CREAT, plan.mode);
      }
    } else {
      fd = openSync(plan.path, plan.writable ? 'r+' : 'r');
    }
    let oldSize = -1;
    try {
      if (plan.create) {
        const size = fstatSync(fd).size;
        if (size < map.offset + length) {
          oldSize = size;
          ftruncateSync(fd, map.offset + length);
        }
      }
      return new Mmap(fd, length, map);
    } catch (error) {
      // Mapping failed for a reason no option check can foresee (ENOMEM, EPERM on a noexec
      // mount, ...): undo what create did, so a failed call leaves the file system as it was.
      try {
        if (created) unlinkSync(plan.path);
        else if (oldSize >= 0) ftruncateSync(fd, oldSize);
      } catch {
        // the original error is the one to report
      }
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  // ------------------------------------------------------------------------------------------
  // state checks

  /** The slow path of every method's first line: a foreign receiver, a closed map, or a fault. */
  static #check(mm: unknown, from: Function): void {
    Mmap.#brand(mm, from.name, from);
    (mm as Mmap).#recheck(from);
  }

  /** A method or getter called on something that is not an Mmap gets a coded TypeError. */
  static #brand(mm: unknown, name: string, from: Function = Mmap.#brand): asserts mm is Mmap {
    if (!Mmap.#isMmap(mm)) throw Mmap.#foreign(name, from);
  }

  static #isMmap(mm: unknown): mm is Mmap {
    return typeof mm === 'object' && mm !== null && #state in mm;
  }

  static #foreign(name: string, from: Function): TypeError {
    return typeError('ERR_INVALID_THIS', `Mmap.prototype.${name} was called on something that is not an Mmap`, from);
  }

  /** Throws unless the map is open and no guarded fault has hit it (one load on the fast path). */
  #recheck(from: Function): void {
    if (this.#state === CLOSED) throw closedError(from);
    if (this.#state === OPEN) {
      this.#faultMark = faultCounter[0]!;
      if (native.faults(this.#handle!) === 0) return;
      this.#state = FAULTED;
    }
    let now = -1;
    try {
      if (this.#hasFd) now = native.fileSize(this.#handle!);
    } catch {
      now = -1;
    }
    const error = stateError('ERR_MMAP_TRUNCATED',
      `mmap's file shrank under the map (it is now ${now < 0 ? 'of unknown size' : now + ' bytes'}, ` +
      `the map covers bytes ${this.#offset} to ${this.#offset + this.#length}); ` +
      'the vanished pages read as zeros and writes to them are lost. Close the map.', from) as Error & { size?: number };
    error.size = now;
    throw error;
  }

  #resetViews(): void {
    this.#buf = null;
    this.#windows = [];
    this.#windowed = this.#length > windowLimit;
    this.#stride = this.#windowed ? Math.max(PAGESIZE, Math.floor(windowLimit / 4 / PAGESIZE) * PAGESIZE) : Infinity;
  }

  /**
   * Detaches the internal Buffers and forgets the public ones, before the mapping is closed or
   * moved. Views already handed out stay attached: the addon turns their memory into zeros and
   * keeps it reserved until they are gone.
   */
  #dropBuffers(): void {
    if (this.#buf !== null) native.detach(this.#buf.buffer as ArrayBuffer);
    for (const w of this.#windows) if (w !== undefined) native.detach(w.buffer as ArrayBuffer);
    this.#buf = null;
    this.#windows = [];
    this.#view = null;
    this.#viewWindows = [];
    this.#viewBuffers = new WeakSet();
  }

  /** A new public Buffer over [offset, offset + length) of the map. */
  #publicBuffer(offset: number, length: number): Buffer {
    const ab = native.buffer(this.#handle!, offset, length, true);
    markAsUntransferable(ab);
    this.#viewBuffers.add(ab);
    return Buffer.from(ab);
  }

  /** The public Buffer views are cut from: window k of a windowed map, or the whole map. Made
   * again if a caller detached it (transfer() where the runtime allows it); the map is never
   * empty, so length 0 means detached. */
  #viewWindow(k: number): Buffer {
    if (!this.#windowed) {
      const v = this.#view;
      return v !== null && v.length !== 0 ? v : (this.#view = this.#publicBuffer(0, this.#length));
    }
    const w = this.#viewWindows[k];
    if (w !== undefined && w.length !== 0) return w;
    const start = k * this.#stride;
    return (this.#viewWindows[k] = this.#publicBuffer(start, Math.min(2 * this.#stride, this.#length - start)));
  }

  /** The Buffer over the whole (non-windowed) map. */
  #whole(): Buffer {
    return (this.#buf = Buffer.from(native.buffer(this.#handle!, 0, this.#length, false)));
  }

  /** Window k of a windowed map (or the whole map, k = 0, for a small one). */
  #window(k: number): Buffer {
    if (!this.#windowed) return this.#buf ?? this.#whole();
    let w = this.#windows[k];
    if (w === undefined) {
      const start = k * this.#stride;
      const length = Math.min(2 * this.#stride, this.#length - start);
      w = this.#windows[k] = Buffer.from(native.buffer(this.#handle!, start, length, false));
    }
    return w;
  }

  /** Calls fn(buffer, startInBuffer, mapOffset, count) for consecutive pieces of a range. */
  #pieces(offset: number, length: number, fn: (b: Buffer, at: number, mapOffset: number, n: number) => void): void {
    const stride = this.#stride;
    while (length > 0) {
      const k = this.#windowed ? Math.floor(offset / stride) : 0;
      const base = this.#windowed ? k * stride : 0;
      const n = Math.min(length, this.#windowed ? base + stride - offset : length);
      fn(this.#window(k), offset - base, offset, n);
      offset += n;
      length -= n;
    }
  }

  #byteAt(i: number): number {
    if (!this.#windowed) return (this.#buf ?? this.#whole())[i]!;
    const k = Math.floor(i / this.#stride);
    return this.#window(k)[i - k * this.#stride]!;
  }

  #setByteAt(i: number, value: number): void {
    if (!this.#windowed) {
      (this.#buf ?? this.#whole())[i] = value;
    } else {
      const k = Math.floor(i / this.#stride);
      this.#window(k)[i - k * this.#stride] = value;
    }
  }

  /** A new Buffer holding a copy of [offset, offset + length); `from` is the public method, for
   * the stack of the error when the copy cannot be one Buffer. */
  #copyOut(offset: number, length: number, from: Function): Buffer {
    if (length === 0) return Buffer.alloc(0);
    if (!this.#windowed) return copyOf((this.#buf ?? this.#whole()).buffer, offset, length);
    if (length > bufferConstants.MAX_LENGTH) {
      throw rangeError('ERR_OUT_OF_RANGE', `Cannot read ${length} bytes into one Buffer (the limit is ${bufferConstants.MAX_LENGTH})`, from);
    }
    const out = Buffer.allocUnsafe(length);
    this.#pieces(offset, length, (b, at, mapOffset, n) => out.set(b.subarray(at, at + n), mapOffset - offset));
    return out;
  }

  /** Copies src into the map at offset (memmove semantics when src is a view of the map).
   * src may be a caller's instance: only `set` (which reads its internal slots) touches it, or
   * a view of memmap's own over its bytes, so no user code runs mid-copy. */
  #copyIn(offset: number, src: Uint8Array): void {
    if (lengthOf(src) === 0) return;
    if (!this.#windowed) {
      (this.#buf ?? this.#whole()).set(src, offset);
      return;
    }
    src = ownView(src);
    if (this.#aliases(src)) src = copyBytes(src); // a copy, so the windows can be written in any order
    this.#pieces(offset, src.length, (b, at, mapOffset, n) => b.set(src.subarray(mapOffset - offset, mapOffset - offset + n), at));
  }

  /** Whether a view shares memory with this (windowed) map. */
  #aliases(view: Uint8Array): boolean {
    return this.#viewBuffers.has(view.buffer);
  }

  #indexOf(needle: Uint8Array, start: number, end: number): number {
    if (!this.#windowed) {
      const b = this.#buf ?? this.#whole();
      // A one-byte needle is a memchr; an unbounded search needs no subarray.
      const value = needle.length === 1 ? needle[0]! : needle;
      if (end === this.#length) return b.indexOf(value, start);
      const at = b.subarray(start, end).indexOf(value);
      return at < 0 ? -1 : at + start;
    }
    const stride = this.#stride;
    if (needle.length > stride) return this.#slowIndexOf(needle, start, end, false);
    for (let k = Math.floor(start / stride); k * stride < end; k++) {
      const base = k * stride;
      const from = Math.max(start, base);
      const to = Math.min(end, base + stride + needle.length - 1, this.#length);
      if (to - from < needle.length) continue;
      const at = this.#window(k).subarray(from - base, to - base).indexOf(needle);
      if (at >= 0) return from + at;
    }
    return -1;
  }

  #lastIndexOf(needle: Uint8Array, start: number, end: number): number {
    if (!this.#windowed) {
      const at = (this.#buf ?? this.#whole()).subarray(start, end).lastIndexOf(needle);
      return at < 0 ? -1 : at + start;
    }
    const stride = this.#stride;
    if (needle.length > stride) return this.#slowIndexOf(needle, start, end, true);
    for (let k = Math.floor((end - 1) / stride); k >= 0 && (k + 1) * stride + needle.length - 1 > start; k--) {
      const base = k * stride;
      const from = Math.max(start, base);
      const to = Math.min(end, base + stride + needle.length - 1, this.#length);
      if (to - from < needle.length) continue;
      const at = this.#window(k).subarray(from - base, to - base).lastIndexOf(needle);
      if (at >= 0) return from + at;
    }
    return -1;
  }

  /** Needles longer than a window stride (over 1 GiB) are compared byte by byte. */
  #slowIndexOf(needle: Uint8Array, start: number, end: number, last: boolean): number {
    const matches = (at: number) => {
      for (let i = 0; i < needle.length; i++) if (this.#byteAt(at + i) !== needle[i]) return false;
      return true;
    };
    if (last) {
      for (let at = end - needle.length; at >= start; at--) if (matches(at)) return at;
    } else {
      for (let at = start; at + needle.length <= end; at++) if (matches(at)) return at;
    }
    return -1;
  }

  // ------------------------------------------------------------------------------------------
  // Python's mmap API

  /** Unmaps the memory and releases the descriptor, so close() always succeeds; calling it
   * again does nothing. A view handed out earlier keeps its length but reads zeros from then
   * on (writes to it go nowhere); its addresses are released when it is garbage-collected. */
  close(): void {
    Mmap.#brand(this, 'close', Mmap.prototype.close);
    const handle = this.#handle;
    if (handle === null) return;
    this.#cancelWaits(handle);
    this.#dropBuffers();
    this.#handle = null;
    this.#state = CLOSED;
    this.#hasFd = false;
    native.unmap(handle);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    Mmap.#brand(this, 'closed');
    return this.#state === CLOSED;
  }

  /** `using mm = new Mmap(...)` closes the map at the end of the block (Python's `with`). */
  [Symbol.dispose](): void {
    Mmap.prototype.close.call(this);
  }

  /** The map's length in bytes (Python's `len(m)`). */
  get length(): number {
    if (!(#state in Object(this)) || this.#state !== OPEN) Mmap.#check(this, Object.getOwnPropertyDescriptor(Mmap.prototype, 'length')!.get!);
    return this.#length;
  }

  /**
   * A descriptor of the map's file (or of the memory file behind shared anonymous memory), to
   * share it with another process or thread; -1 when the map keeps no descriptor or is closed.
   *
   * It is memmap's: the map closes it in `close()`. Closing it yourself (or handing it to a
   * stream that does) is harmless: memmap does its own work on a descriptor it never hands
   * out, never closes a number that no longer refers to its file, and makes a new duplicate
   * the next time `fd` is read.
   */
  get fd(): number {
    Mmap.#brand(this, 'fd');
    if (this.#state === CLOSED || !this.#hasFd) return -1;
    try {
      return native.exposedFd(this.#handle!);
    } catch (error) {
      throw systemError(error, Object.getOwnPropertyDescriptor(Mmap.prototype, 'fd')!.get!);
    }
  }

  /** The access mode after CPython's inference (`ACCESS_DEFAULT`, `ACCESS_READ`, ...). */
  get access(): number {
    Mmap.#brand(this, 'access');
    return this.#access;
  }

  /** The file offset the map starts at. */
  get offset(): number {
    Mmap.#brand(this, 'offset');
    return this.#offset;
  }

  /** True once a page of this map vanished under it (the file was truncated) and was replaced
   * by zeros; every later call but close() then throws `ERR_MMAP_TRUNCATED`. */
  get faulted(): boolean {
    Mmap.#brand(this, 'faulted');
    if (this.#state === OPEN && faultCounter[0] !== this.#faultMark) {
      this.#faultMark = faultCounter[0]!;
      if (native.faults(this.#handle!) > 0) this.#state = FAULTED;
    }
    return this.#state === FAULTED;
  }

  /** Returns the byte at index `i` (negative counts from the end): Python's `m[i]`. */
  get(index: number): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.get);
    const length = this.#length;
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw typeError('ERR_INVALID_ARG_TYPE', 'mmap indices must be integers', this.get);
    }
    const i = index < 0 ? index + length : index;
    if (i < 0 || i >= length) throw rangeError('ERR_OUT_OF_RANGE', 'mmap index out of range', this.get);
    const value = this.#windowed ? this.#byteAt(i) : (this.#buf ?? this.#whole())[i]!;
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.get);
    return value;
  }

  /** Sets the byte at index `i` to `value` (0..255): Python's `m[i] = value`. */
  set(index: number, value: number): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.set);
    if (this.#readonly) throw readonlyError(this.set);
    const length = this.#length;
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw typeError('ERR_INVALID_ARG_TYPE', 'mmap indices must be integer', this.set);
    }
    const i = index < 0 ? index + length : index;
    if (i < 0 || i >= length) throw rangeError('ERR_OUT_OF_RANGE', 'mmap index out of range', this.set);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw typeError('ERR_INVALID_ARG_TYPE', 'mmap item value must be an int', this.set);
    }
    if (value < 0 || value > 255) {
      throw rangeError('ERR_OUT_OF_RANGE', 'mmap item value must be in range(0, 256)', this.set);
    }
    if (this.#windowed) this.#setByteAt(i, value);
    else (this.#buf ?? this.#whole())[i] = value;
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.set);
  }

  /** A copy of `m[start:stop:step]` as a Buffer, with Python's slice rules (negative indices,
   * clamping, negative steps). `undefined`/`null` mean "omitted". */
  slice(start?: number | null, stop?: number | null, step?: number | null): Buffer {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.slice);
    if (step === undefined && typeof start === 'number' && typeof stop === 'number' &&
        Number.isInteger(start) && Number.isInteger(stop) && start >= 0 && start <= stop && stop <= this.#length) {
      // The common case, m[a:b] with in-range bounds, needs none of Python's slice arithmetic.
      const out = this.#copyOut(start, stop - start, Mmap.prototype.slice);
      if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.slice);
      return out;
    }
    const [first, delta, count] = sliceIndices(this.#length, start, stop, step, this.slice);
    let out: Buffer;
    if (delta === 1) {
      out = this.#copyOut(first, count, Mmap.prototype.slice);
    } else {
      out = Buffer.allocUnsafe(count);
      if (!this.#windowed) {
        const b = this.#buf ?? this.#whole();
        for (let i = 0, at = first; i < count; i++, at += delta) out[i] = b[at]!;
      } else {
        for (let i = 0, at = first; i < count; i++, at += delta) out[i] = this.#byteAt(at);
      }
    }
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.slice);
    return out;
  }

  /** Python's `m[start:stop:step] = data`: `data` must have exactly as many bytes as the
   * slice. Overlapping data (a view of this map) is handled as by memmove. */
  setSlice(start: number | null | undefined, stop: number | null | undefined, data: Data, step?: number | null): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.setSlice);
    if (this.#readonly) throw readonlyError(this.setSlice);
    const [first, delta, count] = sliceIndices(this.#length, start, stop, step, this.setSlice);
    const src = toBytes(data, 'data', this.setSlice);
    if (lengthOf(src) !== count) {
      throw rangeError('ERR_OUT_OF_RANGE', 'mmap slice assignment is wrong size', this.setSlice);
    }
    if (delta === 1) {
      this.#copyIn(first, src);
    } else if (count > 0) {
      // The source may be a view of this map: copy it all before writing.
      const copy = copyBytes(src);
      for (let i = 0, at = first; i < count; i++, at += delta) this.#setByteAt(at, copy[i]!);
    }
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.setSlice);
  }

  /**
   * A zero-copy Buffer over `[offset, offset + length)` of the map (Python's buffer protocol,
   * `memoryview(m)`). Writes to it are writes to the map.
   *
   * The view never reaches memory that is not this map's: after `close()` or `resize()` it
   * keeps its length but reads zeros, and writes to it go nowhere; the addresses are released
   * when the view is garbage-collected. That holds for native code that took the pointer too
   * (a pending `fs.read`, zlib, a hash). On an `ACCESS_READ` map, writes through a view change
   * only this process's private copy of the page and never reach the file.
   */
  view(offset?: number, length?: number): Buffer;
  /** A typed view: `count` elements of `type` from `byteOffset` (see "typed views" below). */
  view<T extends TypedArrayConstructor>(type: T, byteOffset?: number, count?: number): InstanceType<T>;
  view(type: DataViewConstructor, byteOffset?: number, byteLength?: number): DataView;
  view(offset?: number | TypedArrayConstructor | DataViewConstructor, length?: number, count?: number): Buffer | ArrayBufferView {
    if (typeof offset === 'function') {
      Mmap.#brand(this, 'view', Mmap.prototype.view);
      return this.#typedView(offset, length, count);
    }
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.view);
    const size = this.#length;
    const o = optionalInteger(offset, 'offset', 0, this.view, 0, size);
    const n = optionalInteger(length, 'length', size - o, this.view, 0, size - o);
    if (n === 0) return Buffer.alloc(0);
    if (!this.#windowed) return this.#viewWindow(0).subarray(o, o + n);
    const k = Math.floor(o / this.#stride);
    if (o + n <= Math.min(k * this.#stride + 2 * this.#stride, size) && n <= this.#stride) {
      return this.#viewWindow(k).subarray(o - k * this.#stride, o - k * this.#stride + n);
    }
    if (n > SAFE_LIMIT) {
      throw rangeError('ERR_OUT_OF_RANGE',
        `A view is at most ${SAFE_LIMIT} bytes; ask for a smaller range`, this.view);
    }
    return this.#publicBuffer(o, n);
  }

  /** Iterates over the bytes as numbers, reading the live contents at each step. */
  [Symbol.iterator](): IterableIterator<number> {
    // The receiver is checked now, not at the first step: a generator would read this.length
    // from whatever `this` is (a revoked Proxy throws a TypeError with no code).
    Mmap.#brand(this, 'Symbol.iterator', Mmap.prototype[Symbol.iterator]);
    return this.#bytes();
  }

  *#bytes(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /**
   * Reads up to `n` bytes from the position and advances it. `n` omitted, null or negative
   * reads to the end; at or past the end it returns an empty Buffer.
   */
  read(n?: number | null): Buffer {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.read);
    const want = optionalInteger(n, 'n', -1, this.read);
    const pos = this.#pos;
    const remaining = pos < this.#length ? this.#length - pos : 0;
    const count = want < 0 || want > remaining ? remaining : want;
    const out = this.#copyOut(pos, count, Mmap.prototype.read);
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.read);
    this.#pos = pos + count;
    return out;
  }

  /** Returns the byte at the position and advances it by one. */
  readByte(): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readByte);
    const pos = this.#pos;
    if (pos >= this.#length) throw rangeError('ERR_OUT_OF_RANGE', 'read byte out of range', this.readByte);
    const value = this.#windowed ? this.#byteAt(pos) : (this.#buf ?? this.#whole())[pos]!;
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readByte);
    this.#pos = pos + 1;
    return value;
  }

  /** Reads from the position up to and including the next `\n` (or to the end). */
  readLine(): Buffer {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readLine);
    const pos = this.#pos;
    const length = this.#length;
    if (pos >= length) return Buffer.alloc(0);
    let end: number;
    if (!this.#windowed) {
      const b = this.#buf ?? this.#whole();
      const at = b.indexOf(NEWLINE, pos);
      end = at < 0 ? length : at + 1;
      const out = copyOf(b.buffer, pos, end - pos);
      if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readLine);
      this.#pos = end;
      return out;
    }
    const at = this.#indexOf(Buffer.of(NEWLINE), pos, length);
    end = at < 0 ? length : at + 1;
    const out = this.#copyOut(pos, end - pos, Mmap.prototype.readLine);
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readLine);
    this.#pos = end;
    return out;
  }

  /**
   * Copies bytes of the map into `target` (any TypedArray, DataView or Buffer), allocating
   * nothing for them: up to `length` bytes (default: the rest of `target` from `offset`) from
   * `position`, or from the map's position when `position` is omitted or null (which then
   * advances, as `read()` does). Returns how many bytes were copied: fewer at the end of the
   * map, 0 past it. The shape of `fs.readSync(fd, buffer, offset, length, position)`.
   */
  readInto(target: ArrayBufferView, offset?: number | null, length?: number | null, position?: number | null): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readInto);
    const out = targetBytes(target, 'target', this.readInto);
    const room = lengthOf(out);
    const o = optionalInteger(offset, 'offset', 0, this.readInto, 0, room);
    const n = optionalInteger(length, 'length', room - o, this.readInto, 0, room - o);
    const fromCursor = position === undefined || position === null;
    const at = fromCursor ? this.#pos : validateInteger(position, 'position', this.readInto, 0, Number.MAX_SAFE_INTEGER);
    const size = this.#length;
    const count = at >= size ? 0 : Math.min(n, size - at);
    if (count > 0) {
      if (!this.#windowed) {
        const b = this.#buf ?? this.#whole();
        if (count <= 16) {
          for (let i = 0; i < count; i++) out[o + i] = b[at + i]!;
        } else {
          setBytes(out, b.subarray(at, at + count), o); // one memmove, safe if target is a view of this map
        }
      } else {
        setBytes(out, this.#copyOut(at, count, Mmap.prototype.readInto), o);
      }
      if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.readInto);
    }
    if (fromCursor) this.#pos = at + count;
    return count;
  }

  /**
   * Iterates the lines of `[start, end)` (slice rules; the whole map by default) as Buffers that
   * are views into the map: nothing is copied. Each line comes without its `\n`; a last line
   * without one comes too. The position does not move. The lines follow `view()`'s rules: they
   * read zeros after `close()` or `resize()`, and the next step of the iteration throws
   * `ERR_MMAP_CLOSED` once the map is closed.
   *
   * ```ts
   * for (const line of mm.lines()) if (line.includes('ERROR')) console.log(line.toString());
   * ```
   */
  lines(start?: number | null, end?: number | null): IterableIterator<Buffer> {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.lines);
    const [s, e] = searchBounds(this.#length, 0, start, end, this.lines);
    return this.#linesFrom(s, e);
  }

  *#linesFrom(at: number, end: number): IterableIterator<Buffer> {
    const next = Mmap.prototype.lines;
    while (true) {
      if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, next);
      const e = Math.min(end, this.#length); // a resize() between steps ends the range there
      if (at >= e) return;
      let nl: number;
      let line: Buffer;
      if (!this.#windowed) {
        const b = this.#buf ?? this.#whole();
        if (e === this.#length) {
          nl = b.indexOf(NEWLINE, at);
        } else {
          const i = b.subarray(at, e).indexOf(NEWLINE); // bounded: never scans past the range
          nl = i < 0 ? -1 : at + i;
        }
        const stop = nl < 0 ? e : nl;
        line = this.#viewWindow(0).subarray(at, stop);
        at = stop === e ? e : stop + 1;
      } else {
        nl = this.#indexOf(NEWLINE_BYTES, at, e);
        const stop = nl < 0 ? e : nl;
        line = stop === at ? Buffer.alloc(0) : this.view(at, stop - at);
        at = stop === e ? e : stop + 1;
      }
      if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, next);
      yield line;
    }
  }

  /** Writes `data` at the position and advances it; returns the number of bytes written.
   * All or nothing: data that does not fit throws and changes nothing. */
  write(data: Data): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.write);
    const src = toBytes(data, 'data', this.write);
    const n = lengthOf(src);
    if (this.#readonly) throw readonlyError(this.write);
    const pos = this.#pos;
    if (pos > this.#length || this.#length - pos < n) {
      throw rangeError('ERR_OUT_OF_RANGE', 'data out of range', this.write);
    }
    this.#copyIn(pos, src);
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.write);
    this.#pos = pos + n;
    return n;
  }

  /** Writes one byte (0..255) at the position and advances it. */
  writeByte(byte: number): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.writeByte);
    if (typeof byte !== 'number' || !Number.isInteger(byte)) {
      throw argTypeError('byte', 'an integer from 0 to 255', byte, this.writeByte);
    }
    if (byte > 255) throw rangeError('ERR_OUT_OF_RANGE', 'unsigned byte integer is greater than maximum', this.writeByte);
    if (byte < 0) throw rangeError('ERR_OUT_OF_RANGE', 'unsigned byte integer is less than minimum', this.writeByte);
    if (this.#readonly) throw readonlyError(this.writeByte);
    const pos = this.#pos;
    if (pos >= this.#length) throw rangeError('ERR_OUT_OF_RANGE', 'write byte out of range', this.writeByte);
    if (this.#windowed) this.#setByteAt(pos, byte);
    else (this.#buf ?? this.#whole())[pos] = byte;
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.writeByte);
    this.#pos = pos + 1;
  }

  /** Sets the position (whence 0: from the start, 1: from the position, 2: from the end) and
   * returns the new position. */
  seek(pos: number, whence: number = 0): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.seek);
    const distance = validateInteger(pos, 'pos', this.seek);
    const how = validateInt32(whence, 'whence', this.seek);
    let target: number;
    switch (how) {
      case 0: target = distance; break;
      case 1: target = this.#pos + distance; break;
      case 2: target = this.#length + distance; break;
      default: throw rangeError('ERR_INVALID_ARG_VALUE', 'unknown seek type', this.seek);
    }
    if (target < 0 || target > this.#length) throw rangeError('ERR_OUT_OF_RANGE', 'seek out of range', this.seek);
    this.#pos = target;
    return target;
  }

  /** The position. It can exceed `length` after a shrinking `resize()`, as in CPython. */
  tell(): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.tell);
    return this.#pos;
  }

  /** Always true, even when closed (as in CPython). */
  seekable(): true {
    return true;
  }

  /**
   * The lowest index where `sub` is found within `[start, end)` (slice rules; `start` defaults
   * to the position, not 0), or -1. The position does not move.
   */
  find(sub: Data, start?: number | null, end?: number | null): number {
    Mmap.#brand(this, 'find', Mmap.prototype.find);
    return this.#search(sub, start, end, false, this.find);
  }

  /** The highest index where `sub` is found within `[start, end)`, or -1. */
  rfind(sub: Data, start?: number | null, end?: number | null): number {
    Mmap.#brand(this, 'rfind', Mmap.prototype.rfind);
    return this.#search(sub, start, end, true, this.rfind);
  }

  #search(sub: unknown, start: unknown, end: unknown, last: boolean, from: Function): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    let needle = toBytes(sub, 'sub', from);
    if (needle === sub) needle = ownView(needle); // a caller's instance: read it through a view of our own
    const length = this.#length;
    const [s, e] = searchBounds(length, this.#pos, start, end, from);
    if (s > length || e - s < needle.length) return -1;
    // An empty needle matches where the search starts: at start going forward, end going back.
    if (needle.length === 0) return last ? e : s;
    const at = last ? this.#lastIndexOf(needle, s, e) : this.#indexOf(needle, s, e);
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    return at;
  }

  /** Copies `count` bytes from `src` to `dest` within the map (overlap-safe, like memmove). */
  move(dest: number, src: number, count: number): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.move);
    const d = validateInteger(dest, 'dest', this.move);
    const s = validateInteger(src, 'src', this.move);
    const n = validateInteger(count, 'count', this.move);
    if (this.#readonly) throw readonlyError(this.move);
    const length = this.#length;
    if (d < 0 || s < 0 || n < 0 || length - d < n || length - s < n) {
      throw rangeError('ERR_OUT_OF_RANGE', 'source, destination, or count out of range', this.move);
    }
    if (n === 0 || d === s) return;
    if (!this.#windowed) {
      (this.#buf ?? this.#whole()).copyWithin(d, s, s + n);
    } else {
      this.#moveWindowed(d, s, n);
    }
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.move);
  }

  /** move() on a windowed map: pieces small enough that source and destination share a
   * window when they overlap, copied in the order that never overwrites unread bytes. */
  #moveWindowed(d: number, s: number, n: number): void {
    const stride = this.#stride;
    const piece = Math.floor(stride / 2);
    const forward = d < s;
    for (let done = 0; done < n;) {
      const m = Math.min(piece, n - done);
      const so = forward ? s + done : s + n - done - m;
      const dO = forward ? d + done : d + n - done - m;
      const lo = Math.min(so, dO);
      const k = Math.floor(lo / stride);
      const base = k * stride;
      if (Math.max(so, dO) + m <= Math.min(base + 2 * stride, this.#length)) {
        this.#window(k).copyWithin(dO - base, so - base, so - base + m);
      } else {
        this.#copyIn(dO, this.#copyOut(so, m, Mmap.prototype.move)); // far apart: no overlap, copy through a buffer
      }
      done += m;
    }
  }

  /**
   * Writes changes back to the file (msync). `offset` defaults to 0 and `size` to the rest of
   * the map (CPython 3.15); `flags` is `MS_SYNC` (default), `MS_ASYNC` or `MS_INVALIDATE`.
   * The offset is rounded down to a page boundary, as msync requires. Does nothing for
   * `ACCESS_READ` and `ACCESS_COPY` maps.
   */
  flush(offset?: number, size?: number, flags?: number): void {
    Mmap.#brand(this, 'flush', Mmap.prototype.flush);
    const range = this.#flushRange(offset, size, flags, this.flush);
    if (range === null) return;
    try {
      native.sync(this.#handle!, range[0], range[1], range[2]);
    } catch (error) {
      throw systemError(error, this.flush);
    }
  }

  /**
   * flush() on the thread pool: the event loop keeps running while the pages are written.
   * The mapping stays alive until the promise settles, even if `close()` is called meanwhile.
   */
  flushAsync(offset?: number, size?: number, flags?: number): Promise<void> {
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#foreign('flushAsync', Mmap.prototype.flushAsync));
    let range: [number, number, number] | null;
    let pending: Promise<void>;
    try {
      range = this.#flushRange(offset, size, flags, this.flushAsync);
      if (range === null) return Promise.resolve();
      pending = native.syncAsync(this.#handle!, range[0], range[1], range[2]);
    } catch (error) {
      return Promise.reject(systemError(error, this.flushAsync));
    }
    this.#pendingFlushes++;
    return pending.then(
      () => { this.#pendingFlushes--; },
      (error: unknown) => { this.#pendingFlushes--; throw systemError(error, this.flushAsync); });
  }

  #flushRange(offset: unknown, size: unknown, flags: unknown, from: Function): [number, number, number] | null {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    const o = optionalInteger(offset, 'offset', 0, from);
    let n = optionalInteger(size, 'size', -1, from);
    // Where the platform has no msync flags (Windows: FlushViewOfFile takes none), flags are
    // refused, as CPython's flush() there has no such argument.
    if (flags !== undefined && MS_SYNC === undefined) {
      throw typeError('ERR_INVALID_ARG_VALUE', 'flush() takes no "flags" on this platform', from);
    }
    const f = flags === undefined ? (MS_SYNC ?? 0) : validateInt32(flags, 'flags', from);
    const length = this.#length;
    if (n === -1) n = length - o;
    if (n < 0 || o < 0 || length - o < n) throw rangeError('ERR_OUT_OF_RANGE', 'flush values out of range', from);
    if (this.#access === ACCESS_READ || this.#access === ACCESS_COPY || n === 0) return null;
    const aligned = o - (o % PAGESIZE);
    return [aligned, n + (o - aligned), f];
  }

  /** Gives the kernel advice (`MADV_*`) about `[start, start + length)`; the range is clamped
   * to the map, and `start` must be page-aligned. Only advice that cannot make the map's
   * pages fault is passed on (see docs/api.md); any other is a RangeError. */
  madvise(option: number, start?: number | null, length?: number | null): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.madvise);
    const advice = validateInt32(option, 'option', this.madvise);
    const size = this.#length;
    const s = optionalInteger(start, 'start', 0, this.madvise);
    if (s < 0 || s >= size) throw rangeError('ERR_OUT_OF_RANGE', 'madvise start out of bounds', this.madvise);
    let n = optionalInteger(length, 'length', size - s, this.madvise);
    if (n < 0) throw rangeError('ERR_OUT_OF_RANGE', 'madvise length invalid', this.madvise);
    if (s + n > Number.MAX_SAFE_INTEGER) throw rangeError('ERR_OUT_OF_RANGE', 'madvise length too large', this.madvise);
    if (n > size - s) n = size - s;
    // Which advice is passed on (only what cannot make the map's pages fault) is the
    // platform's list: native/platform.h, mm_advice_allowed.
    try {
      native.advise(this.#handle!, s, n, advice);
    } catch (error) {
      throw nativeError(error, this.madvise);
    }
  }

  /**
   * Changes the map's length to `newSize` bytes and, for a file, the file's size to
   * `offset + newSize`. Views are detached first. Unlike CPython, a failure leaves the file and
   * the map exactly as they were, and shared anonymous memory can grow.
   */
  resize(newSize: number): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.resize);
    if (this.#pendingFlushes > 0) {
      throw stateError('ERR_MMAP_BUSY', "mmap can't resize while a flushAsync() is in flight", this.resize);
    }
    if (this.#waits.size > 0) {
      throw stateError('ERR_MMAP_BUSY', "mmap can't resize while a waitAsync() is pending", this.resize);
    }
    if (!this.#trackfd) throw stateError('ERR_MMAP_TRACKFD', "mmap can't resize with trackfd=False.", this.resize);
    if (this.#access === ACCESS_READ || this.#access === ACCESS_COPY) {
      throw typeError('ERR_MMAP_NOT_RESIZABLE', "mmap can't resize a readonly or copy-on-write memory map.", this.resize);
    }
    const size = validateInteger(newSize, 'newSize', this.resize);
    if (size <= 0 || this.#offset + size > Number.MAX_SAFE_INTEGER) {
      throw rangeError('ERR_OUT_OF_RANGE', 'new size out of range', this.resize);
    }
    // The file ends at offset + newSize afterwards (CPython's rule); the platform orders the
    // change of the file and of the map so that a failure loses nothing (native/platform.h,
    // mm_resize).
    this.#dropBuffers();
    try {
      native.resize(this.#handle!, size);
    } catch (error) {
      throw systemError(error, this.resize);
    }
    this.#length = size;
    this.#resetViews();
  }

  /** The size of the file (not of the map); for anonymous memory, the map's length. */
  size(): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.size);
    if (!this.#trackfd) throw stateError('ERR_MMAP_TRACKFD', "can't get size with trackfd=False", this.size);
    if (this.#anonymous) return this.#length;
    try {
      return native.fileSize(this.#handle!);
    } catch (error) {
      throw systemError(error, this.size);
    }
  }

  /** Names private anonymous memory in /proc/self/maps (as `[anon:memmap:NAME]`); Linux 5.17+
   * built with CONFIG_ANON_VMA_NAME (EINVAL elsewhere). Shared anonymous memory lives in a
   * memory file, which the kernel cannot rename: `ERR_MMAP_NOT_ANONYMOUS`. */
  setName(name: string): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.setName);
    if (typeof name !== 'string') throw argTypeError('name', 'of type string', name, this.setName);
    if (name.includes('\0')) throw rangeError('ERR_INVALID_ARG_VALUE', 'embedded null character', this.setName);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw rangeError('ERR_INVALID_ARG_VALUE', 'name is too long', this.setName);
    if (!this.#anonymous) {
      throw stateError('ERR_MMAP_NOT_ANONYMOUS', 'Cannot set annotation on non-anonymous mappings', this.setName);
    }
    if (this.#memoryFile) {
      // The kernel names only memory that has no file; shared anonymous memory lives in a
      // memory file (so it can be shared by descriptor), which shows as /memfd:memmap.
      throw stateError('ERR_MMAP_NOT_ANONYMOUS',
        'Cannot set annotation on shared anonymous memory: it is backed by a memory file; ' +
        'name a MAP_PRIVATE anonymous map instead', this.setName);
    }
    try {
      native.setName(this.#handle!, NAME_PREFIX + name);
    } catch (error) {
      throw systemError(error, this.setName);
    }
  }

  // ------------------------------------------------------------------------------------------
  // beyond CPython

  /** Locks `[offset, offset + length)` in memory (mlock), so it is never paged out. */
  lock(offset?: number, length?: number): void {
    Mmap.#brand(this, 'lock', Mmap.prototype.lock);
    this.#lockRange(offset, length, true, this.lock);
  }

  /** Undoes lock() (munlock). */
  unlock(offset?: number, length?: number): void {
    Mmap.#brand(this, 'unlock', Mmap.prototype.unlock);
    this.#lockRange(offset, length, false, this.unlock);
  }

  #lockRange(offset: unknown, length: unknown, lock: boolean, from: Function): void {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    const size = this.#length;
    const o = optionalInteger(offset, 'offset', 0, from, 0, size);
    const n = optionalInteger(length, 'length', size - o, from, 0, size - o);
    try {
      native.lock(this.#handle!, o, n, lock);
    } catch (error) {
      throw systemError(error, from);
    }
  }

  /**
   * Which pages of `[offset, offset + length)` are in memory now (mincore): one entry per
   * page, from the page holding `offset`, 1 when resident.
   */
  residency(offset?: number, length?: number): Uint8Array {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.residency);
    const size = this.#length;
    const o = optionalInteger(offset, 'offset', 0, this.residency, 0, size);
    const n = optionalInteger(length, 'length', size - o, this.residency, 0, size - o);
    const first = o - (o % PAGESIZE);
    const span = n + (o - first);
    const out = new Uint8Array(Math.ceil(span / PAGESIZE));
    if (span === 0) return out;
    try {
      native.residency(this.#handle!, first, span, out);
    } catch (error) {
      throw systemError(error, this.residency);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // beyond CPython (issue 13): regex search, typed views, waiting, prefetch

  /**
   * The first match of `regexp` in the bytes `[start, end)` (slice rules as in find(), but
   * `start` defaults to 0, not the position), or null. Bytes are read as latin1: offsets and
   * lengths are in bytes. See src/search.ts and docs/api.md.
   */
  search(regexp: RegExp, start?: number | null, end?: number | null, options?: SearchOptions): MapMatch | null {
    Mmap.#brand(this, 'search', Mmap.prototype.search);
    if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, this.search);
    const plan = prepareSearch(regexp, options, this.search);
    const [s, e] = searchBounds(this.#length, 0, start, end, this.search);
    return firstMatch(this.#searchSource(this.search), plan, s, e, this.search);
  }

  /** Every match of `regexp` in `[start, end)`, in order, as String.prototype.matchAll finds
   * them (a sticky `y` regexp stops at the first gap). The map is read as the iteration goes. */
  matchAll(regexp: RegExp, start?: number | null, end?: number | null, options?: SearchOptions): Generator<MapMatch, void, undefined> {
    Mmap.#brand(this, 'matchAll', Mmap.prototype.matchAll);
    if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, this.matchAll);
    const plan = prepareSearch(regexp, options, this.matchAll);
    const [s, e] = searchBounds(this.#length, 0, start, end, this.matchAll);
    return scanMatches(this.#searchSource(this.matchAll), plan, s, e, this.matchAll);
  }

  /**
   * view(Type, byteOffset, count): a TypedArray (or DataView) over the map, cut from the same
   * public buffers as byte views, so it follows their lifetime rules (zeros after close() or
   * resize(), addresses reserved until it is collected). Never a copy: a misaligned offset is
   * refused.
   */
  #typedView(type: Function, byteOffset: unknown, count: unknown): ArrayBufferView {
    const from = Mmap.prototype.view;
    if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    const isDataView = type === DataView;
    const size = isDataView ? 1 : TYPED_ARRAYS.get(type);
    if (size === undefined) {
      throw argTypeError('type', 'a TypedArray constructor or DataView', type, from);
    }
    const length = this.#length;
    const o = optionalInteger(byteOffset, 'byteOffset', 0, from, 0, length);
    if (o % size !== 0) {
      throw rangeError('ERR_MMAP_UNALIGNED',
        `The byteOffset ${o} is not a multiple of ${type.name}.BYTES_PER_ELEMENT (${size}); ` +
        'a typed view is never a copy, so it must be aligned', from);
    }
    const most = Math.floor((length - o) / size);
    const n = optionalInteger(count, isDataView ? 'byteLength' : 'count', most, from, 0, most);
    const bytes = this.view(o, n * size);
    const Type = type as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;
    return new Type(bytes.buffer, bytes.byteOffset, n);
  }

  /**
   * Sleeps while the 32-bit word at `byteOffset` holds `expected`, like `Atomics.wait`, but
   * across processes: `'ok'` when woken by notify() (from this or another process mapping the
   * same file or memory file), `'not-equal'` when the word did not hold `expected`,
   * `'timed-out'` after `timeoutMs` (default: no limit). Blocks the calling thread.
   */
  wait(byteOffset: number, expected: number, timeoutMs?: number): 'ok' | 'not-equal' | 'timed-out' {
    Mmap.#brand(this, 'wait', Mmap.prototype.wait);
    const [o, value, ms] = this.#waitArgs(byteOffset, expected, timeoutMs, this.wait);
    let result: number;
    try {
      result = native.wait(this.#handle!, o, value, ms);
    } catch (error) {
      throw systemError(error, this.wait);
    }
    if (faultCounter[0] !== this.#faultMark) Mmap.#check(this, this.wait);
    return WAIT_RESULTS[result]!;
  }

  /**
   * wait() off the event loop, on a thread of its own (not the thread pool, which a long wait
   * would starve): a Promise of `'ok' | 'not-equal' | 'timed-out'`. close() wakes it and its
   * promise rejects with `ERR_MMAP_CLOSED`; resize() is refused while one is pending.
   */
  waitAsync(byteOffset: number, expected: number, timeoutMs?: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#foreign('waitAsync', Mmap.prototype.waitAsync));
    let pending: Promise<number>;
    const cancel = new Int32Array(1);
    try {
      const [o, value, ms] = this.#waitArgs(byteOffset, expected, timeoutMs, this.waitAsync);
      pending = native.waitAsync(this.#handle!, o, value, ms, cancel);
      this.#waits.set(cancel, o);
    } catch (error) {
      return Promise.reject(systemError(error, this.waitAsync));
    }
    return pending.then((result) => {
      this.#waits.delete(cancel);
      if (result === 3) throw closedError(this.waitAsync);
      return WAIT_RESULTS[result]!;
    }, (error: unknown) => {
      this.#waits.delete(cancel);
      throw systemError(error, this.waitAsync);
    });
  }

  /** Wakes at most `count` (default: all) waiters on the word at `byteOffset`, in every process;
   * returns how many were woken. */
  notify(byteOffset: number, count?: number): number {
    if (!(#state in Object(this)) || this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, Mmap.prototype.notify);
    const o = this.#wordOffset(byteOffset, this.notify);
    let n = 0x7fffffff;
    if (count !== undefined && count !== Infinity) n = Math.min(n, optionalInteger(count, 'count', n, this.notify, 0));
    try {
      return native.notify(this.#handle!, o, n);
    } catch (error) {
      throw systemError(error, this.notify);
    }
  }

  #wordOffset(byteOffset: unknown, from: Function): number {
    const o = validateInteger(byteOffset, 'byteOffset', from);
    if (o < 0 || o > this.#length - 4) {
      throw rangeError('ERR_OUT_OF_RANGE', `The word at byteOffset ${o} is not inside the map (length ${this.#length})`, from);
    }
    if (o % 4 !== 0) throw rangeError('ERR_MMAP_UNALIGNED', `The byteOffset ${o} of a 32-bit word must be a multiple of 4`, from);
    if (this.#private) {
      // The kernel keys a private page's word by this process's address: no other mapping of
      // the file (in this process or another) could ever wake it, nor be woken.
      throw stateError('ERR_MMAP_WAIT_UNSUPPORTED',
        'wait()/notify() need a shared map (ACCESS_WRITE, ACCESS_DEFAULT or MAP_SHARED); ' +
        'ACCESS_READ, ACCESS_COPY and MAP_PRIVATE maps are private to this process', from);
    }
    return o;
  }

  #waitArgs(byteOffset: unknown, expected: unknown, timeoutMs: unknown, from: Function): [number, number, number] {
    if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    const o = this.#wordOffset(byteOffset, from);
    const value = validateInteger(expected, 'expected', from);
    if (value < -0x80000000 || value > 0xffffffff) {
      throw rangeError('ERR_OUT_OF_RANGE',
        `The value of "expected" is out of range. It must be a 32-bit integer (signed or unsigned). Received ${value}`, from);
    }
    let ms = -1;
    if (timeoutMs !== undefined && timeoutMs !== Infinity) {
      if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw argTypeError('timeoutMs', 'a number', timeoutMs, from);
      ms = Math.max(0, timeoutMs);
    }
    return [o, value >>> 0, ms];
  }

  /** close(): wakes this map's pending waitAsync() calls, which then reject as closed. */
  #cancelWaits(handle: Handle): void {
    for (const [cancel, offset] of this.#waits) {
      Atomics.store(cancel, 0, 1);
      try {
        native.notify(handle, offset, 0x7fffffff);
      } catch {
        // the waiter sees its flag within a slice of its wait anyway
      }
    }
  }

  /**
   * Makes `[offset, offset + length)` resident (in the page cache and this map's page tables)
   * on the thread pool: MADV_POPULATE_READ where the kernel has it (Linux 5.14), else a read of
   * every page. The promise resolves when it is done.
   */
  prefetch(offset?: number, length?: number): Promise<void> {
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#foreign('prefetch', Mmap.prototype.prefetch));
    let pending: Promise<void>;
    try {
      if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, this.prefetch);
      const size = this.#length;
      const o = optionalInteger(offset, 'offset', 0, this.prefetch, 0, size);
      const n = optionalInteger(length, 'length', size - o, this.prefetch, 0, size - o);
      if (n === 0) return Promise.resolve();
      const first = o - (o % PAGESIZE);
      pending = native.prefetchAsync(this.#handle!, first, n + (o - first));
    } catch (error) {
      return Promise.reject(systemError(error, this.prefetch));
    }
    return pending.then(() => {
      if (this.#state === OPEN && faultCounter[0] !== this.#faultMark) Mmap.#check(this, this.prefetch);
    }, (error: unknown) => { throw systemError(error, this.prefetch); });
  }

  /** The map's bytes as latin1 strings, decoded from the internal windows (never from views). */
  #searchSource(from: Function): SearchSource {
    const check = () => {
      if (this.#state !== OPEN || faultCounter[0] !== this.#faultMark) Mmap.#check(this, from);
    };
    return {
      length: this.#length,
      check,
      latin1: (start: number, end: number): string => {
        check();
        // A resize() since the iteration began may have cut the map: stop at its end.
        const to = Math.min(end, this.#length);
        let text = '';
        if (to > start) {
          this.#pieces(start, to - start, (b, at, _mapOffset, n) => { text += b.toString('latin1', at, at + n); });
        }
        check();
        return text;
      },
    };
  }

  // ------------------------------------------------------------------------------------------
  // presentation

  /** CPython's repr: `<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=10, pos=0, offset=0>`. */
  toString(): string {
    Mmap.#brand(this, 'toString', Mmap.prototype.toString);
    if (this.#state === CLOSED) return '<mmap.mmap closed=True>';
    return `<mmap.mmap closed=False, access=${ACCESS_NAMES[this.#access]}, length=${this.#length}, ` +
      `pos=${this.#pos}, offset=${this.#offset}>`;
  }

  get [Symbol.toStringTag](): string {
    return 'Mmap';
  }

  [inspect.custom](_depth: number, options: { stylize(text: string, style: string): string }): string {
    Mmap.#brand(this, 'inspect', Mmap.prototype[inspect.custom]);
    // util.inspect passes its stylize as an own property; anything else (no options, a Proxy,
    // a getter) gets plain text, without running or tripping over the caller's code.
    const own: unknown = typeof options === 'object' && options !== null && !types.isProxy(options)
      ? Object.getOwnPropertyDescriptor(options, 'stylize')?.value : undefined;
    const style = typeof own === 'function' ? (own as (text: string, style: string) => string).bind(options) : (text: string) => text;
    if (this.#state === CLOSED) return `Mmap { closed: ${style('true', 'boolean')} }`;
    const n = (v: number) => style(String(v), 'number');
    return `Mmap { access: ${style(`'${ACCESS_NAMES[this.#access]}'`, 'string')}, length: ${n(this.#length)}, ` +
      `pos: ${n(this.#pos)}, offset: ${n(this.#offset)}, fd: ${n(this.fd)}` + // never the private descriptor
      (this.#state === FAULTED ? `, faulted: ${style('true', 'boolean')}` : '') + ' }';
  }
}
