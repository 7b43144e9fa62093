/**
 * Copies out of the map into new Buffers, cheaply. A Buffer from `Buffer.allocUnsafe` costs
 * about 40 ns on Node 20 (its 8 KiB pool is refilled every hundred small Buffers), which is most
 * of what readLine() or a 64-byte slice() costs. Each result is made with the runtime's own
 * Buffer class (`Buffer[Symbol.species]`, Node's and Deno's FastBuffer), so results are Buffers
 * in every respect, prototype included: a copy of at most 64 bytes as a Buffer of its own, whose
 * bytes V8 keeps inside the object; a longer one in a 64 KiB pool of memmap's own.
 */
import * as workerThreads from 'node:worker_threads';

const POOL_SIZE = 64 << 10; // bytes per pool: large enough to refill rarely, small enough that a kept result pins little
const SMALL = 4096; // larger copies get an ArrayBuffer of their own
/** V8 keeps the bytes of a typed array of at most 64 bytes in the object itself (its
 * `typed_array_max_size_in_heap`), with no ArrayBuffer until `.buffer` is asked for: making one
 * costs 10-30 ns less than a pooled result on Node 20-26. One byte more and V8 allocates a backing
 * store (about ten times the cost), hence the pool above this size. */
const ON_HEAP = 64;

type BufferClass = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Buffer;
  new (length: number): Buffer;
};

const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
/** The class whose instances Buffer.from returns, or null where the runtime does not expose it. */
const FastBuffer: BufferClass | null =
  typeof species === 'function' && species !== Buffer && species.prototype === Buffer.prototype
    ? (species as BufferClass)
    : null;

/**
 * Results share their pool's ArrayBuffer, so a caller who transfers one result's `.buffer`
 * (postMessage with a transfer list, structuredClone's `transfer`, `ArrayBuffer#transfer`) would
 * detach every other result and the pool. Each pool is marked untransferable where the runtime
 * can (Node 24+: transferring it throws; Node 20: a transfer list copies it instead); where a
 * pool is detached anyway (Node 22's `transfer()`), copyOf notices and starts a new one.
 */
const markAsUntransferable = (workerThreads as { markAsUntransferable?: (object: object) => void })
  .markAsUntransferable;

/** Whether marking keeps a buffer out of transfer lists here. Where it does not (Bun: a
 * transfer list moves a marked buffer), results are not pooled: each gets the runtime's own
 * Buffer, as Buffer.allocUnsafe would give it. */
const poolable = ((): boolean => {
  if (typeof markAsUntransferable !== 'function' || typeof structuredClone !== 'function') return false;
  const probe = new ArrayBuffer(8);
  markAsUntransferable(probe);
  try {
    structuredClone(probe, { transfer: [probe] });
  } catch {
    return true; // refused (Node 22+)
  }
  return probe.byteLength === 8; // copied instead of moved (Node 20)
})();

function newPool(): ArrayBuffer {
  const ab = new ArrayBuffer(POOL_SIZE);
  if (typeof markAsUntransferable === 'function') markAsUntransferable(ab);
  return ab;
}

/**
 * A Buffer over `length` bytes of `ab` from `offset`, made directly with the runtime's Buffer
 * class: `buf.subarray()` reaches the same class through `Symbol.species` lookups and costs
 * about twice as much (measured on Node 20 and 24), which matters to `lines()` and `view()`.
 */
export const bufferOver: (ab: ArrayBufferLike, offset: number, length: number) => Buffer =
  FastBuffer !== null
    ? (ab, offset, length) => new FastBuffer(ab, offset, length)
    : (ab, offset, length) => Buffer.from(ab, offset, length);

let pool = newPool();
/** A view of the pool, to tell a detached pool by an element read (undefined once detached):
 * `pool.byteLength` is a call into the runtime on every line. */
let poolBytes = new Uint8Array(pool);
let used = 0;

/** A new Buffer holding a copy of `length` bytes of `source` from `offset`. */
export function copyOf(source: ArrayBufferLike, offset: number, length: number): Buffer {
  if (length <= ON_HEAP && FastBuffer !== null) {
    const out = new FastBuffer(length);
    out.set(new Uint8Array(source, offset, length));
    return out;
  }
  if (length > SMALL || FastBuffer === null || !poolable) {
    const out = Buffer.allocUnsafe(length);
    out.set(new Uint8Array(source, offset, length));
    return out;
  }
  if (used + length > POOL_SIZE || poolBytes[used] === undefined) {
    // full, or detached by a caller
    pool = newPool();
    poolBytes = new Uint8Array(pool);
    used = 0;
  }
  const out = new FastBuffer(pool, used, length);
  out.set(new Uint8Array(source, offset, length));
  used = (used + length + 7) & ~7; // keep results 8-byte aligned, as Node's own pool does
  return out;
}
