/**
 * The `Mmap` class: Python's `mmap.mmap` for JavaScript.
 *
 * This file is the public API: argument checks, the position, the map's state (open, closed,
 * faulted), system calls through the addon, and presentation. The bytes are the region's
 * (src/region.ts): byte access, copies, `move`, search and views run on its cached Buffers, so a
 * hot call never crosses into native code; the addon is called for system calls only (map,
 * unmap, remap, msync, madvise, ...).
 *
 * Every method that uses the map starts with `Mmap.#enter(this, name)` (is `this` an open Mmap
 * that no fault has hit?) and, once it has touched the map's memory, ends with
 * `this.#checkFaults(name)` (did a truncated file's page fault under it meanwhile?). Both are
 * one or two loads on the fast path; the method is looked up by name only to throw.
 */
import { closeSync, constants as fsConstants, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { inspect, types } from 'node:util';

import {
  faultCounter as sharedFaultCounter,
  MAP_IN_ACCESS,
  MAP_IN_EFFECTIVE,
  MAP_IN_FD,
  MAP_IN_FLAGS,
  MAP_IN_LENGTH,
  MAP_IN_OFFSET,
  MAP_IN_PROT,
  MAP_IN_TRACKFD,
  MAP_IO_SLOTS,
  MAP_OUT_FD,
  MAP_OUT_LENGTH,
  MAP_OUT_MEMFILE,
  MAP_OUT_PRIVATE,
  native,
  ownedHandles,
  type Handle,
} from './binding.js';
import {
  first as firstMatch,
  prepare as prepareSearch,
  scan as scanMatches,
  type MapMatch,
  type SearchOptions,
  type SearchSource,
} from './search.js';
import { ACCESS_COPY, ACCESS_DEFAULT, ACCESS_NAMES, ACCESS_READ, MS_SYNC, PAGESIZE } from './constants.js';
import {
  argTypeError,
  closedError,
  nativeError,
  rangeError,
  readonlyError,
  stateError,
  systemError,
  typeError,
} from './errors.js';
import { copyOf } from './pool.js';
import { mapArguments, openArguments, type MapPlan, type MmapOptions, type OpenOptions } from './options.js';
import { regionOf, type Region } from './region.js';
import {
  copyBytes,
  type Data,
  hasFixedLength,
  lengthOf,
  optionalInteger,
  ownView,
  searchBounds,
  setBytes,
  sliceIndices,
  targetBytes,
  toBytes,
  validateInt32,
  validateInteger,
} from './validate.js';

export type { MmapOptions, OpenOptions } from './options.js';
export { setWindowLimitForTesting } from './region.js';

const OPEN = 0;
const CLOSED = 1;
const FAULTED = 2;
type State = typeof OPEN | typeof CLOSED | typeof FAULTED;
/** A fault mark the counter never matches: it counts up from 0, so it would take 2^32 faults. */
const NO_MARK = -1;
/** The guard's fault counter, held in a constant of this module: V8 folds a module's own
 * constant into optimised code, where an imported binding is loaded anew on every use (about
 * 0.5 ns of a 3 ns get()). */
const faultCounter = sharedFaultCounter;
const NEWLINE = 0x0a;
/** What `#bytes` holds until the region has a Buffer over the whole map. */
const NO_BYTES = Buffer.alloc(0);
/** Its ArrayBuffer, read once: every Mmap starts with it, and `.buffer` is a runtime call. */
const NO_BYTES_BUFFER = NO_BYTES.buffer;

const NAME_PREFIX = 'memmap:';
const MAX_NAME_BYTES = 66; // CPython's limit, so names that work there work here

/** The TypedArray classes view() accepts, with their element sizes (Float16Array where the
 * runtime has it). */
export type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;
const TYPED_ARRAYS = new Map<Function, number>(
  [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    (globalThis as { Float16Array?: Function }).Float16Array,
  ]
    .filter((c): c is Function & { BYTES_PER_ELEMENT: number } => typeof c === 'function')
    .map((c) => [c, (c as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT]),
);

const WAIT_RESULTS = ['ok', 'not-equal', 'timed-out'] as const;

/** The name of a public method or getter: what the guards are given, to look up the function
 * that anchors an error's stack only when they throw. */
type Method = Extract<keyof Mmap, string>;

/** The public method or getter called `name`: an error's stack starts below its frame. Looked
 * up only to throw, so the hot paths pass a name, not the function. */
function methodOf(name: Method): Function {
  const own = Object.getOwnPropertyDescriptor(Mmap.prototype, name)!;
  return (own.get ?? own.value) as Function;
}

/** Python's rules for `m[i]`: an integer, negative counting from the end, inside the map.
 * (CPython words the type error differently for get and set; so does memmap.) */
function itemIndex(index: unknown, length: number, notAnInteger: string, method: 'get' | 'set'): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw typeError('ERR_INVALID_ARG_TYPE', notAnInteger, methodOf(method));
  }
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) throw rangeError('ERR_OUT_OF_RANGE', 'mmap index out of range', methodOf(method));
  return i;
}

/** @internal The addon's mapping for a plan from `mapArguments` (also how the region tests get
 * a bare mapping); `io` (MAP_IO_SLOTS long, over the start of its own ArrayBuffer) carries the request in and what native.map made
 * out (see the MAP_* slots in src/binding.ts). If it is never unmapped, it is released once
 * `owner` is garbage-collected: the owner must outlive every use of the handle (an Mmap holds
 * its region, and so its handle, to itself). */
export function mapPlanned(
  plan: MapPlan,
  io: Float64Array,
  owner: object,
  ioBuffer: ArrayBufferLike = io.buffer,
): Handle {
  io[MAP_IN_FD] = plan.fd;
  io[MAP_IN_LENGTH] = plan.length;
  io[MAP_IN_OFFSET] = plan.offset;
  io[MAP_IN_ACCESS] = plan.given;
  io[MAP_IN_EFFECTIVE] = plan.access;
  io[MAP_IN_FLAGS] = plan.flags;
  io[MAP_IN_PROT] = plan.prot;
  io[MAP_IN_TRACKFD] = plan.trackfd ? 1 : 0;
  return native.map(ioBuffer, plan.tagname, ownedHandles ? owner : null);
}

/** The constructor's native.map() slots: the request in, what was made out. */
const mapIo = new Float64Array(MAP_IO_SLOTS);
/** Its ArrayBuffer, read once: `.buffer` is a call into the runtime (~30 ns a map on Node 24). */
const mapIoBuffer = mapIo.buffer;

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
  /** The mapped memory; null once closed (or if mapping failed). */
  #region: Region | null = null;
  /** The region's own Buffer over the whole map once it has made one (`Region.wholeBytes`),
   * else an empty one (before the first byte access, for a windowed map, after close or
   * resize). get/set/readByte/writeByte index it directly, one load from the map's bytes, and
   * ask the region when the index falls outside it. Never leaves this object. */
  #bytes: Buffer = NO_BYTES;
  /** `#bytes.buffer`, kept here: the `buffer` getter is a call into the runtime's C++ on every
   * use (about 100 ns a call where the copy behind it misses the cache, as random readInto()
   * calls do). Set together with #bytes by #useBytes. */
  #bytesBuffer: ArrayBufferLike = NO_BYTES_BUFFER;
  /** `#bytes.length`, kept here too: once the addon has made a Buffer (Node makes it with
   * SetPrototype, which drops V8's assumption about typed arrays' `length`), reading a
   * Buffer's length is a call in optimised code, and a call between two random copies stops
   * the CPU from overlapping their cache misses (250 against 140 ns a 64-byte readInto()). */
  #bytesLength = 0;
  #state: State = CLOSED;
  /** The fault counter when this map last checked it (a change means some map faulted since),
   * or NO_MARK once the map is closed or faulted: then the guards' one compare fails too. */
  #faultMark = NO_MARK;
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
  /** readInto()'s last target, a Uint8Array of fixed length (`hasFixedLength`), and its byte
   * length then: the next call with the same target skips the two checks of its type and
   * length, which cost more than a 64-byte copy (they are calls into the runtime, and a random
   * read then no longer overlaps its cache miss with the next one's: 260 against 140 ns a
   * record, measured). Its type cannot change, and its length only to 0 by detaching, which
   * makes the copy throw: then the call starts again with the full checks. Dropped on close. */
  #intoTarget: unknown = null;
  #intoRoom = 0;
  /** The target of the last readInto() that took the full checks: a target is remembered on its
   * second call in a row, so that callers alternating between buffers pay no extra check. */
  #intoLastChecked: unknown = null;
  /** waitAsync() calls in flight: each one's cancel flag and word offset (close() wakes them). */
  #waits: Map<Int32Array, number> | null = null; // made by the first waitAsync(): most maps never wait

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
    let handle: Handle;
    try {
      handle = mapPlanned(plan, mapIo, this, mapIoBuffer);
    } catch (error) {
      throw nativeError(error, from);
    }
    try {
      this.#region = regionOf(handle, mapIo[MAP_OUT_LENGTH]!);
    } catch (error) {
      native.unmap(handle); // the addon could not make a Buffer over it (a runtime that forbids them)
      throw error;
    }
    this.#state = OPEN;
    this.#faultMark = faultCounter[0]!;
    this.#offset = plan.offset;
    this.#access = plan.access;
    this.#readonly = plan.access === ACCESS_READ;
    this.#trackfd = plan.trackfd;
    this.#anonymous = plan.fd === -1;
    this.#private = mapIo[MAP_OUT_PRIVATE] === 1;
    this.#memoryFile = mapIo[MAP_OUT_MEMFILE] === 1;
    // trackfd: false keeps no descriptor (for anonymous memory, the mapping alone holds the
    // memory file).
    this.#hasFd = plan.trackfd && mapIo[MAP_OUT_FD]! >= 0;
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
  // guards

  /** The first line of every method that uses the map: throws unless `mm` is an Mmap that is
   * open and that no fault has hit. On the fast path, a brand check and one compare: the mark
   * matches the counter only while the map is open and no fault happened since its last check. */
  static #enter(mm: Mmap, method: Method): void {
    // Reading a private field is the brand check: it throws for anything but an Mmap. Caught
    // here, it becomes our coded error. (`#state in Object(mm)` says the same but costs about
    // 4 ns a call in optimised code, as much as the rest of get() together.)
    let mark: number;
    try {
      mark = mm.#faultMark;
    } catch {
      throw Mmap.#foreign(method);
    }
    if (faultCounter[0] !== mark) Mmap.#enterSlowly(mm, methodOf(method));
  }

  /** The error for a method called on something that is not an Mmap (the catch of a brand
   * check made by reading a private field). */
  static #foreign(method: Method): TypeError {
    return Mmap.#notAnMmap(method, methodOf(method));
  }

  /** A fault hit this map: every later call but close() throws. #bytes is emptied too, so the
   * fast paths, which check it before they touch the map, leave the map to the full guard. */
  #markFaulted(): void {
    this.#state = FAULTED;
    this.#faultMark = NO_MARK;
    this.#useBytes(NO_BYTES);
  }

  /** Sets #bytes (and its ArrayBuffer) to the region's whole-map Buffer, or to NO_BYTES. */
  #useBytes(bytes: Buffer): void {
    if (bytes === this.#bytes) return; // the usual case on a windowed map: NO_BYTES again
    this.#bytes = bytes;
    this.#bytesBuffer = bytes === NO_BYTES ? NO_BYTES_BUFFER : bytes.buffer;
    this.#bytesLength = bytes.length;
  }

  /** After a method touched the map's memory: throws if a fault hit this map meanwhile. It is
   * also #enter for a receiver already known to be an Mmap (`this` in a private method, which the
   * runtime has brand-checked): a closed map's mark never matches. Private methods use it and
   * `this.method`, never the class's name: TypeScript compiles a class whose private methods
   * name it with every reference to it going through a module-level alias (`_a`), which V8
   * cannot fold into a constant (7 ns of a lines() step went to `_a.prototype.lines`).
   * test/05-exports checks the build has no alias. */
  #checkFaults(method: Method): void {
    if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf(method));
  }

  /** #enter's slow path: a foreign receiver, a closed map, or a fault somewhere since the last
   * check (which may have hit another map: then this one carries on). */
  static #enterSlowly(mm: unknown, from: Function): void {
    Mmap.#requireMmap(mm, from.name, from);
    mm.#requireUsable(from);
  }

  /** A method or getter called on something that is not an Mmap gets a coded TypeError. */
  static #requireMmap(mm: unknown, name: string, from: Function = Mmap.#requireMmap): asserts mm is Mmap {
    if (!Mmap.#isMmap(mm)) throw Mmap.#notAnMmap(name, from);
  }

  static #isMmap(mm: unknown): mm is Mmap {
    return typeof mm === 'object' && mm !== null && #state in mm;
  }

  static #notAnMmap(name: string, from: Function): TypeError {
    return typeError('ERR_INVALID_THIS', `Mmap.prototype.${name} was called on something that is not an Mmap`, from);
  }

  /** Throws unless the map is open and no guarded fault has hit it; takes note of the fault
   * counter, so the fast paths pass again until the next fault anywhere. */
  #requireUsable(from: Function): void {
    if (this.#state === CLOSED) throw closedError(from);
    const region = this.#region!;
    if (this.#state === OPEN) {
      this.#faultMark = faultCounter[0]!;
      if (native.faults(region.handle) === 0) return;
      this.#markFaulted();
    }
    let now = -1;
    try {
      if (this.#hasFd) now = native.fileSize(region.handle);
    } catch {
      now = -1;
    }
    const error = stateError(
      'ERR_MMAP_TRUNCATED',
      `mmap's file shrank under the map (it is now ${now < 0 ? 'of unknown size' : now + ' bytes'}, ` +
        `the map covers bytes ${this.#offset} to ${this.#offset + region.length}); ` +
        'the vanished pages read as zeros and writes to them are lost. Close the map.',
      from,
    ) as Error & { size?: number };
    error.size = now;
    throw error;
  }

  // ------------------------------------------------------------------------------------------
  // Python's mmap API

  /** Unmaps the memory and releases the descriptor, so close() always succeeds; calling it
   * again does nothing. A view handed out earlier keeps its length but reads zeros from then
   * on (writes to it go nowhere); its addresses are released when it is garbage-collected. */
  close(): void {
    Mmap.#requireMmap(this, 'close', Mmap.prototype.close);
    const region = this.#region;
    if (region === null) return;
    this.#cancelWaits(region.handle);
    this.#intoTarget = null;
    this.#intoLastChecked = null;
    region.detach();
    this.#region = null;
    this.#useBytes(NO_BYTES);
    this.#state = CLOSED;
    this.#faultMark = NO_MARK;
    this.#hasFd = false;
    native.unmap(region.handle);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    Mmap.#requireMmap(this, 'closed');
    return this.#state === CLOSED;
  }

  /** `using mm = new Mmap(...)` closes the map at the end of the block (Python's `with`). */
  [Symbol.dispose](): void {
    Mmap.prototype.close.call(this);
  }

  /** The map's length in bytes (Python's `len(m)`). */
  get length(): number {
    // Unlike the other guards, a fault since the last check does not stop this one: a faulted
    // map still has a length.
    let state: State;
    try {
      state = this.#state;
    } catch {
      throw Mmap.#foreign('length');
    }
    if (state !== OPEN) Mmap.#enterSlowly(this, methodOf('length'));
    return this.#region!.length;
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
    Mmap.#requireMmap(this, 'fd');
    if (this.#state === CLOSED || !this.#hasFd) return -1;
    try {
      return native.exposedFd(this.#region!.handle);
    } catch (error) {
      throw systemError(error, Object.getOwnPropertyDescriptor(Mmap.prototype, 'fd')!.get!);
    }
  }

  /** The access mode after CPython's inference (`ACCESS_DEFAULT`, `ACCESS_READ`, ...). */
  get access(): number {
    Mmap.#requireMmap(this, 'access');
    return this.#access;
  }

  /** The file offset the map starts at. */
  get offset(): number {
    Mmap.#requireMmap(this, 'offset');
    return this.#offset;
  }

  /** True once a page of this map vanished under it (the file was truncated) and was replaced
   * by zeros; every later call but close() then throws `ERR_MMAP_TRUNCATED`. */
  get faulted(): boolean {
    Mmap.#requireMmap(this, 'faulted');
    if (this.#state === OPEN && faultCounter[0] !== this.#faultMark) {
      this.#faultMark = faultCounter[0]!;
      if (native.faults(this.#region!.handle) > 0) this.#markFaulted();
    }
    return this.#state === FAULTED;
  }

  /** Returns the byte at index `i` (negative counts from the end): Python's `m[i]`. */
  get(index: number): number {
    // The per-byte methods inline their guard (a call less per byte, which halves their cost
    // while V8 has not optimised the caller yet). Reading #bytes is the brand check; a closed
    // map's #bytes is empty, so it takes the slow path, which enters the map as every method
    // does. A map that faulted reads zeros here, and the check after the read throws.
    let bytes: Buffer;
    try {
      bytes = this.#bytes;
    } catch {
      throw Mmap.#foreign('get');
    }
    // A typed array read is undefined for anything but an integer index inside it: negative
    // indices, the region's first access, windowed maps and bad arguments take the slow path.
    const value = typeof index === 'number' ? bytes[index] : undefined;
    if (value === undefined) return this.#getSlowly(index);
    if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('get'));
    return value;
  }

  #getSlowly(index: unknown): number {
    this.#checkFaults('get');
    const region = this.#region!;
    const value = region.byteAt(itemIndex(index, region.length, 'mmap indices must be integers', 'get'));
    this.#useBytes(region.wholeBytes());
    this.#checkFaults('get');
    return value;
  }

  /** Sets the byte at index `i` to `value` (0..255): Python's `m[i] = value`. */
  set(index: number, value: number): void {
    let bytes: Buffer;
    try {
      bytes = this.#bytes;
    } catch {
      throw Mmap.#foreign('set');
    }
    // Fast path: an integer index inside the whole-map Buffer, a byte value, a writable map
    // that no fault has hit (a write must not land in the zeros that replaced a faulted page).
    if (
      typeof index === 'number' &&
      index >>> 0 === index &&
      index < this.#bytesLength &&
      typeof value === 'number' &&
      (value & 255) === value &&
      !this.#readonly &&
      faultCounter[0] === this.#faultMark
    ) {
      bytes[index] = value;
      if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('set'));
      return;
    }
    this.#setSlowly(index, value);
  }

  #setSlowly(index: number, value: number): void {
    this.#checkFaults('set');
    if (this.#readonly) throw readonlyError(this.set);
    const region = this.#region!;
    const i = itemIndex(index, region.length, 'mmap indices must be integer', 'set');
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw typeError('ERR_INVALID_ARG_TYPE', 'mmap item value must be an int', this.set);
    }
    if (value < 0 || value > 255) {
      throw rangeError('ERR_OUT_OF_RANGE', 'mmap item value must be in range(0, 256)', this.set);
    }
    const bytes = this.#bytes;
    if (i < bytes.length) {
      bytes[i] = value;
    } else {
      region.setByteAt(i, value);
      this.#useBytes(region.wholeBytes());
    }
    this.#checkFaults('set');
  }

  /** A copy of `m[start:stop:step]` as a Buffer, with Python's slice rules (negative indices,
   * clamping, negative steps). `undefined`/`null` mean "omitted". */
  slice(start?: number | null, stop?: number | null, step?: number | null): Buffer {
    // The guard inline, as in read(): the common case, m[a:b] with in-range bounds and the
    // whole-map Buffer at hand, is one copy with none of Python's slice arithmetic. A closed
    // map's #bytesLength is 0, so it takes the full path.
    let length: number;
    try {
      length = this.#bytesLength;
    } catch {
      throw Mmap.#foreign('slice');
    }
    if (
      step === undefined &&
      typeof start === 'number' &&
      typeof stop === 'number' &&
      start >= 0 &&
      start <= stop &&
      stop <= length &&
      Number.isInteger(start) &&
      Number.isInteger(stop) &&
      faultCounter[0] === this.#faultMark
    ) {
      const out = copyOf(this.#bytesBuffer, start, stop - start);
      if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('slice'));
      return out;
    }
    return this.#sliceSlowly(start, stop, step);
  }

  #sliceSlowly(
    start: number | null | undefined,
    stop: number | null | undefined,
    step: number | null | undefined,
  ): Buffer {
    this.#checkFaults('slice');
    const region = this.#region!;
    if (
      step === undefined &&
      typeof start === 'number' &&
      typeof stop === 'number' &&
      Number.isInteger(start) &&
      Number.isInteger(stop) &&
      start >= 0 &&
      start <= stop &&
      stop <= region.length
    ) {
      const out = region.copyOut(start, stop - start, this.slice);
      this.#useBytes(region.wholeBytes());
      this.#checkFaults('slice');
      return out;
    }
    const [first, delta, count] = sliceIndices(region.length, start, stop, step, this.slice);
    const out = delta === 1 ? region.copyOut(first, count, this.slice) : region.gather(first, delta, count);
    this.#checkFaults('slice');
    return out;
  }

  /** Python's `m[start:stop:step] = data`: `data` must have exactly as many bytes as the
   * slice. Overlapping data (a view of this map) is handled as by memmove. */
  setSlice(start: number | null | undefined, stop: number | null | undefined, data: Data, step?: number | null): void {
    Mmap.#enter(this, 'setSlice');
    if (this.#readonly) throw readonlyError(this.setSlice);
    const region = this.#region!;
    const [first, delta, count] = sliceIndices(region.length, start, stop, step, this.setSlice);
    const src = toBytes(data, 'data', this.setSlice);
    if (lengthOf(src) !== count) {
      throw rangeError('ERR_OUT_OF_RANGE', 'mmap slice assignment is wrong size', this.setSlice);
    }
    if (delta === 1) {
      region.copyIn(first, src);
    } else if (count > 0) {
      region.scatter(first, delta, copyBytes(src)); // the source may be a view of this map: copy it first
    }
    this.#checkFaults('setSlice');
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
  view(
    offset?: number | TypedArrayConstructor | DataViewConstructor,
    length?: number,
    count?: number,
  ): Buffer | ArrayBufferView {
    Mmap.#enter(this, 'view');
    if (typeof offset === 'function') return this.#typedView(offset, length, count);
    const region = this.#region!;
    const size = region.length;
    const o = optionalInteger(offset, 'offset', 0, this.view, 0, size);
    const n = optionalInteger(length, 'length', size - o, this.view, 0, size - o);
    if (n === 0) return Buffer.alloc(0);
    return region.view(o, n, this.view);
  }

  /** Iterates over the bytes as numbers, reading the live contents at each step. */
  [Symbol.iterator](): IterableIterator<number> {
    // The receiver is checked now, not at the first step: a generator would read this.length
    // from whatever `this` is (a revoked Proxy throws a TypeError with no code).
    Mmap.#requireMmap(this, 'Symbol.iterator', Mmap.prototype[Symbol.iterator]);
    return this.#eachByte();
  }

  *#eachByte(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /**
   * Reads up to `n` bytes from the position and advances it. `n` omitted, null or negative
   * reads to the end; at or past the end it returns an empty Buffer.
   */
  read(n?: number | null): Buffer {
    // The guard inline, as in readLine(): a closed map's #bytesLength is 0, so it takes the
    // slow path, as do a count past the whole-map Buffer or one that is not a whole number.
    let length: number;
    try {
      length = this.#bytesLength;
    } catch {
      throw Mmap.#foreign('read');
    }
    const pos = this.#pos;
    if (
      typeof n === 'number' &&
      n >= 0 &&
      n <= length - pos &&
      Number.isInteger(n) &&
      faultCounter[0] === this.#faultMark
    ) {
      const out = copyOf(this.#bytesBuffer, pos, n);
      if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('read'));
      this.#pos = pos + n;
      return out;
    }
    return this.#readSlowly(n);
  }

  #readSlowly(n: unknown): Buffer {
    this.#checkFaults('read');
    const want = optionalInteger(n, 'n', -1, this.read);
    const region = this.#region!;
    const pos = this.#pos;
    const remaining = pos < region.length ? region.length - pos : 0;
    const count = want < 0 || want > remaining ? remaining : want;
    const out = region.copyOut(pos, count, this.read);
    this.#useBytes(region.wholeBytes());
    this.#checkFaults('read');
    this.#pos = pos + count;
    return out;
  }

  /** Returns the byte at the position and advances it by one. */
  readByte(): number {
    let bytes: Buffer;
    try {
      bytes = this.#bytes;
    } catch {
      throw Mmap.#foreign('readByte');
    }
    const pos = this.#pos;
    const value = bytes[pos];
    if (value === undefined) return this.#readByteSlowly();
    if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('readByte'));
    this.#pos = pos + 1;
    return value;
  }

  #readByteSlowly(): number {
    this.#checkFaults('readByte');
    const pos = this.#pos;
    let value = this.#bytes[pos];
    if (value === undefined) {
      const region = this.#region!;
      if (pos >= region.length) throw rangeError('ERR_OUT_OF_RANGE', 'read byte out of range', this.readByte);
      value = region.byteAt(pos);
      this.#useBytes(region.wholeBytes());
    }
    this.#checkFaults('readByte');
    this.#pos = pos + 1;
    return value;
  }

  /** Reads from the position up to and including the next `\n` (or to the end). */
  readLine(): Buffer {
    // The guard inline, as in get(): a closed map's #bytes is empty, so it takes the slow path.
    let bytes: Buffer;
    try {
      bytes = this.#bytes;
    } catch {
      throw Mmap.#foreign('readLine');
    }
    const pos = this.#pos;
    if (pos < this.#bytesLength && faultCounter[0] === this.#faultMark) {
      // The whole-map Buffer at hand: one memchr and one copy, with no call into the region
      // (a call chain that deep is not inlined, and costs about 10% per line).
      const at = bytes.indexOf(NEWLINE, pos);
      const end = at < 0 ? this.#bytesLength : at + 1;
      const out = copyOf(this.#bytesBuffer, pos, end - pos);
      if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('readLine'));
      this.#pos = end;
      return out;
    }
    return this.#readLineSlowly();
  }

  #readLineSlowly(): Buffer {
    this.#checkFaults('readLine');
    const pos = this.#pos;
    const bytes = this.#bytes;
    let out: Buffer;
    let end: number;
    if (pos < bytes.length) {
      const at = bytes.indexOf(NEWLINE, pos);
      end = at < 0 ? bytes.length : at + 1;
      out = copyOf(this.#bytesBuffer, pos, end - pos);
    } else {
      const region = this.#region!;
      if (pos >= region.length) return Buffer.alloc(0);
      end = region.lineEnd(pos);
      out = region.copyOut(pos, end - pos, this.readLine);
      this.#useBytes(region.wholeBytes());
    }
    this.#checkFaults('readLine');
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
    let known: unknown;
    try {
      known = this.#intoTarget; // the brand check, as in get()
    } catch {
      throw Mmap.#foreign('readInto');
    }
    if (target === known && known !== null) {
      // No guard before the copy: a closed or faulted map has an empty #bytes, which sends
      // #readIntoKnown back here, and a fault since the last check is seen by the check after
      // the copy. (A check of the fault counter both before and after the copy costs 100 ns a
      // random record on Node 24: the CPU then stops overlapping one record's cache miss with
      // the next one's.)
      let copied = -1;
      try {
        copied = this.#readIntoKnown(target as Uint8Array, offset, length, position);
      } catch {
        // detached since, an argument out of range, or a fault: the full path says which
        this.#intoTarget = null;
      }
      if (copied >= 0) return copied;
    }
    Mmap.#enter(this, 'readInto');
    return this.#readIntoChecked(target, offset, length, position);
  }

  /** readInto() with every check. */
  #readIntoChecked(
    target: ArrayBufferView,
    offset: number | null | undefined,
    length: number | null | undefined,
    position: number | null | undefined,
  ): number {
    const out = targetBytes(target, 'target', this.readInto);
    const room = lengthOf(out);
    const o = optionalInteger(offset, 'offset', 0, this.readInto, 0, room);
    const n = optionalInteger(length, 'length', room - o, this.readInto, 0, room - o);
    const fromCursor = position === undefined || position === null;
    const at = fromCursor
      ? this.#pos
      : validateInteger(position, 'position', this.readInto, 0, Number.MAX_SAFE_INTEGER);
    const hadBytes = this.#bytesLength > 0;
    if (out === target && hadBytes) this.#remember(out, room);
    if (n > 16 && at + n <= this.#bytesLength) {
      // All n bytes inside the whole-map Buffer: one memmove, with no call into the region.
      // (This branch copies n itself, not a min(): a count that may come from the map's size
      // is compiled as a double, and the copy then costs about 100 ns more, measured.)
      setBytes(out, new Uint8Array(this.#bytesBuffer, at, n), o);
      this.#checkFaults('readInto');
      if (fromCursor) this.#pos = at + n;
      return n;
    }
    const region = this.#region!;
    const size = region.length;
    const count = at >= size ? 0 : Math.min(n, size - at);
    if (count > 0) {
      region.copyInto(out, o, at, count, this.readInto);
      this.#useBytes(region.wholeBytes());
      this.#checkFaults('readInto');
    }
    if (out === target && !hadBytes) this.#remember(out, room); // the first call has made #bytes now
    if (fromCursor) this.#pos = at + count;
    return count;
  }

  /** Remembers readInto()'s target for the next call, where that call can use it: a map with
   * a whole-map Buffer (not a windowed one), a target long enough for one memmove. */
  #remember(target: Uint8Array, room: number): void {
    const again = target === this.#intoLastChecked;
    this.#intoLastChecked = target;
    if (again && room > 16 && this.#bytesLength > 0 && target !== this.#intoTarget && hasFixedLength(target)) {
      this.#intoTarget = target;
      this.#intoRoom = room;
    }
  }

  /** readInto() for the remembered target, called with plain numbers, when the copy is one
   * memmove from the whole-map Buffer; -1 for any other case (nothing done: the full path
   * takes it). Throws, having changed nothing, if the target was detached since.
   * Its tests are as few as it can have: on Node 24, a few more between two random copies
   * stop the CPU from overlapping their cache misses (140 against 250 ns a 64-byte record). */
  #readIntoKnown(target: Uint8Array, offset: unknown, length: unknown, position: unknown): number {
    const o = offset === undefined || offset === null ? 0 : offset;
    const n = length === undefined || length === null ? this.#intoRoom - (o as number) : length;
    const fromCursor = position === undefined || position === null;
    const at = fromCursor ? this.#pos : position;
    if (typeof o !== 'number' || typeof n !== 'number' || typeof at !== 'number') return -1;
    const plain =
      o >>> 0 === o && // an integer from 0 to 2^32 - 1
      n >>> 0 === n &&
      n > 16 &&
      o + n <= this.#intoRoom &&
      at >= 0 &&
      at + n <= this.#bytesLength &&
      Number.isInteger(at);
    if (!plain) return -1;
    setBytes(target, new Uint8Array(this.#bytesBuffer, at, n), o);
    this.#checkFaults('readInto');
    if (fromCursor) this.#pos = at + n;
    return n;
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
    Mmap.#enter(this, 'lines');
    const [s, e] = searchBounds(this.#region!.length, 0, start, end, this.lines);
    return new Mmap.#LineIterator(this, s, e);
  }

  /** What lines() returns. A class, not a generator: resuming a generator costs about 10% a
   * line. Its position and end are private, so nothing outside can point it past the map. */
  static readonly #LineIterator = class LineIterator implements IterableIterator<Buffer> {
    readonly #mm: Mmap;
    #at: number;
    readonly #end: number;

    constructor(mm: Mmap, at: number, end: number) {
      this.#mm = mm;
      this.#at = at;
      this.#end = end;
    }

    next(): IteratorResult<Buffer, undefined> {
      let mm: Mmap;
      try {
        mm = this.#mm;
      } catch {
        throw LineIterator.#foreign('next');
      }
      // Errors of a later step take next() as their stack anchor: lines() itself is no longer
      // running then, and anchoring to it would leave the stack empty.
      if (faultCounter[0] !== mm.#faultMark) mm.#requireUsable(this.next);
      const at = this.#at;
      const region = mm.#region!;
      const e = Math.min(this.#end, region.length); // a resize() between steps ends the range there
      if (at >= e) return { value: undefined, done: true };
      const bytes = mm.#bytes;
      let nl: number;
      if (e === mm.#bytesLength) {
        nl = bytes.indexOf(NEWLINE, at); // the whole-map Buffer at hand: one memchr, no call chain
      } else {
        nl = region.lineBreak(at, e);
        mm.#useBytes(region.wholeBytes());
      }
      const stop = nl < 0 ? e : nl;
      // this.next, not Mmap.prototype.lines: V8 would load the class, its prototype and the method
      // on every step (4 ns of ~45 on Node 22).
      const line = region.view(at, stop - at, this.next);
      this.#at = stop === e ? e : stop + 1;
      if (faultCounter[0] !== mm.#faultMark) mm.#requireUsable(this.next);
      return { value: line, done: false };
    }

    /** Ends the iteration (what `break` out of a for-of loop calls), as a generator's does. */
    return(): IteratorResult<Buffer, undefined> {
      try {
        this.#at = this.#end;
      } catch {
        throw LineIterator.#foreign('return');
      }
      return { value: undefined, done: true };
    }

    static #foreign(method: 'next' | 'return'): TypeError {
      const from = LineIterator.prototype[method];
      return typeError('ERR_INVALID_THIS', `${method} was called on something that is not a line iterator`, from);
    }

    [Symbol.iterator](): this {
      return this;
    }
  };

  /** Writes `data` at the position and advances it; returns the number of bytes written.
   * All or nothing: data that does not fit throws and changes nothing. */
  write(data: Data): number {
    Mmap.#enter(this, 'write');
    const src = toBytes(data, 'data', this.write);
    const n = lengthOf(src);
    if (this.#readonly) throw readonlyError(this.write);
    const region = this.#region!;
    const pos = this.#pos;
    if (pos > region.length || region.length - pos < n) {
      throw rangeError('ERR_OUT_OF_RANGE', 'data out of range', this.write);
    }
    region.copyIn(pos, src);
    this.#checkFaults('write');
    this.#pos = pos + n;
    return n;
  }

  /** Writes one byte (0..255) at the position and advances it. */
  writeByte(byte: number): void {
    let bytes: Buffer;
    try {
      bytes = this.#bytes;
    } catch {
      throw Mmap.#foreign('writeByte');
    }
    const pos = this.#pos;
    // Fast path: as set()'s. (`(byte & 255) === byte` holds for the integers 0..255 only.)
    if (
      typeof byte === 'number' &&
      (byte & 255) === byte &&
      pos < this.#bytesLength &&
      !this.#readonly &&
      faultCounter[0] === this.#faultMark
    ) {
      bytes[pos] = byte;
      if (faultCounter[0] !== this.#faultMark) this.#requireUsable(methodOf('writeByte'));
      this.#pos = pos + 1;
      return;
    }
    this.#writeByteSlowly(byte);
  }

  #writeByteSlowly(byte: number): void {
    this.#checkFaults('writeByte');
    if (typeof byte !== 'number' || !Number.isInteger(byte)) {
      throw argTypeError('byte', 'an integer from 0 to 255', byte, this.writeByte);
    }
    if (byte > 255)
      throw rangeError('ERR_OUT_OF_RANGE', 'unsigned byte integer is greater than maximum', this.writeByte);
    if (byte < 0) throw rangeError('ERR_OUT_OF_RANGE', 'unsigned byte integer is less than minimum', this.writeByte);
    if (this.#readonly) throw readonlyError(this.writeByte);
    const pos = this.#pos;
    const bytes = this.#bytes;
    if (pos < bytes.length) {
      bytes[pos] = byte;
    } else {
      const region = this.#region!;
      if (pos >= region.length) throw rangeError('ERR_OUT_OF_RANGE', 'write byte out of range', this.writeByte);
      region.setByteAt(pos, byte);
      this.#useBytes(region.wholeBytes());
    }
    this.#checkFaults('writeByte');
    this.#pos = pos + 1;
  }

  /** Sets the position (whence 0: from the start, 1: from the position, 2: from the end) and
   * returns the new position. */
  seek(pos: number, whence: number = 0): number {
    Mmap.#enter(this, 'seek');
    const distance = validateInteger(pos, 'pos', this.seek);
    const how = validateInt32(whence, 'whence', this.seek);
    const length = this.#region!.length;
    let target: number;
    switch (how) {
      case 0:
        target = distance;
        break;
      case 1:
        target = this.#pos + distance;
        break;
      case 2:
        target = length + distance;
        break;
      default:
        throw rangeError('ERR_INVALID_ARG_VALUE', 'unknown seek type', this.seek);
    }
    if (target < 0 || target > length) throw rangeError('ERR_OUT_OF_RANGE', 'seek out of range', this.seek);
    this.#pos = target;
    return target;
  }

  /** The position. It can exceed `length` after a shrinking `resize()`, as in CPython. */
  tell(): number {
    Mmap.#enter(this, 'tell');
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
    Mmap.#enter(this, 'find');
    return this.#find(sub, start, end, false, 'find');
  }

  /** The highest index where `sub` is found within `[start, end)`, or -1. */
  rfind(sub: Data, start?: number | null, end?: number | null): number {
    Mmap.#enter(this, 'rfind');
    return this.#find(sub, start, end, true, 'rfind');
  }

  /** find() and rfind(), once the guard has passed. */
  #find(sub: unknown, start: unknown, end: unknown, last: boolean, method: 'find' | 'rfind'): number {
    const from = this[method];
    let needle = toBytes(sub, 'sub', from);
    if (needle === sub) needle = ownView(needle); // a caller's instance: read it through a view of our own
    const region = this.#region!;
    const length = region.length;
    const [s, e] = searchBounds(length, this.#pos, start, end, from);
    if (s > length || e - s < needle.length) return -1;
    // An empty needle matches where the search starts: at start going forward, end going back.
    if (needle.length === 0) return last ? e : s;
    const at = region.find(needle, s, e, last);
    this.#checkFaults(method);
    return at;
  }

  /** Copies `count` bytes from `src` to `dest` within the map (overlap-safe, like memmove). */
  move(dest: number, src: number, count: number): void {
    Mmap.#enter(this, 'move');
    const d = validateInteger(dest, 'dest', this.move);
    const s = validateInteger(src, 'src', this.move);
    const n = validateInteger(count, 'count', this.move);
    if (this.#readonly) throw readonlyError(this.move);
    const region = this.#region!;
    const length = region.length;
    if (d < 0 || s < 0 || n < 0 || length - d < n || length - s < n) {
      throw rangeError('ERR_OUT_OF_RANGE', 'source, destination, or count out of range', this.move);
    }
    if (n === 0 || d === s) return;
    region.move(d, s, n, this.move);
    this.#checkFaults('move');
  }

  /**
   * Writes changes back to the file (msync). `offset` defaults to 0 and `size` to the rest of
   * the map (CPython 3.15); `flags` is `MS_SYNC` (default), `MS_ASYNC` or `MS_INVALIDATE`.
   * The offset is rounded down to a page boundary, as msync requires. Does nothing for
   * `ACCESS_READ` and `ACCESS_COPY` maps.
   */
  flush(offset?: number, size?: number, flags?: number): void {
    Mmap.#enter(this, 'flush');
    const range = this.#flushRange(offset, size, flags, this.flush);
    if (range === null) return;
    try {
      native.sync(this.#region!.handle, range[0], range[1], range[2]);
    } catch (error) {
      throw systemError(error, this.flush);
    }
  }

  /**
   * flush() on the thread pool: the event loop keeps running while the pages are written.
   * The mapping stays alive until the promise settles, even if `close()` is called meanwhile.
   */
  flushAsync(offset?: number, size?: number, flags?: number): Promise<void> {
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#notAnMmap('flushAsync', Mmap.prototype.flushAsync));
    let range: [number, number, number] | null;
    let pending: Promise<void>;
    try {
      Mmap.#enter(this, 'flushAsync');
      range = this.#flushRange(offset, size, flags, this.flushAsync);
      if (range === null) return Promise.resolve();
      pending = native.syncAsync(this.#region!.handle, range[0], range[1], range[2]);
    } catch (error) {
      return Promise.reject(systemError(error, this.flushAsync));
    }
    this.#pendingFlushes++;
    return pending.then(
      () => {
        this.#pendingFlushes--;
      },
      (error: unknown) => {
        this.#pendingFlushes--;
        throw systemError(error, this.flushAsync);
      },
    );
  }

  /** flush()'s arguments checked, as msync's page-aligned range and flags; null: nothing to do. */
  #flushRange(offset: unknown, size: unknown, flags: unknown, from: Function): [number, number, number] | null {
    const o = optionalInteger(offset, 'offset', 0, from);
    let n = optionalInteger(size, 'size', -1, from);
    // Where the platform has no msync flags (Windows: FlushViewOfFile takes none), flags are
    // refused, as CPython's flush() there has no such argument.
    if (flags !== undefined && MS_SYNC === undefined) {
      throw typeError('ERR_INVALID_ARG_VALUE', 'flush() takes no "flags" on this platform', from);
    }
    const f = flags === undefined ? (MS_SYNC ?? 0) : validateInt32(flags, 'flags', from);
    const length = this.#region!.length;
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
    Mmap.#enter(this, 'madvise');
    const advice = validateInt32(option, 'option', this.madvise);
    const size = this.#region!.length;
    const s = optionalInteger(start, 'start', 0, this.madvise);
    if (s < 0 || s >= size) throw rangeError('ERR_OUT_OF_RANGE', 'madvise start out of bounds', this.madvise);
    let n = optionalInteger(length, 'length', size - s, this.madvise);
    if (n < 0) throw rangeError('ERR_OUT_OF_RANGE', 'madvise length invalid', this.madvise);
    if (s + n > Number.MAX_SAFE_INTEGER) throw rangeError('ERR_OUT_OF_RANGE', 'madvise length too large', this.madvise);
    if (n > size - s) n = size - s;
    // Which advice is passed on (only what cannot make the map's pages fault) is the
    // platform's list: native/platform.h, mm_advice_allowed.
    try {
      native.advise(this.#region!.handle, s, n, advice);
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
    Mmap.#enter(this, 'resize');
    if (this.#pendingFlushes > 0) {
      throw stateError('ERR_MMAP_BUSY', "mmap can't resize while a flushAsync() is in flight", this.resize);
    }
    if (this.#waits !== null && this.#waits.size > 0) {
      throw stateError('ERR_MMAP_BUSY', "mmap can't resize while a waitAsync() is pending", this.resize);
    }
    if (!this.#trackfd) throw stateError('ERR_MMAP_TRACKFD', "mmap can't resize with trackfd=False.", this.resize);
    if (this.#access === ACCESS_READ || this.#access === ACCESS_COPY) {
      throw typeError(
        'ERR_MMAP_NOT_RESIZABLE',
        "mmap can't resize a readonly or copy-on-write memory map.",
        this.resize,
      );
    }
    const size = validateInteger(newSize, 'newSize', this.resize);
    if (size <= 0 || this.#offset + size > Number.MAX_SAFE_INTEGER) {
      throw rangeError('ERR_OUT_OF_RANGE', 'new size out of range', this.resize);
    }
    // The file ends at offset + newSize afterwards (CPython's rule); the platform orders the
    // change of the file and of the map so that a failure loses nothing (native/platform.h,
    // mm_resize).
    const { handle, length } = this.#region!;
    this.#region!.detach();
    let resized = false;
    try {
      native.resize(handle, size);
      resized = true;
    } catch (error) {
      throw systemError(error, this.resize);
    } finally {
      this.#region = regionOf(handle, resized ? size : length); // the old one's Buffers are detached
      this.#useBytes(NO_BYTES);
    }
  }

  /** The size of the file (not of the map); for anonymous memory, the map's length. */
  size(): number {
    Mmap.#enter(this, 'size');
    if (!this.#trackfd) throw stateError('ERR_MMAP_TRACKFD', "can't get size with trackfd=False", this.size);
    if (this.#anonymous) return this.#region!.length;
    try {
      return native.fileSize(this.#region!.handle);
    } catch (error) {
      throw systemError(error, this.size);
    }
  }

  /** Names private anonymous memory in /proc/self/maps (as `[anon:memmap:NAME]`); Linux 5.17+
   * built with CONFIG_ANON_VMA_NAME (EINVAL elsewhere). Shared anonymous memory lives in a
   * memory file, which the kernel cannot rename: `ERR_MMAP_NOT_ANONYMOUS`. */
  setName(name: string): void {
    Mmap.#enter(this, 'setName');
    if (typeof name !== 'string') throw argTypeError('name', 'of type string', name, this.setName);
    if (name.includes('\0')) throw rangeError('ERR_INVALID_ARG_VALUE', 'embedded null character', this.setName);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES)
      throw rangeError('ERR_INVALID_ARG_VALUE', 'name is too long', this.setName);
    if (!this.#anonymous) {
      throw stateError('ERR_MMAP_NOT_ANONYMOUS', 'Cannot set annotation on non-anonymous mappings', this.setName);
    }
    if (this.#memoryFile) {
      // The kernel names only memory that has no file; shared anonymous memory lives in a
      // memory file (so it can be shared by descriptor), which shows as /memfd:memmap.
      throw stateError(
        'ERR_MMAP_NOT_ANONYMOUS',
        'Cannot set annotation on shared anonymous memory: it is backed by a memory file; ' +
          'name a MAP_PRIVATE anonymous map instead',
        this.setName,
      );
    }
    try {
      native.setName(this.#region!.handle, NAME_PREFIX + name);
    } catch (error) {
      throw systemError(error, this.setName);
    }
  }

  // ------------------------------------------------------------------------------------------
  // beyond CPython

  /** Locks `[offset, offset + length)` in memory (mlock), so it is never paged out. */
  lock(offset?: number, length?: number): void {
    Mmap.#enter(this, 'lock');
    this.#lockRange(offset, length, true, this.lock);
  }

  /** Undoes lock() (munlock). */
  unlock(offset?: number, length?: number): void {
    Mmap.#enter(this, 'unlock');
    this.#lockRange(offset, length, false, this.unlock);
  }

  #lockRange(offset: unknown, length: unknown, lock: boolean, from: Function): void {
    const region = this.#region!;
    const size = region.length;
    const o = optionalInteger(offset, 'offset', 0, from, 0, size);
    const n = optionalInteger(length, 'length', size - o, from, 0, size - o);
    try {
      native.lock(region.handle, o, n, lock);
    } catch (error) {
      throw systemError(error, from);
    }
  }

  /**
   * Which pages of `[offset, offset + length)` are in memory now (mincore): one entry per
   * page, from the page holding `offset`, 1 when resident.
   */
  residency(offset?: number, length?: number): Uint8Array {
    Mmap.#enter(this, 'residency');
    const region = this.#region!;
    const size = region.length;
    const o = optionalInteger(offset, 'offset', 0, this.residency, 0, size);
    const n = optionalInteger(length, 'length', size - o, this.residency, 0, size - o);
    const first = o - (o % PAGESIZE);
    const span = n + (o - first);
    const out = new Uint8Array(Math.ceil(span / PAGESIZE));
    if (span === 0) return out;
    try {
      native.residency(region.handle, first, span, out);
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
    Mmap.#enter(this, 'search');
    const plan = prepareSearch(regexp, options, this.search);
    const [s, e] = searchBounds(this.#region!.length, 0, start, end, this.search);
    return firstMatch(this.#searchSource('search'), plan, s, e, this.search);
  }

  /** Every match of `regexp` in `[start, end)`, in order, as String.prototype.matchAll finds
   * them (a sticky `y` regexp stops at the first gap). The map is read as the iteration goes. */
  matchAll(
    regexp: RegExp,
    start?: number | null,
    end?: number | null,
    options?: SearchOptions,
  ): Generator<MapMatch, void, undefined> {
    Mmap.#enter(this, 'matchAll');
    const plan = prepareSearch(regexp, options, this.matchAll);
    const [s, e] = searchBounds(this.#region!.length, 0, start, end, this.matchAll);
    return scanMatches(this.#searchSource('matchAll'), plan, s, e, this.matchAll);
  }

  /**
   * view(Type, byteOffset, count): a TypedArray (or DataView) over the map, cut from the same
   * public buffers as byte views, so it follows their lifetime rules (zeros after close() or
   * resize(), addresses reserved until it is collected). Never a copy: a misaligned offset is
   * refused.
   */
  #typedView(type: Function, byteOffset: unknown, count: unknown): ArrayBufferView {
    const from = this.view;
    const isDataView = type === DataView;
    const size = isDataView ? 1 : TYPED_ARRAYS.get(type);
    if (size === undefined) {
      throw argTypeError('type', 'a TypedArray constructor or DataView', type, from);
    }
    const length = this.#region!.length;
    const o = optionalInteger(byteOffset, 'byteOffset', 0, from, 0, length);
    if (o % size !== 0) {
      throw rangeError(
        'ERR_MMAP_UNALIGNED',
        `The byteOffset ${o} is not a multiple of ${type.name}.BYTES_PER_ELEMENT (${size}); ` +
          'a typed view is never a copy, so it must be aligned',
        from,
      );
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
    Mmap.#enter(this, 'wait');
    const [o, value, ms] = this.#waitArgs(byteOffset, expected, timeoutMs, this.wait);
    let result: number;
    try {
      result = native.wait(this.#region!.handle, o, value, ms);
    } catch (error) {
      throw systemError(error, this.wait);
    }
    this.#checkFaults('wait');
    return WAIT_RESULTS[result]!;
  }

  /**
   * wait() off the event loop, on a thread of its own (not the thread pool, which a long wait
   * would starve): a Promise of `'ok' | 'not-equal' | 'timed-out'`. close() wakes it and its
   * promise rejects with `ERR_MMAP_CLOSED`; resize() is refused while one is pending.
   */
  waitAsync(byteOffset: number, expected: number, timeoutMs?: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#notAnMmap('waitAsync', Mmap.prototype.waitAsync));
    let pending: Promise<number>;
    const cancel = new Int32Array(1);
    try {
      Mmap.#enter(this, 'waitAsync');
      const [o, value, ms] = this.#waitArgs(byteOffset, expected, timeoutMs, this.waitAsync);
      pending = native.waitAsync(this.#region!.handle, o, value, ms, cancel);
      (this.#waits ??= new Map()).set(cancel, o);
    } catch (error) {
      return Promise.reject(systemError(error, this.waitAsync));
    }
    return pending.then(
      (result) => {
        this.#waits!.delete(cancel);
        if (result === 3) throw closedError(this.waitAsync);
        return WAIT_RESULTS[result]!;
      },
      (error: unknown) => {
        this.#waits!.delete(cancel);
        throw systemError(error, this.waitAsync);
      },
    );
  }

  /** Wakes at most `count` (default: all) waiters on the word at `byteOffset`, in every process;
   * returns how many were woken. */
  notify(byteOffset: number, count?: number): number {
    Mmap.#enter(this, 'notify');
    const o = this.#wordOffset(byteOffset, this.notify);
    let n = 0x7fffffff;
    if (count !== undefined && count !== Infinity) n = Math.min(n, optionalInteger(count, 'count', n, this.notify, 0));
    try {
      return native.notify(this.#region!.handle, o, n);
    } catch (error) {
      throw systemError(error, this.notify);
    }
  }

  #wordOffset(byteOffset: unknown, from: Function): number {
    const o = validateInteger(byteOffset, 'byteOffset', from);
    const length = this.#region!.length;
    if (o < 0 || o > length - 4) {
      throw rangeError(
        'ERR_OUT_OF_RANGE',
        `The word at byteOffset ${o} is not inside the map (length ${length})`,
        from,
      );
    }
    if (o % 4 !== 0)
      throw rangeError('ERR_MMAP_UNALIGNED', `The byteOffset ${o} of a 32-bit word must be a multiple of 4`, from);
    if (this.#private) {
      // The kernel keys a private page's word by this process's address: no other mapping of
      // the file (in this process or another) could ever wake it, nor be woken.
      throw stateError(
        'ERR_MMAP_WAIT_UNSUPPORTED',
        'wait()/notify() need a shared map (ACCESS_WRITE, ACCESS_DEFAULT or MAP_SHARED); ' +
          'ACCESS_READ, ACCESS_COPY and MAP_PRIVATE maps are private to this process',
        from,
      );
    }
    return o;
  }

  /** wait()'s arguments checked: the word's offset, the expected value as unsigned, the
   * timeout in ms (-1: none). */
  #waitArgs(byteOffset: unknown, expected: unknown, timeoutMs: unknown, from: Function): [number, number, number] {
    const o = this.#wordOffset(byteOffset, from);
    const value = validateInteger(expected, 'expected', from);
    if (value < -0x80000000 || value > 0xffffffff) {
      throw rangeError(
        'ERR_OUT_OF_RANGE',
        `The value of "expected" is out of range. It must be a 32-bit integer (signed or unsigned). Received ${value}`,
        from,
      );
    }
    let ms = -1;
    if (timeoutMs !== undefined && timeoutMs !== Infinity) {
      if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs))
        throw argTypeError('timeoutMs', 'a number', timeoutMs, from);
      ms = Math.max(0, timeoutMs);
    }
    return [o, value >>> 0, ms];
  }

  /** close(): wakes this map's pending waitAsync() calls, which then reject as closed. */
  #cancelWaits(handle: Handle): void {
    if (this.#waits === null) return;
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
    if (!Mmap.#isMmap(this)) return Promise.reject(Mmap.#notAnMmap('prefetch', Mmap.prototype.prefetch));
    let pending: Promise<void>;
    try {
      Mmap.#enter(this, 'prefetch');
      const size = this.#region!.length;
      const o = optionalInteger(offset, 'offset', 0, this.prefetch, 0, size);
      const n = optionalInteger(length, 'length', size - o, this.prefetch, 0, size - o);
      if (n === 0) return Promise.resolve();
      const first = o - (o % PAGESIZE);
      pending = native.prefetchAsync(this.#region!.handle, first, n + (o - first));
    } catch (error) {
      return Promise.reject(systemError(error, this.prefetch));
    }
    return pending.then(
      () => {
        if (this.#state === OPEN) this.#checkFaults('prefetch'); // closed meanwhile: nothing to report
      },
      (error: unknown) => {
        throw systemError(error, this.prefetch);
      },
    );
  }

  /** The map's bytes as latin1 strings, decoded from the region's internal Buffers (never
   * from views). */
  #searchSource(method: 'search' | 'matchAll'): SearchSource {
    const check = () => this.#checkFaults(method);
    return {
      length: this.#region!.length,
      check,
      latin1: (start: number, end: number): string => {
        check();
        // A resize() since the iteration began may have cut the map: stop at its end.
        const region = this.#region!;
        const to = Math.min(end, region.length);
        const text = to > start ? region.latin1(start, to) : '';
        check();
        return text;
      },
    };
  }

  // ------------------------------------------------------------------------------------------
  // presentation

  /** CPython's repr: `<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=10, pos=0, offset=0>`. */
  toString(): string {
    Mmap.#requireMmap(this, 'toString', Mmap.prototype.toString);
    if (this.#state === CLOSED) return '<mmap.mmap closed=True>';
    return (
      `<mmap.mmap closed=False, access=${ACCESS_NAMES[this.#access]}, length=${this.#region!.length}, ` +
      `pos=${this.#pos}, offset=${this.#offset}>`
    );
  }

  get [Symbol.toStringTag](): string {
    return 'Mmap';
  }

  [inspect.custom](_depth: number, options: { stylize(text: string, style: string): string }): string {
    Mmap.#requireMmap(this, 'inspect', Mmap.prototype[inspect.custom]);
    // util.inspect passes its stylize as an own property; anything else (no options, a Proxy,
    // a getter) gets plain text, without running or tripping over the caller's code.
    const own: unknown =
      typeof options === 'object' && options !== null && !types.isProxy(options)
        ? Object.getOwnPropertyDescriptor(options, 'stylize')?.value
        : undefined;
    const style =
      typeof own === 'function'
        ? (own as (text: string, style: string) => string).bind(options)
        : (text: string) => text;
    if (this.#state === CLOSED) return `Mmap { closed: ${style('true', 'boolean')} }`;
    const n = (v: number) => style(String(v), 'number');
    return (
      `Mmap { access: ${style(`'${ACCESS_NAMES[this.#access]}'`, 'string')}, length: ${n(this.#region!.length)}, ` +
      `pos: ${n(this.#pos)}, offset: ${n(this.#offset)}, fd: ${n(this.fd)}` + // never the private descriptor
      (this.#state === FAULTED ? `, faulted: ${style('true', 'boolean')}` : '') +
      ' }'
    );
  }
}
