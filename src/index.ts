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
export { Mmap, type MmapOptions, type OpenOptions } from './mmap.js';
export * from './constants.js';
export {
  utf8Source, DEFAULT_MAX_MATCH_LENGTH, MAX_MATCH_LENGTH, type MapMatch, type SearchOptions,
} from './search.js';
export type { Data } from './validate.js';
export type { MmapErrorCode, SystemError } from './errors.js';
