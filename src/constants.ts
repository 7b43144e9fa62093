/**
 * The constants of Python's `mmap` module. `ACCESS_*` are memmap's own; the rest come from
 * the platform's headers through the addon, so each has the value the kernel expects. A
 * constant the platform lacks is `undefined` (CPython leaves it out of the module).
 */
import { native } from './binding.js';

const c = native.constants;

/** Default access: take `flags` and `prot` as given (writable, shared). */
export const ACCESS_DEFAULT = 0;
/** Read-only access. Writes through the API throw `TypeError`. */
export const ACCESS_READ = 1;
/** Write-through access: writes reach the file and every other map of it. */
export const ACCESS_WRITE = 2;
/** Copy-on-write access: writes stay in this process's memory and never reach the file. */
export const ACCESS_COPY = 3;

/** Whether `tagname` is an option here (Windows: named mapping objects, shared between
 * processes by name). Where false, shared anonymous memory is shared by descriptor (`mm.fd`). */
export const HAS_TAGNAME: boolean = native.hasTagname;

/** The size of a memory page in bytes. */
export const PAGESIZE: number = c.PAGESIZE!;
/** A map's `offset` must be a multiple of this (the page size on POSIX). */
export const ALLOCATIONGRANULARITY: number = c.ALLOCATIONGRANULARITY!;

// The platform's values, by name. Those typed `number` exist on every platform memmap builds
// for; the others are `undefined` where the platform lacks them.
const optional: Readonly<Record<string, number | undefined>> = c;

export const { PROT_READ, PROT_WRITE, PROT_EXEC } = c;

export const { MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_ANON } = c;
export const {
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_POPULATE,
  MAP_STACK,
  MAP_NORESERVE,
  MAP_32BIT,
  // macOS's own flags (CPython 3.13), where the SDK defines them.
  MAP_NOEXTEND,
  MAP_HASSEMAPHORE,
  MAP_NOCACHE,
  MAP_JIT,
  MAP_RESILIENT_CODESIGN,
  MAP_RESILIENT_MEDIA,
  MAP_TRANSLATED_ALLOW_EXECUTE,
  MAP_UNIX03,
  MAP_TPRO,
} = optional;

export const { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED } = c;
export const {
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  // macOS only (CPython exports them there since 3.8).
  MADV_ZERO_WIRED_PAGES,
  MADV_FREE_REUSABLE,
  MADV_FREE_REUSE,
} = optional;

export const { MS_ASYNC, MS_INVALIDATE, MS_SYNC } = c;

// MAP_FIXED and MAP_FIXED_NOREPLACE are not offered (memmap chooses the address); the addon
// reports them only so that flags carrying them can be refused with a clear message.
const { MAP_FIXED: fixed, MAP_FIXED_NOREPLACE: fixedNoReplace, ...platform } = c;

/** @internal `flags` bits memmap refuses. */
export const REFUSED_MAP_FLAGS = (fixed ?? 0) | (fixedNoReplace ?? 0);

/** Every platform constant by name, for code that looks them up dynamically. */
export const constants: Readonly<Record<string, number>> = Object.freeze({
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  ACCESS_COPY,
  ...platform,
});

/** The name of an access mode, as CPython's repr shows it. */
export const ACCESS_NAMES = ['ACCESS_DEFAULT', 'ACCESS_READ', 'ACCESS_WRITE', 'ACCESS_COPY'] as const;
