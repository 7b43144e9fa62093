/**
 * Loads the native addon and gives it a type. The addon is the only code that makes system
 * calls; it takes plain, already-validated numbers (see native/binding.c) and throws errors
 * that src/errors.ts turns into `fs`-style errors.
 *
 * node-gyp-build finds a prebuilt binary for this platform under prebuilds/ when one is
 * shipped, and otherwise the one `npm install` compiled into build/.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

/** An opaque reference to one mapping, owned by the addon. */
export type Handle = { readonly __mapping: unique symbol };

export interface NativeBinding {
  /** fdMode: 0 borrow fd, 1 own it (closed on unmap, or at once if mapping fails), 2 own a
   * duplicate (its number goes to out[0]). */
  map(fd: number, length: number, prot: number, flags: number, offset: number, fdMode: 0 | 1 | 2, out: Int32Array): Handle;
  /** st_size. With regularOnly: -1 for another kind of file, -2 when fstat fails; without,
   * a failure throws. */
  fileSize(fd: number, regularOnly: boolean): number;
  truncate(fd: number, size: number): void;
  unmap(handle: Handle): void;
  remap(handle: Handle, newLength: number): void;
  /** An ArrayBuffer over part of the mapping. A public one (a view for the caller) keeps its
   * addresses reserved until V8 frees it (they read zeros once the map is closed or moved); an
   * internal one must be detached before unmap/remap. */
  buffer(handle: Handle, offset: number, length: number, isPublic: boolean): ArrayBuffer;
  detach(buffer: ArrayBuffer): void;
  sync(handle: Handle, offset: number, length: number, flags: number): void;
  syncAsync(handle: Handle, offset: number, length: number, flags: number): Promise<void>;
  advise(handle: Handle, offset: number, length: number, advice: number): void;
  lock(handle: Handle, offset: number, length: number, lock: boolean): void;
  residency(handle: Handle, offset: number, length: number, out: Uint8Array): void;
  memoryFile(name: string, size: number): number;
  /** The descriptor handed out as `mm.fd`: a duplicate of the mapping's own, made on first use
   * and again if its user closed it; -1 when the mapping holds none. */
  exposedFd(handle: Handle): number;
  setName(handle: Handle, name: string): void;
  faults(handle: Handle): number;
  reinstallGuard(): void;
  /** futex wait on the word at offset: 0 woken, 1 not equal, 2 timed out; timeoutMs < 0: none. */
  wait(handle: Handle, offset: number, expected: number, timeoutMs: number): 0 | 1 | 2;
  /** futex wake: how many waiters (in every process) were woken. */
  notify(handle: Handle, offset: number, count: number): number;
  /** wait() on a thread of its own; 3 when cancel[0] was set (close()) before it ended. */
  waitAsync(handle: Handle, offset: number, expected: number, timeoutMs: number, cancel: Int32Array): Promise<0 | 1 | 2 | 3>;
  /** Makes a page-aligned range resident on the thread pool. */
  prefetchAsync(handle: Handle, offset: number, length: number): Promise<void>;
  readonly constants: Readonly<Record<string, number>>;
  readonly faultCounter: ArrayBuffer;
}

function packageRoot(): string {
  // dist/src/binding.js when built, src/binding.ts when run from source: walk up to package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('memmap: cannot find the package root');
    dir = parent;
  }
  return dir;
}

const require = createRequire(import.meta.url);
const load = require('node-gyp-build') as (root: string) => NativeBinding;

export const native: NativeBinding = load(packageRoot());

// process.on('SIGBUS') makes libuv install its own handler (and removing the last listener
// resets it to the default), which would switch the guard off. Node's own listener for these
// events was registered at startup, so it has already run when ours does: re-install after it.
process.on('newListener', (event) => { if (event === 'SIGBUS') native.reinstallGuard(); });
process.on('removeListener', (event) => { if (event === 'SIGBUS') native.reinstallGuard(); });

/** Incremented by the SIGBUS guard on every page it rescues; read without a native call. */
export const faultCounter = new Int32Array(native.faultCounter);
