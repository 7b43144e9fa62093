/**
 * Errors thrown by memmap. Each is a standard JavaScript error class (`TypeError`,
 * `RangeError` or `Error`) with a stable `code`, so callers can branch on `err.code` as they do
 * with `fs`. Messages keep CPython's wording where CPython has one, so a search finds both.
 *
 * The codes, their classes and when each is thrown: the Errors table in README.md (one table, so
 * that it cannot drift from a copy here). `MmapErrorCode` below is the list the types check.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName, types } from 'node:util';

/** The codes memmap's own errors carry (system errors carry the errno name instead). */
export type MmapErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_INVALID_THIS'
  | 'ERR_INCOMPATIBLE_OPTION_PAIR'
  | 'ERR_MMAP_CLOSED'
  | 'ERR_MMAP_READONLY'
  | 'ERR_MMAP_NOT_RESIZABLE'
  | 'ERR_MMAP_EMPTY_FILE'
  | 'ERR_MMAP_TRACKFD'
  | 'ERR_MMAP_NOT_ANONYMOUS'
  | 'ERR_MMAP_BUSY'
  | 'ERR_MMAP_TRUNCATED'
  | 'ERR_MMAP_UNALIGNED'
  | 'ERR_MMAP_WAIT_UNSUPPORTED';

/** A failed system call, shaped like the errors of `fs`. */
export interface SystemError extends Error {
  /** The errno name, such as `'EACCES'`. */
  code: string;
  /** The negated errno number, as in `fs` errors (`-13` for EACCES). */
  errno: number;
  /** The system call that failed, such as `'mmap'`. */
  syscall: string;
}

/** An error memmap raised itself: a `TypeError`, `RangeError` or `Error` with one of its codes. */
export interface MmapCodedError<C extends MmapErrorCode = MmapErrorCode> extends Error {
  code: C;
}

/** `ERR_MMAP_TRUNCATED`: the file shrank under the map and a vanished page was touched. */
export interface MmapTruncatedError extends MmapCodedError<'ERR_MMAP_TRUNCATED'> {
  /** The file's size in bytes when the error was made; -1 when it could not be read. */
  size: number;
}

/** Every error memmap throws, by its `code`. */
export type MmapError = MmapCodedError<Exclude<MmapErrorCode, 'ERR_MMAP_TRUNCATED'>> | MmapTruncatedError | SystemError;

/** The error type a `code` stands for: memmap's own codes, or any other (an errno name) for a
 * system error. */
export type MmapErrorOf<C extends string> = C extends 'ERR_MMAP_TRUNCATED'
  ? MmapTruncatedError
  : C extends MmapErrorCode
    ? MmapCodedError<C>
    : SystemError;

// Symbol.for, so that the CommonJS and the ESM build of memmap recognise each other's errors.
const MARK = Symbol.for('memmap.error');

function mark<E extends Error>(error: E): E {
  Object.defineProperty(error, MARK, { value: true });
  return error;
}

/**
 * Whether `error` was thrown by memmap, optionally with a given `code`; narrows its type
 * (`.code`, and `.size` for `ERR_MMAP_TRUNCATED`, `.errno` and `.syscall` for system errors).
 * Errors that `Mmap.open` lets through from `fs.openSync` (a missing file: `ENOENT`) are
 * `fs`'s own and are not memmap's.
 *
 * ```ts
 * try { mm.read(4); } catch (e) {
 *   if (isMmapError(e, 'ERR_MMAP_TRUNCATED')) console.log(`the file is now ${e.size} bytes`);
 *   else throw e;
 * }
 * ```
 */
export function isMmapError(error: unknown): error is MmapError;
export function isMmapError<C extends string>(error: unknown, code: C): error is MmapErrorOf<C>;
export function isMmapError(error: unknown, code?: string): boolean {
  return (
    error instanceof Error &&
    (error as { [MARK]?: boolean })[MARK] === true &&
    (code === undefined || (error as { code?: unknown }).code === code)
  );
}

type ErrorClass = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

function coded<E extends Error>(
  Kind: ErrorClass,
  code: MmapErrorCode,
  message: string,
  from: Function,
): E & { code: MmapErrorCode } {
  const error = new Kind(message) as E & { code: MmapErrorCode };
  error.code = code;
  Error.captureStackTrace?.(error, from);
  return mark(error);
}

export function typeError(code: MmapErrorCode, message: string, from: Function = typeError) {
  return coded<TypeError>(TypeError, code, message, from);
}

export function rangeError(code: MmapErrorCode, message: string, from: Function = rangeError) {
  return coded<RangeError>(RangeError, code, message, from);
}

export function stateError(code: MmapErrorCode, message: string, from: Function = stateError) {
  return coded<Error>(Error, code, message, from);
}

/** How a value is shown in an error message: short, and never by calling user code. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'string':
      return `type string (${JSON.stringify(value.length > 28 ? value.slice(0, 25) + '...' : value)})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return 'type symbol';
    case 'function':
      return 'function';
    default: {
      const name = constructorName(value as object);
      return name ? `an instance of ${name}` : 'an object';
    }
  }
}

/**
 * The name of an object's constructor, read through property descriptors only: no getter, no
 * Proxy trap runs (a revoked Proxy would throw, a getter could close the map), so building an
 * error message never runs user code and never throws.
 */
function constructorName(value: object): string | undefined {
  let object: object | null = value;
  for (let depth = 0; object !== null && depth < 64; depth++) {
    if (types.isProxy(object)) return undefined;
    const own = Object.getOwnPropertyDescriptor(object, 'constructor');
    if (own !== undefined) {
      const ctor: unknown = own.value;
      if (typeof ctor !== 'function' || types.isProxy(ctor)) return undefined;
      const name: unknown = Object.getOwnPropertyDescriptor(ctor, 'name')?.value;
      return typeof name === 'string' && name !== '' ? name : undefined;
    }
    object = Object.getPrototypeOf(object) as object | null;
  }
  return undefined;
}

/** `The "name" argument must be of type number. Received ...` (Node's wording). */
export function argTypeError(name: string, expected: string, value: unknown, from: Function) {
  return typeError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(value)}`,
    from,
  );
}

export function closedError(from: Function = closedError) {
  return stateError('ERR_MMAP_CLOSED', 'mmap closed or invalid', from);
}

export function readonlyError(from: Function = readonlyError) {
  return typeError('ERR_MMAP_READONLY', "mmap can't modify a readonly memory map.", from);
}

/**
 * Turns the native binding's error (a plain Error with a positive `errno` and a `syscall`)
 * into the shape `fs` uses: `EACCES: permission denied, mmap`.
 */
/** The classes of memmap's own errors that the addon throws (the platform's file-size rules). */
const NATIVE_CODES: Record<string, (code: MmapErrorCode, message: string, from: Function) => Error> = {
  ERR_OUT_OF_RANGE: rangeError,
  ERR_INVALID_ARG_VALUE: rangeError,
  ERR_MMAP_EMPTY_FILE: stateError,
};

/** An error from the addon as the caller should see it: a system error (see systemError), or
 * one of memmap's own codes with its class and a stack that starts at `from`. */
export function nativeError(cause: unknown, from: Function): Error {
  const native = cause as { errno?: unknown; code?: unknown; message?: unknown };
  if (
    typeof native?.errno !== 'number' &&
    typeof native?.code === 'string' &&
    Object.hasOwn(NATIVE_CODES, native.code)
  ) {
    return NATIVE_CODES[native.code]!(native.code as MmapErrorCode, String(native.message), from);
  }
  return systemError(cause, from);
}

function errnoName(errno: number): string | undefined {
  try {
    const name = getSystemErrorName(-errno);
    return name.startsWith('Unknown') ? undefined : name;
  } catch {
    return undefined;
  }
}

let errnoNameMap: Map<number, string> | undefined;
function errnoNames(): Map<number, string> {
  if (errnoNameMap === undefined) {
    errnoNameMap = new Map();
    for (const [name, value] of Object.entries(osConstants.errno))
      if (!errnoNameMap.has(value)) errnoNameMap.set(value, name);
  }
  return errnoNameMap;
}

let uvErrnoMap: Map<string, number> | undefined;
function uvErrnos(): Map<string, number> {
  if (uvErrnoMap === undefined) {
    uvErrnoMap = new Map();
    for (const [value, [name]] of getSystemErrorMap()) uvErrnoMap.set(name, value);
  }
  return uvErrnoMap;
}

export function systemError(cause: unknown, from: Function = systemError): Error {
  const native = cause as { errno?: unknown; syscall?: unknown; message?: unknown; code?: unknown };
  if (typeof native?.errno !== 'number' || typeof native.syscall !== 'string') return cause as Error;
  if (typeof native.code === 'string') return cause as Error; // already an fs-style error
  let errno = native.errno;
  let code = errnoName(errno);
  if (code === undefined) {
    // Where libuv's error numbers are not -errno (Windows), the addon's C-runtime errno is
    // named from os.constants.errno, and the error carries libuv's number for that name, as
    // an fs error there does.
    code = errnoNames().get(errno);
    const uv = code === undefined ? undefined : uvErrnos().get(code);
    if (uv !== undefined) errno = -uv;
    code ??= `Unknown system error ${errno}`;
  }
  const text = String(native.message ?? '');
  const description = text.charAt(0).toLowerCase() + text.slice(1);
  const error = new Error(`${code}: ${description}, ${native.syscall}`) as SystemError;
  error.code = code;
  error.errno = -errno;
  error.syscall = native.syscall;
  Error.captureStackTrace?.(error, from);
  return mark(error);
}
