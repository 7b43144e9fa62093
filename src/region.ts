/**
 * The mapped memory of one `Mmap`, as Buffers: byte access, copies in and out, `move`, search,
 * and the public Buffers that views are cut from. It knows nothing of positions, access modes or
 * argument checks: `Mmap` calls it with offsets it has already checked against `length`.
 *
 * Two kinds, chosen once by `regionOf` when a map is made or resized, so that no call has to
 * ask which kind it is working on:
 *
 * - `WholeRegion`: a map of at most the window limit (4 GiB less 64 KiB, `SAFE_LIMIT`) is
 *   covered by one Buffer.
 * - `WindowedRegion`: a larger map is covered by overlapping windows of 2·S bytes starting every
 *   S bytes (S, the stride, is a quarter of the limit), so any range of at most S bytes lies
 *   inside one window; longer operations walk the windows.
 *
 * No Buffer or ArrayBuffer over a map reaches 2^32 bytes, even where the runtime's
 * `buffer.constants.MAX_LENGTH` allows it (2^53 - 1 on Node 22+): runtimes mis-handle Buffers
 * past 2^32 (Node 22 and 24's `indexOf`/`lastIndexOf` wrap, Node 26's `indexOf` mis-handles a
 * start offset past 2^32, Deno reads zeros from a map past 4 GiB), and the windows keep every
 * result independent of that.
 *
 * Two sets of Buffers over the map. The internal ones (the whole-map Buffer, the windows) serve
 * byte access, copies and search; they never leave the region, so they can be detached before
 * close() or resize() and no caller can detach, transfer or hand them to native code. The public
 * ones (the whole-map view, the view windows, views spanning windows) back `view()`; they are
 * never detached (native code may still be reading or writing through them), and the addon
 * keeps their addresses reserved until V8 frees them: after close() or resize() they read zeros.
 */
import { constants as bufferConstants } from 'node:buffer';
import * as workerThreads from 'node:worker_threads';

import { native, type Handle } from './binding.js';
import { PAGESIZE } from './constants.js';
import { rangeError } from './errors.js';
import { bufferOver, copyOf } from './pool.js';
import { copyBytes, lengthOf, ownView, setBytes } from './validate.js';

/** The largest Buffer memmap makes over a map: below 2^32 bytes on every runtime (see the
 * header), in whole 64 KiB units so that it is a multiple of every page size. */
export const SAFE_LIMIT = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32 - 2 ** 16);

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.of(NEWLINE);
const NO_BYTES = Buffer.alloc(0);

/** Maps longer than this are windowed; a test hook may lower it to exercise the windows. */
let windowLimit = SAFE_LIMIT;

/** @internal Lowers the single-Buffer limit so tests can cover windowed maps cheaply. It applies
 * to maps made or resized afterwards. */
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

/** A new public Buffer over [offset, offset + length) of a mapping. */
function publicBuffer(handle: Handle, offset: number, length: number): Buffer {
  const ab = native.buffer(handle, offset, length, true);
  markAsUntransferable(ab);
  return Buffer.from(ab);
}

/** A new internal Buffer over [offset, offset + length) of a mapping. */
function internalBuffer(handle: Handle, offset: number, length: number): Buffer {
  return Buffer.from(native.buffer(handle, offset, length, false));
}

/**
 * The memory of one mapping of `length` bytes. Every offset and length passed in has been
 * checked by the caller: `0 <= offset`, `offset + length <= this.length`. `from` is the public
 * method the call came from, the stack anchor of an error a region throws itself.
 */
export abstract class Region {
  constructor(
    /** The addon's mapping, for system calls on it. */
    readonly handle: Handle,
    /** The mapping's length in bytes; a resize makes a new region. */
    readonly length: number,
  ) {}

  abstract byteAt(i: number): number;
  /** The internal Buffer over the whole map, if the region has made one (a whole-map region
   * after its first byte access), else an empty Buffer. For Mmap's per-byte fast path:
   * it must never leave Mmap, and it is detached with the region. */
  abstract wholeBytes(): Buffer;
  abstract setByteAt(i: number, value: number): void;
  /** A new Buffer holding a copy of [offset, offset + length). */
  abstract copyOut(offset: number, length: number, from: Function): Buffer;
  /** Where the first `\n` in [offset, end) is, or -1; never looks past `end`. */
  abstract lineBreak(offset: number, end: number): number;
  /** Copies `count` bytes from `offset` into `target` at `targetOffset`. */
  abstract copyInto(target: Uint8Array, targetOffset: number, offset: number, count: number, from: Function): void;
  /** Copies src into the map at offset (as memmove when src is a view of the map). src may be
   * a caller's instance: only `set` (which reads its internal slots) touches it, or a view of
   * memmap's own over its bytes, so no user code runs mid-copy. */
  abstract copyIn(offset: number, src: Uint8Array): void;
  /** Copies `count` bytes from `src` to `dest` within the map, overlap-safe (memmove). */
  abstract move(dest: number, src: number, count: number, from: Function): void;
  /** Where `needle` (1 byte or more, at most `end - start`) is found in [start, end): the
   * lowest index, or with `last` the highest; -1 when it is not there. */
  abstract find(needle: Uint8Array, start: number, end: number, last: boolean): number;
  /** A public Buffer over [offset, offset + length) (a zero-copy view for the caller). */
  abstract view(offset: number, length: number, from: Function): Buffer;
  /** The bytes [start, end) as a latin1 string (one character per byte). */
  abstract latin1(start: number, end: number): string;
  /** Detaches the internal Buffers and forgets the public ones, before the mapping is closed
   * or moved. Views already handed out stay attached: the addon turns their memory into zeros
   * and keeps it reserved until they are gone. The region is not used again: close() drops it,
   * and resize() makes a new one, whether the resize succeeds or fails. */
  abstract detach(): void;

  /** Where the line from `offset` ends: just past the next `\n`, or at the end. */
  lineEnd(offset: number): number {
    const at = this.lineBreak(offset, this.length);
    return at < 0 ? this.length : at + 1;
  }

  /** The bytes at first, first + step, ... (`count` of them; step may be negative). */
  gather(first: number, step: number, count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    for (let i = 0, at = first; i < count; i++, at += step) out[i] = this.byteAt(at);
    return out;
  }

  /** Writes bytes at first, first + step, ...; `bytes` must not be a view of the map (the
   * caller copies it first). */
  scatter(first: number, step: number, bytes: Uint8Array): void {
    for (let i = 0, at = first; i < bytes.length; i++, at += step) this.setByteAt(at, bytes[i]!);
  }
}

/** The region for a mapping of `length` bytes: whole or windowed, by the window limit now. */
export function regionOf(handle: Handle, length: number): Region {
  if (length <= windowLimit) return new WholeRegion(handle, length);
  return new WindowedRegion(handle, length, Math.max(PAGESIZE, Math.floor(windowLimit / 4 / PAGESIZE) * PAGESIZE));
}

/** A map covered by one internal Buffer (and one public one that views are cut from). */
class WholeRegion extends Region {
  /** The internal Buffer over the whole map, made on first use (`#bytes`): a map that is
   * only opened and closed, or only viewed, never pays for it (about a third of map + close). */
  #buf: Buffer | null = null;
  /** #buf's ArrayBuffer (the `buffer` getter is a runtime call on every use). */
  #ab: ArrayBuffer | null = null;
  /** The public ArrayBuffer over the whole map that views are made over, made on first use. */
  #view: ArrayBuffer | null = null;
  /** A Uint8Array over #view: its first element reads undefined once a caller detached #view
   * (cheaper than `#view.byteLength`, a call into the runtime on every line of lines()). */
  #viewBytes: Uint8Array = NO_BYTES;

  #bytes(): Buffer {
    return this.#buf ?? this.#makeBytes();
  }

  #makeBytes(): Buffer {
    this.#ab = native.buffer(this.handle, 0, this.length, false);
    return (this.#buf = Buffer.from(this.#ab));
  }

  #arrayBuffer(): ArrayBuffer {
    return this.#ab ?? (this.#makeBytes(), this.#ab!);
  }

  byteAt(i: number): number {
    return this.#bytes()[i]!;
  }

  wholeBytes(): Buffer {
    return this.#buf ?? NO_BYTES;
  }

  setByteAt(i: number, value: number): void {
    this.#bytes()[i] = value;
  }

  copyOut(offset: number, length: number): Buffer {
    return length === 0 ? Buffer.alloc(0) : copyOf(this.#arrayBuffer(), offset, length);
  }

  lineBreak(offset: number, end: number): number {
    const b = this.#bytes();
    if (end === this.length) return b.indexOf(NEWLINE, offset); // one memchr, no subarray
    const at = b.subarray(offset, end).indexOf(NEWLINE);
    return at < 0 ? -1 : at + offset;
  }

  copyInto(target: Uint8Array, targetOffset: number, offset: number, count: number): void {
    const b = this.#bytes();
    if (count <= 16) {
      for (let i = 0; i < count; i++) target[targetOffset + i] = b[offset + i]!;
    } else {
      // One memmove (safe if target is a view of this map), from a plain Uint8Array: cheaper
      // to make than a Buffer's subarray.
      setBytes(target, new Uint8Array(this.#arrayBuffer(), offset, count), targetOffset);
    }
  }

  copyIn(offset: number, src: Uint8Array): void {
    if (lengthOf(src) !== 0) this.#bytes().set(src, offset);
  }

  move(dest: number, src: number, count: number): void {
    this.#bytes().copyWithin(dest, src, src + count);
  }

  find(needle: Uint8Array, start: number, end: number, last: boolean): number {
    const b = this.#bytes();
    // A one-byte needle is a memchr; an unbounded forward search needs no subarray.
    const value = needle.length === 1 ? needle[0]! : needle;
    if (!last && end === this.length) return b.indexOf(value, start);
    const range = b.subarray(start, end);
    const at = last ? range.lastIndexOf(value) : range.indexOf(value);
    return at < 0 ? -1 : at + start;
  }

  view(offset: number, length: number): Buffer {
    // Made again if a caller detached it (transfer() where the runtime allows it); the map is
    // never empty, so a missing first byte means detached (or not made yet).
    if (this.#viewBytes[0] === undefined) {
      this.#view = publicBuffer(this.handle, 0, this.length).buffer as ArrayBuffer;
      this.#viewBytes = new Uint8Array(this.#view);
    }
    return bufferOver(this.#view!, offset, length);
  }

  latin1(start: number, end: number): string {
    return this.#bytes().toString('latin1', start, end);
  }

  override gather(first: number, step: number, count: number): Buffer {
    const b = this.#bytes();
    const out = Buffer.allocUnsafe(count);
    for (let i = 0, at = first; i < count; i++, at += step) out[i] = b[at]!;
    return out;
  }

  detach(): void {
    if (this.#ab !== null) native.detach(this.#ab);
    this.#buf = null;
    this.#ab = null;
    this.#view = null;
    this.#viewBytes = NO_BYTES;
  }
}

/** A map longer than the window limit: window j covers [j·stride, j·stride + 2·stride). Its
 * Buffers are made on first use (a map this large is rarely read everywhere). */
class WindowedRegion extends Region {
  readonly #stride: number;
  /** The internal windows, made on first use. */
  #windows: Buffer[] = [];
  /** The public windows that views are cut from, made on first use. */
  #viewWindows: Buffer[] = [];
  /** Every public ArrayBuffer over the live mapping, to recognise a view of this map passed
   * back in (a windowed copy is not one memmove, so it must copy such a source first). */
  #viewBuffers = new WeakSet<ArrayBufferLike>();

  constructor(handle: Handle, length: number, stride: number) {
    super(handle, length);
    this.#stride = stride;
  }

  /** Internal window j. */
  #window(j: number): Buffer {
    let w = this.#windows[j];
    if (w === undefined) {
      const start = j * this.#stride;
      w = this.#windows[j] = internalBuffer(this.handle, start, Math.min(2 * this.#stride, this.length - start));
    }
    return w;
  }

  #publicBuffer(offset: number, length: number): Buffer {
    const b = publicBuffer(this.handle, offset, length);
    this.#viewBuffers.add(b.buffer);
    return b;
  }

  /** Public window j, made again if a caller detached it (length 0: a window is never empty). */
  #viewWindow(j: number): Buffer {
    const w = this.#viewWindows[j];
    if (w !== undefined && w.length !== 0) return w;
    const start = j * this.#stride;
    return (this.#viewWindows[j] = this.#publicBuffer(start, Math.min(2 * this.#stride, this.length - start)));
  }

  /** Calls fn(window, startInWindow, mapOffset, count) for consecutive pieces of a range. */
  #pieces(offset: number, length: number, fn: (b: Buffer, at: number, mapOffset: number, n: number) => void): void {
    const stride = this.#stride;
    while (length > 0) {
      const j = Math.floor(offset / stride);
      const n = Math.min(length, (j + 1) * stride - offset);
      fn(this.#window(j), offset - j * stride, offset, n);
      offset += n;
      length -= n;
    }
  }

  wholeBytes(): Buffer {
    return NO_BYTES; // no Buffer covers the whole map: every byte goes through its window
  }

  byteAt(i: number): number {
    const j = Math.floor(i / this.#stride);
    return this.#window(j)[i - j * this.#stride]!;
  }

  setByteAt(i: number, value: number): void {
    const j = Math.floor(i / this.#stride);
    this.#window(j)[i - j * this.#stride] = value;
  }

  copyOut(offset: number, length: number, from: Function): Buffer {
    if (length === 0) return Buffer.alloc(0);
    if (length > bufferConstants.MAX_LENGTH) {
      throw rangeError(
        'ERR_OUT_OF_RANGE',
        `Cannot read ${length} bytes into one Buffer (the limit is ${bufferConstants.MAX_LENGTH})`,
        from,
      );
    }
    const out = Buffer.allocUnsafe(length);
    this.#pieces(offset, length, (b, at, mapOffset, n) => out.set(b.subarray(at, at + n), mapOffset - offset));
    return out;
  }

  lineBreak(offset: number, end: number): number {
    return this.find(NEWLINE_BYTES, offset, end, false);
  }

  copyInto(target: Uint8Array, targetOffset: number, offset: number, count: number, from: Function): void {
    setBytes(target, this.copyOut(offset, count, from), targetOffset);
  }

  copyIn(offset: number, src: Uint8Array): void {
    if (lengthOf(src) === 0) return;
    src = ownView(src);
    if (this.#viewBuffers.has(src.buffer)) src = copyBytes(src); // a copy, so the windows can be written in any order
    this.#pieces(offset, src.length, (b, at, mapOffset, n) =>
      b.set(src.subarray(mapOffset - offset, mapOffset - offset + n), at),
    );
  }

  /** Pieces small enough that source and destination share a window when they overlap, copied
   * in the order that never overwrites unread bytes. */
  move(dest: number, src: number, count: number, from: Function): void {
    const stride = this.#stride;
    const piece = Math.floor(stride / 2);
    const forward = dest < src;
    for (let done = 0; done < count;) {
      const m = Math.min(piece, count - done);
      const s = forward ? src + done : src + count - done - m;
      const d = forward ? dest + done : dest + count - done - m;
      const j = Math.floor(Math.min(s, d) / stride);
      const base = j * stride;
      if (Math.max(s, d) + m <= Math.min(base + 2 * stride, this.length)) {
        this.#window(j).copyWithin(d - base, s - base, s - base + m);
      } else {
        this.copyIn(d, this.copyOut(s, m, from)); // far apart: no overlap, copy through a buffer
      }
      done += m;
    }
  }

  find(needle: Uint8Array, start: number, end: number, last: boolean): number {
    const stride = this.#stride;
    if (needle.length > stride) return this.#findLong(needle, start, end, last);
    // Window j is searched for matches that start in [j·stride, (j + 1)·stride): they end
    // inside it, as it is two strides long and the needle at most one. So the first window
    // with a match holds the lowest one, and going back, the highest.
    const first = Math.floor(start / stride);
    const final = Math.floor((end - 1) / stride);
    const step = last ? -1 : 1;
    for (let j = last ? final : first; j >= first && j <= final; j += step) {
      const base = j * stride;
      const from = Math.max(start, base);
      const to = Math.min(end, base + stride + needle.length - 1, this.length);
      if (to - from < needle.length) continue;
      const range = this.#window(j).subarray(from - base, to - base);
      const at = last ? range.lastIndexOf(needle) : range.indexOf(needle);
      if (at >= 0) return from + at;
    }
    return -1;
  }

  /** Needles longer than a stride (over 1 GiB) are compared byte by byte. */
  #findLong(needle: Uint8Array, start: number, end: number, last: boolean): number {
    const matches = (at: number) => {
      for (let i = 0; i < needle.length; i++) if (this.byteAt(at + i) !== needle[i]) return false;
      return true;
    };
    if (last) {
      for (let at = end - needle.length; at >= start; at--) if (matches(at)) return at;
    } else {
      for (let at = start; at + needle.length <= end; at++) if (matches(at)) return at;
    }
    return -1;
  }

  view(offset: number, length: number, from: Function): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const stride = this.#stride;
    // A range of at most a stride lies inside the window of the stride it starts in.
    if (length <= stride) {
      const j = Math.floor(offset / stride);
      return this.#viewWindow(j).subarray(offset - j * stride, offset - j * stride + length);
    }
    if (length > SAFE_LIMIT) {
      throw rangeError('ERR_OUT_OF_RANGE', `A view is at most ${SAFE_LIMIT} bytes; ask for a smaller range`, from);
    }
    return this.#publicBuffer(offset, length);
  }

  latin1(start: number, end: number): string {
    let text = '';
    this.#pieces(start, end - start, (b, at, _mapOffset, n) => {
      text += b.toString('latin1', at, at + n);
    });
    return text;
  }

  detach(): void {
    for (const w of this.#windows) if (w !== undefined) native.detach(w.buffer as ArrayBuffer);
    this.#windows = [];
    this.#viewWindows = [];
    this.#viewBuffers = new WeakSet();
  }
}
