/**
 * Errors thrown by memmap. Each is a standard JavaScript error class (`TypeError`,
 * `RangeError` or `Error`) with a stable `code`, so callers can branch on `err.code` as they do
 * with `fs`. Messages keep CPython's wording where CPython has one, so a search finds both.
 *
 * | code | class | when |
 * |---|---|---|
 * | `ERR_INVALID_ARG_TYPE` | TypeError | an argument has the wrong type |
 * | `ERR_OUT_OF_RANGE` | RangeError | an index, size, offset or position is out of range |
 * | `ERR_INVALID_ARG_VALUE` | RangeError | a value outside its set (access mode, whence, ...) |
 * | `ERR_INCOMPATIBLE_OPTION_PAIR` | TypeError | `access` given together with `flags`/`prot` |
 * | `ERR_INVALID_THIS` | TypeError | a method called on something that is not an `Mmap` |
 * | `ERR_MMAP_CLOSED` | Error | any use after `close()` |
 * | `ERR_MMAP_READONLY` | TypeError | a write to an `ACCESS_READ` map |
 * | `ERR_MMAP_NOT_RESIZABLE` | TypeError | `resize()` of a read-only or copy-on-write map |
 * | `ERR_MMAP_EMPTY_FILE` | Error | mapping the whole of an empty file |
 * | `ERR_MMAP_TRACKFD` | Error | `size()`/`resize()` of a map made with `trackfd: false` |
 * | `ERR_MMAP_NOT_ANONYMOUS` | Error | `setName()` on a file-backed map |
 * | `ERR_MMAP_BUSY` | Error | `resize()` while a `flushAsync()` is in flight |
 * | `ERR_MMAP_TRUNCATED` | Error | the file shrank under the map and a vanished page was touched |
 * | `ERR_MMAP_UNALIGNED` | RangeError | a typed view or a wait/notify offset not aligned to its element |
 * | `ERR_MMAP_WAIT_UNSUPPORTED` | Error | wait()/notify() on a private map (ACCESS_READ, ACCESS_COPY, MAP_PRIVATE) |
 * | `EACCES`, `EINVAL`, ... | Error | a system call failed; also carries `errno` and `syscall` |
 */
import { getSystemErrorName } from 'node:util';

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

type ErrorClass = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

function coded<E extends Error>(Kind: ErrorClass, code: MmapErrorCode, message: string,
  from: Function): E & { code: MmapErrorCode } {
  const error = new Kind(message) as E & { code: MmapErrorCode };
  error.code = code;
  Error.captureStackTrace?.(error, from);
  return error;
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
    case 'undefined': return 'undefined';
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `type bigint (${value}n)`;
    case 'string': return `type string (${JSON.stringify(value.length > 28 ? value.slice(0, 25) + '...' : value)})`;
    case 'boolean': return `type boolean (${value})`;
    case 'symbol': return 'type symbol';
    case 'function': return 'function';
    default: {
      const name = (value as object).constructor?.name;
      return name ? `an instance of ${name}` : 'an object';
    }
  }
}

/** `The "name" argument must be of type number. Received ...` (Node's wording). */
export function argTypeError(name: string, expected: string, value: unknown, from: Function) {
  return typeError('ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(value)}`, from);
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
export function systemError(cause: unknown, from: Function = systemError): Error {
  const native = cause as { errno?: unknown; syscall?: unknown; message?: unknown; code?: unknown };
  if (typeof native?.errno !== 'number' || typeof native.syscall !== 'string') return cause as Error;
  if (typeof native.code === 'string') return cause as Error; // already an fs-style error
  const errno = native.errno;
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `Unknown system error ${errno}`;
  }
  const text = String(native.message ?? '');
  const description = text.charAt(0).toLowerCase() + text.slice(1);
  const error = new Error(`${code}: ${description}, ${native.syscall}`) as SystemError;
  error.code = code;
  error.errno = -errno;
  error.syscall = native.syscall;
  Error.captureStackTrace?.(error, from);
  return error;
}
