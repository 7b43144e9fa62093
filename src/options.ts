/**
 * The arguments of `new Mmap(fileno, length, options)` and `Mmap.open(path, options)`, turned
 * into a plan in four steps (as better-sqlite3 does with its options):
 *
 * 1. defaults: the options object is read once, own keys only, into a plain record; `null`
 *    and `undefined` both mean "not given" for every option;
 * 2. validate: each value's type and range;
 * 3. interpret: the access mode CPython infers, the mmap flags and protection memmap maps with,
 *    whether the file must be opened writable;
 * 4. validate the interpreted values: option pairs, `create`'s needs, ranges that depend on
 *    several options.
 *
 * Both entry points use the same steps, so `Mmap.open` has refused every bad option before it
 * opens, creates or extends a file. Nothing here runs user code past step 1 (which reads the
 * caller's options object, before anything exists to be harmed), and nothing touches the
 * file system.
 */
import { constants as osConstants } from 'node:os';
import { types } from 'node:util';

import {
  ACCESS_COPY,
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  ALLOCATIONGRANULARITY,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  REFUSED_MAP_FLAGS,
} from './constants.js';
import { native } from './binding.js';
import { argTypeError, rangeError, systemError, typeError } from './errors.js';
import { toBytes, validateInt32, validateInteger } from './validate.js';

/** Options of `new Mmap(fileno, length, options)`; the same names as CPython's keywords. */
export interface MmapOptions {
  /** `MAP_SHARED` (default) or `MAP_PRIVATE`, optionally OR-ed with other `MAP_*` flags. */
  flags?: number | null;
  /** `PROT_READ | PROT_WRITE` (default), or other bits: read with CPython's rule (see docs). */
  prot?: number | null;
  /** `ACCESS_READ`, `ACCESS_WRITE` or `ACCESS_COPY`; cannot be combined with flags/prot. */
  access?: number | null;
  /** Where in the file the map starts; a multiple of `ALLOCATIONGRANULARITY`. Default 0. */
  offset?: number | null;
  /** Keep a duplicate of the descriptor, needed by `size()` and `resize()`. Default true. */
  trackfd?: boolean | null;
  /** Windows only: the name of the mapping object; another process mapping the same tag
   * shares the memory. Elsewhere the option is refused (CPython: TypeError). */
  tagname?: string | null;
}

/** Options of `Mmap.open(path, options)`. */
export interface OpenOptions extends MmapOptions {
  /** Bytes to map; 0 or omitted maps from `offset` to the end of the file. */
  length?: number | null;
  /** Create the file if it does not exist and extend it to `offset + length` if shorter
   * (needs a writable access and a `length`). Default false. */
  create?: boolean | null;
  /** Permission bits of a file that `create` makes. Default 0o666 (before the umask). */
  mode?: number | null;
}

const MAP_OPTION_NAMES = ['flags', 'prot', 'access', 'offset', 'trackfd', 'tagname'] as const;
const OPEN_OPTION_NAMES = [...MAP_OPTION_NAMES, 'length', 'create', 'mode'] as const;

type Raw = Partial<Record<(typeof OPEN_OPTION_NAMES)[number], unknown>>;

// What the platform offers, as the addon reports it (no OS is named here): POSIX's flags and
// prot exist where the platform has MAP_SHARED (Windows has neither, as in CPython), and a
// tagname where the platform names mapping objects (Windows).
const HAS_FLAGS = native.constants.MAP_SHARED !== undefined && native.constants.PROT_READ !== undefined;
const HAS_TAGNAME = native.hasTagname;
/** Options some platforms do not have: CPython's signature there has no such keyword. */
const PLATFORM_OPTIONS: Readonly<Record<string, boolean>> = { flags: HAS_FLAGS, prot: HAS_FLAGS, tagname: HAS_TAGNAME };
const DEFAULT_FLAGS = HAS_FLAGS ? MAP_SHARED : 0;
const DEFAULT_PROT = HAS_FLAGS ? PROT_READ | PROT_WRITE : 0;

/** What the constructor maps. */
export interface MapPlan {
  fd: number;
  length: number;
  offset: number;
  trackfd: boolean;
  /** The options as given (defaults filled in): `flags` decides shared or private memory. */
  flags: number;
  prot: number;
  /** The access mode as given (`ACCESS_DEFAULT` when omitted). */
  given: number;
  /** The access mode after CPython's inference. */
  access: number;
  /** The mapping object's name (platforms with tagnames), or null. */
  tagname: string | null;
}

/** What Mmap.open opens, and the options it then maps with. */
export interface OpenPlan {
  path: string | URL | Buffer;
  length: number;
  create: boolean;
  mode: number;
  /** Whether the file is opened for writing: the map is shared and writable. */
  writable: boolean;
  /** Plain, validated options for the constructor. */
  map: {
    flags: number | null;
    prot: number | null;
    access: number;
    offset: number;
    trackfd: boolean;
    tagname: string | null;
  };
}

// ---------------------------------------------------------------------------------------------
// 1. defaults

/** Reads the caller's options object once: own enumerable keys, each value read once. A key
 * memmap does not know is refused; null and undefined values are dropped (not given). */
function readOptions(options: unknown, allowed: readonly string[], from: Function): Raw {
  const raw: Raw = {};
  if (options === undefined || options === null) return raw;
  if (typeof options !== 'object') throw argTypeError('options', 'of type object', options, from);
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.keys(options).map((key) => [key, (options as Record<string, unknown>)[key]]);
  } catch (error) {
    // A revoked Proxy, or a trap or getter that throws: the options cannot be read.
    const wrapped = typeError(
      'ERR_INVALID_ARG_VALUE',
      `The "options" argument could not be read${types.isProxy(options) ? ' (a Proxy)' : ''}: ${messageOf(error)}`,
      from,
    );
    (wrapped as Error & { cause?: unknown }).cause = error;
    throw wrapped;
  }
  for (const [key, value] of entries) {
    if (!allowed.includes(key)) {
      throw typeError(
        'ERR_INVALID_ARG_VALUE',
        `The option "${key}" is not supported; known options: ${allowed.join(', ')}`,
        from,
      );
    }
    if (PLATFORM_OPTIONS[key] === false && value !== undefined && value !== null) {
      // CPython: "TypeError: ... got an unexpected keyword argument 'tagname'" (or 'flags').
      throw typeError(
        'ERR_INVALID_ARG_VALUE',
        `The option "${key}" is not supported on this platform (mmap has no "${key}" argument here)`,
        from,
      );
    }
    if (value !== undefined && value !== null) raw[key as keyof Raw] = value;
  }
  return raw;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const message = Object.getOwnPropertyDescriptor(error, 'message')?.value as unknown;
    if (typeof message === 'string') return message;
  }
  return 'it threw';
}

// ---------------------------------------------------------------------------------------------
// 2. validate

interface MapValues {
  flags: number;
  prot: number;
  access: number;
  offset: number;
  trackfd: boolean;
  usesFlags: boolean;
  tagname: string | null;
}

function validateMapValues(raw: Raw, from: Function, defaultAccess: number): MapValues {
  const flags = raw.flags === undefined ? DEFAULT_FLAGS : validateInt32(raw.flags, 'flags', from);
  const prot = raw.prot === undefined ? DEFAULT_PROT : validateInt32(raw.prot, 'prot', from);
  const usesFlags = raw.flags !== undefined || raw.prot !== undefined;
  const access =
    raw.access !== undefined ? validateInt32(raw.access, 'access', from) : usesFlags ? ACCESS_DEFAULT : defaultAccess;
  const offset = raw.offset === undefined ? 0 : validateInteger(raw.offset, 'offset', from);
  const trackfd = raw.trackfd === undefined ? true : raw.trackfd;
  if (typeof trackfd !== 'boolean') throw argTypeError('trackfd', 'of type boolean', trackfd, from);
  const tagname = raw.tagname === undefined ? null : raw.tagname;
  if (tagname !== null && typeof tagname !== 'string') throw argTypeError('tagname', 'of type string', tagname, from);
  if (tagname !== null && tagname.includes('\0')) {
    throw typeError('ERR_INVALID_ARG_VALUE', 'The option "tagname" must not contain null bytes', from);
  }
  return { flags, prot, access, offset, trackfd, usesFlags, tagname };
}

// ---------------------------------------------------------------------------------------------
// 3. interpret, and 4. validate the interpreted values

/** CPython's checks, in CPython's order, then its inference of the access from prot: returns
 * the access after inference. How the result is mapped (protections, flags, memory files) is
 * the platform's (native/platform.h). It returns a number, not a record: the constructor's
 * plan is one object literal (no spread of a second object, which V8 copies property by
 * property on every map). */
function interpretAccess(length: number, v: MapValues, from: Function): number {
  const { flags, prot, access, offset } = v;
  if (length < 0) throw rangeError('ERR_OUT_OF_RANGE', 'memory mapped length must be positive', from);
  if (offset < 0) throw rangeError('ERR_OUT_OF_RANGE', 'memory mapped offset must be positive', from);
  if ((flags & REFUSED_MAP_FLAGS) !== 0) {
    throw rangeError('ERR_INVALID_ARG_VALUE', 'MAP_FIXED is not supported: memmap chooses the address', from);
  }
  if (access !== ACCESS_DEFAULT && (flags !== DEFAULT_FLAGS || prot !== DEFAULT_PROT)) {
    throw typeError('ERR_INCOMPATIBLE_OPTION_PAIR', "mmap can't specify both access and flags, prot.", from);
  }
  let effective = access;
  switch (access) {
    case ACCESS_READ:
    case ACCESS_WRITE:
    case ACCESS_COPY:
      break;
    case ACCESS_DEFAULT:
      // Without prot (Windows), the default is write-through, as in CPython.
      if (!HAS_FLAGS) break;
      // CPython infers the access from prot's bits: read and write (with or without exec)
      // stays DEFAULT, write without read is WRITE, anything without write is READ.
      if ((prot & PROT_READ) !== 0 && (prot & PROT_WRITE) !== 0) effective = ACCESS_DEFAULT;
      else if ((prot & PROT_WRITE) !== 0) effective = ACCESS_WRITE;
      else effective = ACCESS_READ;
      break;
    default:
      throw rangeError('ERR_INVALID_ARG_VALUE', 'mmap invalid access parameter.', from);
  }
  return effective;
}

/** The arguments of `new Mmap(fileno, length, options)`. */
export function mapArguments(fileno: unknown, length: unknown, options: unknown, from: Function): MapPlan {
  const fd = validateInt32(fileno, 'fileno', from);
  const size = validateInteger(length, 'length', from);
  const raw = readOptions(options, MAP_OPTION_NAMES, from);
  const values = validateMapValues(raw, from, ACCESS_DEFAULT);
  const access = interpretAccess(size, values, from);
  return {
    fd,
    length: size,
    offset: values.offset,
    trackfd: values.trackfd,
    flags: values.flags,
    prot: values.prot,
    given: values.access,
    access,
    tagname: values.tagname,
  };
}

/** The arguments of `Mmap.open(path, options)`: everything is checked before the caller opens,
 * creates or extends a file. */
export function openArguments(path: unknown, options: unknown, from: Function): OpenPlan {
  const raw = readOptions(options, OPEN_OPTION_NAMES, from);
  // 2. validate
  const length = raw.length === undefined ? 0 : validateInteger(raw.length, 'length', from);
  const create = raw.create === undefined ? false : raw.create;
  if (typeof create !== 'boolean') throw argTypeError('create', 'of type boolean', create, from);
  const mode = raw.mode === undefined ? 0o666 : validateInteger(raw.mode, 'mode', from, 0, 0o7777);
  // Mmap.open maps read-only unless told otherwise (flags or prot say how, as in CPython).
  const values = validateMapValues(raw, from, ACCESS_READ);
  if (
    typeof path !== 'string' &&
    !isUrl(path) &&
    !(ArrayBuffer.isView(path) && toBytes(path, 'path', from).length > 0)
  ) {
    throw argTypeError('path', 'a string, URL or non-empty Buffer', path, from);
  }
  // 3. interpret (with CPython's checks of the combination)
  const access = interpretAccess(length, values, from);
  // A shared writable map needs a descriptor open for writing.
  const writable =
    access !== ACCESS_READ && access !== ACCESS_COPY && (!HAS_FLAGS || (values.flags & MAP_SHARED) !== 0);
  // 4. validate the interpreted values
  if (create && (!writable || length <= 0)) {
    throw typeError('ERR_INVALID_ARG_VALUE', 'Mmap.open: "create" needs a writable access and a length', from);
  }
  if (create) {
    // What mapping would refuse after the file was made or extended is refused now.
    if (values.offset + length > Number.MAX_SAFE_INTEGER) {
      throw rangeError('ERR_OUT_OF_RANGE', `Mmap.open: offset + length is past ${Number.MAX_SAFE_INTEGER}`, from);
    }
    if (values.offset % ALLOCATIONGRANULARITY !== 0) {
      throw systemError({ errno: osConstants.errno.EINVAL, syscall: 'mmap', message: 'Invalid argument' }, from);
    }
  }
  return {
    path: path as string | URL | Buffer,
    length,
    create,
    mode,
    writable,
    map: {
      // Only where the platform has them (they are "not given" otherwise).
      flags: HAS_FLAGS ? values.flags : null,
      prot: HAS_FLAGS ? values.prot : null,
      access: values.access,
      offset: values.offset,
      trackfd: values.trackfd,
      tagname: values.tagname,
    },
  };
}

/** Whether a value is a WHATWG URL, decided without running its code (no `instanceof` through
 * a Proxy, no getters). */
function isUrl(value: unknown): value is URL {
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return false;
  for (
    let proto = Object.getPrototypeOf(value) as object | null;
    proto !== null;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if (types.isProxy(proto)) return false;
    if (proto === URL.prototype) return true;
  }
  return false;
}
