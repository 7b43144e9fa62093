/**
 * memmap: memory-mapped files for Node.js with Python's `mmap` API.
 *
 * ```ts
 * import { Mmap, ACCESS_WRITE } from 'memmap';
 * using mm = Mmap.open('hello.txt', { access: ACCESS_WRITE });
 * mm.readLine();            // <Buffer 48 65 6c 6c 6f ...>
 * mm.setSlice(0, 5, 'HELLO');
 * ```
 */
/// <reference types="node" preserve="true" />
// The public names, listed one by one: modules also export helpers for each other and for
// tests (marked @internal), which are not part of the API. test/05-exports checks this list.
export { Mmap, type MmapOptions, type OpenOptions, type TypedArrayConstructor } from './mmap.js';
// The constants one family a line (prettier would give each name a line of its own).
// prettier-ignore
export {
  ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY,
  PAGESIZE, ALLOCATIONGRANULARITY,
  PROT_READ, PROT_WRITE, PROT_EXEC,
  MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_ANON, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_POPULATE,
  MAP_STACK, MAP_NORESERVE, MAP_32BIT, MAP_NOEXTEND, MAP_HASSEMAPHORE, MAP_NOCACHE, MAP_JIT,
  MAP_RESILIENT_CODESIGN, MAP_RESILIENT_MEDIA, MAP_TRANSLATED_ALLOW_EXECUTE, MAP_UNIX03, MAP_TPRO,
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE,
  MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
  MADV_DONTDUMP, MADV_DODUMP, MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_ZERO_WIRED_PAGES,
  MADV_FREE_REUSABLE, MADV_FREE_REUSE,
  MS_ASYNC, MS_INVALIDATE, MS_SYNC,
  HAS_TAGNAME, constants,
} from './constants.js';
export { utf8Source, DEFAULT_MAX_MATCH_LENGTH, MAX_MATCH_LENGTH, type MapMatch, type SearchOptions } from './search.js';
export type { Data } from './validate.js';
export {
  isMmapError,
  type MmapError,
  type MmapErrorOf,
  type MmapCodedError,
  type MmapTruncatedError,
  type MmapErrorCode,
  type SystemError,
} from './errors.js';
