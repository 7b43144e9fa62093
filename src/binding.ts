/**
 * Loads the native addon and gives it a type. The addon is the only code that makes system
 * calls; it takes plain, already-validated numbers (see native/binding.c) and throws errors
 * that src/errors.ts turns into `fs`-style errors.
 *
 * src/addon.cts finds the binary (a prebuilt one under prebuilds/, or the one `npm install`
 * compiled into build/).
 */
import addon from './addon.cjs';

/** An opaque reference to one mapping, owned by the addon. */
export type Handle = { readonly __mapping: unique symbol };

/**
 * The slots of native.map()'s Float64Array (`io`, at least `MAP_IO_SLOTS` long): the request
 * goes in, what was made comes out, so that one typed array crosses into the addon instead of a
 * Node-API call per number. native/binding.c names the same slots; both lists change together.
 */
/** In: the caller's descriptor, or -1 for anonymous memory. */
export const MAP_IN_FD = 0;
/** In: bytes to map (0: from the offset to the end of the file). */
export const MAP_IN_LENGTH = 1;
/** In: where in the file the map starts. */
export const MAP_IN_OFFSET = 2;
/** In: the access as given. */
export const MAP_IN_ACCESS = 3;
/** In: the access after CPython's inference from prot. */
export const MAP_IN_EFFECTIVE = 4;
/** In: mmap flags, as given. */
export const MAP_IN_FLAGS = 5;
/** In: mmap prot, as given. */
export const MAP_IN_PROT = 6;
/** In: 1 to keep a descriptor of the file (trackfd), 0 not to. */
export const MAP_IN_TRACKFD = 7;
/** Out: 0 if the mapping owns a descriptor (its number stays in the addon), -1 if not. */
export const MAP_OUT_FD = 8;
/** Out: the length mapped. */
export const MAP_OUT_LENGTH = 9;
/** Out: 1 if writes stay in this process. */
export const MAP_OUT_PRIVATE = 10;
/** Out: 1 if it is anonymous memory living in a memory file. */
export const MAP_OUT_MEMFILE = 11;
export const MAP_IO_SLOTS = 12;

export interface NativeBinding {
  /**
   * Maps what the caller asked for, in CPython's terms (the access as given and as inferred
   * from prot, flags and prot as given), all numbers, in the MAP_IN_* slots of `io`, the
   * ArrayBuffer of a Float64Array (passed as its buffer, which the addon reads cheaper); the platform
   * file decides how (native/platform.h, mm_open). What was made goes to the MAP_OUT_* slots.
   * Throws a system error, or a coded one (`ERR_MMAP_EMPTY_FILE`, `ERR_OUT_OF_RANGE`) for a
   * file size that cannot be mapped.
   *
   * `owner` is the object whose garbage collection releases a map that is never unmapped (the
   * `Mmap`): the handle must not be used once its owner may have been collected. A closed map
   * leaves no finalizer on it. null (where `ownedHandles` is false): the handle is released
   * when it is itself collected.
   */
  map(io: ArrayBufferLike, tagname: string | null, owner: object | null): Handle;
  /** Whether map() takes a tagname (the platform names mapping objects: Windows). */
  readonly hasTagname: boolean;
  /** The size of the mapping's own file (the descriptor it keeps; EBADF when it keeps none). */
  fileSize(handle: Handle): number;
  unmap(handle: Handle): void;
  /** resize(): the map becomes newLength long and its file ends at offset + newLength; on
   * failure nothing changed. */
  resize(handle: Handle, newLength: number): void;
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
  /** The descriptor handed out as `mm.fd`: a duplicate of the mapping's own, made on first use
   * and again if its user closed it; -1 when the mapping holds none. */
  exposedFd(handle: Handle): number;
  setName(handle: Handle, name: string): void;
  faults(handle: Handle): number;
  reinstallGuard(): void;
  /** Starts memmap's process-wide libuv SIGBUS watcher (Node only); false: not possible here. */
  holdSigbus(): boolean;
  /** futex wait on the word at offset: 0 woken, 1 not equal, 2 timed out; timeoutMs < 0: none. */
  wait(handle: Handle, offset: number, expected: number, timeoutMs: number): 0 | 1 | 2;
  /** futex wake: how many waiters (in every process) were woken. */
  notify(handle: Handle, offset: number, count: number): number;
  /** wait() on a thread of its own; 3 when cancel[0] was set (close()) before it ended. */
  waitAsync(
    handle: Handle,
    offset: number,
    expected: number,
    timeoutMs: number,
    cancel: Int32Array,
  ): Promise<0 | 1 | 2 | 3>;
  /** Makes a page-aligned range resident on the thread pool. */
  prefetchAsync(handle: Handle, offset: number, length: number): Promise<void>;
  readonly constants: Readonly<Record<string, number>>;
  readonly faultCounter: ArrayBuffer;
}

/** The addon's functions, copied into an object of our own: the exports object Node-API fills is
 * in dictionary mode, so every `native.x` on it was a property lookup the optimising compiler
 * cannot fold (~1% of a map + close on Node 24). A frozen literal is fast and constant. */
export const native: NativeBinding = Object.freeze(
  Object.fromEntries(
    // Every own property: Node-API defines the functions non-enumerable, so a spread would miss them.
    Object.getOwnPropertyNames(addon).map((name) => [name, (addon as Record<string, unknown>)[name]]),
  ) as unknown as NativeBinding,
);

/**
 * Whether native.map() takes the handle's owner (see "handles" in native/binding.c): a cheaper
 * map + close. Not on Deno, whose napi_delete_reference leaves the owner's finalizer registered
 * until the process ends (memory grows with every map closed): there the handle is a wrapped
 * object, as it was before, whose wrap close() removes.
 */
export const ownedHandles = process.versions.deno === undefined;

// Node 20.0 to 20.3 predate Symbol.dispose, which 20.4 added as Symbol.for('nodejs.dispose').
// Define it the same way there, before mmap.ts names its disposer with it, so that `using`
// works on every Node version `engines` allows (and sees the same symbol after an upgrade).
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose');

// process.on('SIGBUS') makes libuv install its own handler (and removing the last listener
// resets it to the default), which would switch the guard off. On Node, memmap holds a libuv
// SIGBUS watcher of its own for the life of the process (native/signals.h), so listeners added
// or removed later, in any thread, never change the handler. Elsewhere (Bun and Deno have
// libuv-like names that are not libuv), re-install after each change on this thread's
// `process`: Node's own listener for these events was registered at startup, so it has
// already run when ours does.
const isNode = process.versions.bun === undefined && process.versions.deno === undefined;
if (!(isNode && native.holdSigbus())) {
  process.on('newListener', (event) => {
    if (event === 'SIGBUS') native.reinstallGuard();
  });
  process.on('removeListener', (event) => {
    if (event === 'SIGBUS') native.reinstallGuard();
  });
}

/** Incremented by the SIGBUS guard on every rescue (one per fault that maps zeros over the
 * vanished pages, however many); read without a native call. */
export const faultCounter = new Int32Array(native.faultCounter);
