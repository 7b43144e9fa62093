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

export const PROT_READ: number = c.PROT_READ!;
export const PROT_WRITE: number = c.PROT_WRITE!;
export const PROT_EXEC: number = c.PROT_EXEC!;

export const MAP_SHARED: number = c.MAP_SHARED!;
export const MAP_PRIVATE: number = c.MAP_PRIVATE!;
export const MAP_ANONYMOUS: number = c.MAP_ANONYMOUS!;
export const MAP_ANON: number = c.MAP_ANON!;
export const MAP_DENYWRITE: number | undefined = c.MAP_DENYWRITE;
export const MAP_EXECUTABLE: number | undefined = c.MAP_EXECUTABLE;
export const MAP_POPULATE: number | undefined = c.MAP_POPULATE;
export const MAP_STACK: number | undefined = c.MAP_STACK;
export const MAP_NORESERVE: number | undefined = c.MAP_NORESERVE;
export const MAP_32BIT: number | undefined = c.MAP_32BIT;
// macOS's own flags (CPython 3.13), where the SDK defines them; undefined elsewhere.
export const MAP_NOEXTEND: number | undefined = c.MAP_NOEXTEND;
export const MAP_HASSEMAPHORE: number | undefined = c.MAP_HASSEMAPHORE;
export const MAP_NOCACHE: number | undefined = c.MAP_NOCACHE;
export const MAP_JIT: number | undefined = c.MAP_JIT;
export const MAP_RESILIENT_CODESIGN: number | undefined = c.MAP_RESILIENT_CODESIGN;
export const MAP_RESILIENT_MEDIA: number | undefined = c.MAP_RESILIENT_MEDIA;
export const MAP_TRANSLATED_ALLOW_EXECUTE: number | undefined = c.MAP_TRANSLATED_ALLOW_EXECUTE;
export const MAP_UNIX03: number | undefined = c.MAP_UNIX03;
export const MAP_TPRO: number | undefined = c.MAP_TPRO;

export const MADV_NORMAL: number = c.MADV_NORMAL!;
export const MADV_RANDOM: number = c.MADV_RANDOM!;
export const MADV_SEQUENTIAL: number = c.MADV_SEQUENTIAL!;
export const MADV_WILLNEED: number = c.MADV_WILLNEED!;
export const MADV_DONTNEED: number = c.MADV_DONTNEED!;
export const MADV_FREE: number | undefined = c.MADV_FREE;
export const MADV_REMOVE: number | undefined = c.MADV_REMOVE;
export const MADV_DONTFORK: number | undefined = c.MADV_DONTFORK;
export const MADV_DOFORK: number | undefined = c.MADV_DOFORK;
export const MADV_MERGEABLE: number | undefined = c.MADV_MERGEABLE;
export const MADV_UNMERGEABLE: number | undefined = c.MADV_UNMERGEABLE;
export const MADV_HUGEPAGE: number | undefined = c.MADV_HUGEPAGE;
export const MADV_NOHUGEPAGE: number | undefined = c.MADV_NOHUGEPAGE;
export const MADV_DONTDUMP: number | undefined = c.MADV_DONTDUMP;
export const MADV_DODUMP: number | undefined = c.MADV_DODUMP;
export const MADV_HWPOISON: number | undefined = c.MADV_HWPOISON;
export const MADV_SOFT_OFFLINE: number | undefined = c.MADV_SOFT_OFFLINE;
// macOS only (CPython exports the last two there since 3.8).
export const MADV_ZERO_WIRED_PAGES: number | undefined = c.MADV_ZERO_WIRED_PAGES;
export const MADV_FREE_REUSABLE: number | undefined = c.MADV_FREE_REUSABLE;
export const MADV_FREE_REUSE: number | undefined = c.MADV_FREE_REUSE;

export const MS_ASYNC: number = c.MS_ASYNC!;
export const MS_INVALIDATE: number = c.MS_INVALIDATE!;
export const MS_SYNC: number = c.MS_SYNC!;

// MAP_FIXED and MAP_FIXED_NOREPLACE are not offered (memmap chooses the address); the addon
// reports them only so that flags carrying them can be refused with a clear message.
const { MAP_FIXED: fixed, MAP_FIXED_NOREPLACE: fixedNoReplace, ...platform } = c;

/** @internal `flags` bits memmap refuses. */
export const REFUSED_MAP_FLAGS = (fixed ?? 0) | (fixedNoReplace ?? 0);

/** Every platform constant by name, for code that looks them up dynamically. */
export const constants: Readonly<Record<string, number>> = Object.freeze({
  ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY, ...platform,
});

/** The name of an access mode, as CPython's repr shows it. */
export const ACCESS_NAMES = ['ACCESS_DEFAULT', 'ACCESS_READ', 'ACCESS_WRITE', 'ACCESS_COPY'] as const;
