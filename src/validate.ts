/**
 * Argument checks, done up front so the native layer only ever sees plain, in-range numbers.
 * Numbers only: BigInt, strings and objects with `valueOf` are refused rather than converted,
 * so no user code runs in the middle of a call (the class of bug behind CPython's gh-103987).
 */
import { argTypeError, rangeError, describe } from './errors.js';

/** Any integer a JS number holds exactly (|n| <= 2^53 - 1); -0 counts as 0. */
export function validateInteger(
  value: unknown,
  name: string,
  from: Function,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  // The passing case alone, so that hot callers (readInto, view, read) get it inlined.
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) {
    return value === 0 ? 0 : value;
  }
  throw integerError(value, name, from, min, max);
}

function integerError(value: unknown, name: string, from: Function, min: number, max: number): Error {
  // A fraction, NaN or Infinity is a TypeError, as CPython's "'float' object cannot be
  // interpreted as an integer": the argument is not an integer at all.
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return argTypeError(name, typeof value === 'number' ? 'an integer' : 'of type number', value, from);
  }
  return rangeError(
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be >= ${min} and <= ${max}. Received ${describe(value)}`,
    from,
  );
}

/** Like validateInteger, with `undefined` (and `null`, Python's None) meaning the default. */
export function optionalInteger(
  value: unknown,
  name: string,
  fallback: number,
  from: Function,
  min?: number,
  max?: number,
): number {
  return value === undefined || value === null ? fallback : validateInteger(value, name, from, min, max);
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** A C `int` argument (fileno, flags, prot, access, advice). */
export function validateInt32(value: unknown, name: string, from: Function): number {
  return validateInteger(value, name, from, INT32_MIN, INT32_MAX);
}

/** The bytes of data passed to write/find/setSlice: any ArrayBufferView, ArrayBuffer or
 * SharedArrayBuffer (zero-copy), or a string (encoded as UTF-8). */
export type Data = string | ArrayBufferView | ArrayBufferLike;

const EMPTY = new Uint8Array(0);

// Short string arguments (find('\n') in a loop) are encoded once; the bytes are never written.
let lastString = '';
let lastBytes: Uint8Array = EMPTY;

// The engine's own accessors: unlike value.byteLength, they never run a subclass's getter or a
// Proxy trap, so converting an argument cannot run user code (which could close the map).
function intrinsicGetter(proto: object, name: string): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(proto, name)!.get! as (this: unknown) => unknown;
}
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayBuffer = intrinsicGetter(TypedArrayPrototype, 'buffer');
const typedArrayByteOffset = intrinsicGetter(TypedArrayPrototype, 'byteOffset');
const typedArrayByteLength = intrinsicGetter(TypedArrayPrototype, 'byteLength');
const typedArrayTag = intrinsicGetter(TypedArrayPrototype, Symbol.toStringTag as unknown as string);
const dataViewBuffer = intrinsicGetter(DataView.prototype, 'buffer');
const dataViewByteOffset = intrinsicGetter(DataView.prototype, 'byteOffset');
const dataViewByteLength = intrinsicGetter(DataView.prototype, 'byteLength');
const arrayBufferByteLength = intrinsicGetter(ArrayBuffer.prototype, 'byteLength');
const sharedByteLength =
  typeof SharedArrayBuffer === 'function' ? intrinsicGetter(SharedArrayBuffer.prototype, 'byteLength') : undefined;

/** The `resizable` / `growable` getters, where the runtime has such buffers. */
const optionalGetter = (proto: object | undefined, name: string) =>
  proto !== undefined && Object.getOwnPropertyDescriptor(proto, name)?.get !== undefined
    ? intrinsicGetter(proto, name)
    : undefined;
const arrayBufferResizable = optionalGetter(ArrayBuffer.prototype, 'resizable');
const sharedGrowable = optionalGetter(
  typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer.prototype : undefined,
  'growable',
);

/**
 * Whether a Uint8Array's byte length can change only by its buffer being detached: the buffer
 * is neither a resizable ArrayBuffer nor a growable SharedArrayBuffer (over which a view may
 * track the buffer's length). readInto() remembers the length of such a target.
 */
export function hasFixedLength(bytes: Uint8Array): boolean {
  const buffer = typedArrayBuffer.call(bytes) as object;
  // Each getter throws for the other kind of buffer: ask the shared one only when the first
  // refused (a thrown error costs microseconds, and this runs on readInto()'s path).
  try {
    return arrayBufferResizable === undefined || arrayBufferResizable.call(buffer) !== true;
  } catch {
    try {
      return sharedGrowable === undefined || sharedGrowable.call(buffer) !== true;
    } catch {
      return false;
    }
  }
}

function isArrayBuffer(value: object): boolean {
  try {
    arrayBufferByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

function isSharedArrayBuffer(value: object): boolean {
  if (sharedByteLength === undefined) return false;
  try {
    sharedByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The bytes of a data argument, without copying and without running user code. A detached
 * buffer has no bytes: it reads as empty data.
 */
export function toBytes(value: unknown, name: string, from: Function): Uint8Array {
  // Buffers and Uint8Arrays first: they are what hot callers pass.
  if (ArrayBuffer.isView(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto === Buffer.prototype || proto === Uint8Array.prototype) return value as Uint8Array;
  }
  if (typeof value === 'string') {
    if (value === lastString) return lastBytes;
    const bytes = value.length === 0 ? EMPTY : Buffer.from(value, 'utf8');
    if (value.length <= 64) {
      lastString = value;
      lastBytes = bytes;
    }
    return bytes;
  }
  if (ArrayBuffer.isView(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto === Buffer.prototype || proto === Uint8Array.prototype) return value as Uint8Array;
    if (typedArrayTag.call(value) !== undefined) {
      const length = typedArrayByteLength.call(value) as number; // 0 when detached
      if (length === 0) return EMPTY;
      return new Uint8Array(
        typedArrayBuffer.call(value) as ArrayBufferLike,
        typedArrayByteOffset.call(value) as number,
        length,
      );
    }
    let length: number;
    try {
      length = dataViewByteLength.call(value) as number;
    } catch {
      return EMPTY; // a DataView over a detached buffer
    }
    if (length === 0) return EMPTY;
    return new Uint8Array(
      dataViewBuffer.call(value) as ArrayBufferLike,
      dataViewByteOffset.call(value) as number,
      length,
    );
  }
  if (typeof value === 'object' && value !== null) {
    if (isArrayBuffer(value)) {
      return arrayBufferByteLength.call(value) === 0 ? EMPTY : new Uint8Array(value as ArrayBuffer);
    }
    if (isSharedArrayBuffer(value)) {
      return sharedByteLength!.call(value) === 0 ? EMPTY : new Uint8Array(value as SharedArrayBuffer);
    }
  }
  throw argTypeError(name, 'a string, Buffer, TypedArray, DataView or ArrayBuffer', value, from);
}

/**
 * The bytes of a caller's TypedArray, DataView or Buffer that memmap writes into (readInto),
 * found without running user code. A Buffer or Uint8Array is used as it is (write to it with
 * `setBytes` and index stores, which run none); other views get a Uint8Array over their bytes.
 */
export function targetBytes(value: unknown, name: string, from: Function): Uint8Array {
  // The common case alone (small enough to be inlined into readInto); the rest below. Any
  // Uint8Array (a Buffer, a subclass) is its own bytes: memmap reads its length with the
  // intrinsic getter and writes its elements, which no subclass can intercept. The intrinsic
  // tag getter is compiled inline, where Object.getPrototypeOf() was a runtime call (about
  // 25 ns of a 70 ns readInto()).
  if (typedArrayTag.call(value) === 'Uint8Array') return value as Uint8Array;
  return otherTargetBytes(value, name, from);
}

function otherTargetBytes(value: unknown, name: string, from: Function): Uint8Array {
  if (ArrayBuffer.isView(value)) {
    let buffer: ArrayBufferLike, offset: number, length: number;
    if (typedArrayTag.call(value) !== undefined) {
      buffer = typedArrayBuffer.call(value) as ArrayBufferLike;
      offset = typedArrayByteOffset.call(value) as number;
      length = typedArrayByteLength.call(value) as number;
    } else {
      try {
        length = dataViewByteLength.call(value) as number;
      } catch {
        return EMPTY; // a DataView over a detached buffer
      }
      buffer = dataViewBuffer.call(value) as ArrayBufferLike;
      offset = dataViewByteOffset.call(value) as number;
    }
    return length === 0 ? EMPTY : new Uint8Array(buffer, offset, length);
  }
  throw argTypeError(name, 'a TypedArray, DataView or Buffer', value, from);
}

/** `TypedArray.prototype.set`, called as an intrinsic: a caller's array may carry its own. */
const typedArraySet = Uint8Array.prototype.set;
export function setBytes(target: Uint8Array, source: Uint8Array, offset: number): void {
  // Without an offset when there is none: V8 compiles `set.call(t, s)` to a plain copy, but
  // `set.call(t, s, 0)` on Node 24 (and `t.set(s, 0)` on Node 20) to a slower call that also
  // stops the CPU from overlapping one copy's cache miss with the next: 240 against 140 ns a
  // random 64-byte readInto(), measured on both.
  if (offset === 0) typedArraySet.call(target, source);
  else typedArraySet.call(target, source, offset);
}

/**
 * The length of bytes from toBytes, read without running user code: a caller's Buffer or
 * Uint8Array is passed through as it is, and may carry its own `length` getter.
 */
export function lengthOf(bytes: Uint8Array): number {
  return typedArrayByteLength.call(bytes) as number;
}

/**
 * A Uint8Array of memmap's own over the same bytes as a caller's: its methods (`subarray`,
 * `slice`, `.buffer`) run no user code, where the caller's instance may carry its own
 * `constructor` (whose `Symbol.species` `subarray` and `slice` would call) or getters.
 */
export function ownView(bytes: Uint8Array): Uint8Array {
  const length = lengthOf(bytes);
  if (length === 0) return EMPTY;
  return new Uint8Array(
    typedArrayBuffer.call(bytes) as ArrayBufferLike,
    typedArrayByteOffset.call(bytes) as number,
    length,
  );
}

/** A copy of bytes, made without running user code (`set` from a typed array reads only its
 * internal slots; `slice` would call the instance's `constructor[Symbol.species]`). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(lengthOf(bytes));
  out.set(bytes);
  return out;
}

/**
 * Python's slice.indices(): clamps start/stop for `length` and `step` and returns the first
 * index, the step and how many elements the slice has. `undefined`/`null` mean "omitted".
 */
export function sliceIndices(
  length: number,
  start: unknown,
  stop: unknown,
  step: unknown,
  from: Function,
): [first: number, step: number, count: number] {
  // Any integer step is accepted, as CPython accepts sys.maxsize and beyond: a step past
  // ±(2^53 - 1) is clamped to it (CPython clamps to ±sys.maxsize), which selects the same bytes
  // since no map is longer.
  let k = optionalInteger(step, 'step', 1, from, -Number.MAX_VALUE, Number.MAX_VALUE);
  if (k === 0) throw rangeError('ERR_OUT_OF_RANGE', 'slice step cannot be zero', from);
  if (k > Number.MAX_SAFE_INTEGER) k = Number.MAX_SAFE_INTEGER;
  else if (k < -Number.MAX_SAFE_INTEGER) k = -Number.MAX_SAFE_INTEGER;
  const lower = k < 0 ? -1 : 0;
  const upper = k < 0 ? length - 1 : length;
  const clamp = (value: unknown, name: string, fallback: number): number => {
    if (value === undefined || value === null) return fallback;
    let v = validateInteger(value, name, from, -Number.MAX_VALUE, Number.MAX_VALUE);
    if (v < 0) {
      v += length;
      if (v < lower) v = lower;
    } else if (v > upper) {
      v = upper;
    }
    return v;
  };
  const first = clamp(start, 'start', k < 0 ? upper : lower);
  const last = clamp(stop, 'stop', k < 0 ? lower : upper);
  let count = 0;
  if (k > 0 ? first < last : first > last) {
    count = Math.floor((k > 0 ? last - first - 1 : first - last - 1) / Math.abs(k)) + 1;
  }
  return [first, k, count];
}

/** find/rfind's start and end: slice-like clamping, defaults pos and length. */
export function searchBounds(
  length: number,
  pos: number,
  start: unknown,
  end: unknown,
  from: Function,
): [start: number, end: number] {
  let s = optionalInteger(start, 'start', pos, from, -Number.MAX_VALUE, Number.MAX_VALUE);
  let e = optionalInteger(end, 'end', length, from, -Number.MAX_VALUE, Number.MAX_VALUE);
  if (s < 0) s = Math.max(0, s + length);
  if (e < 0) e = Math.max(0, e + length);
  if (e > length) e = length;
  return [s, e];
}
