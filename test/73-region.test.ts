/**
 * The region (src/region.ts) on its own: random sequences of byte access, copies in and out,
 * strided copies, move, search in both directions, line ends, latin1 text and views, on whole
 * regions and on windowed ones (the window limit lowered to one page, so a map of a few pages
 * has windows of two pages every page), compared after every operation with the model in
 * test/model.ts. Offsets are drawn around the window edges, where the windowed code splits
 * ranges, and needles are taken from the map itself, so searches find something.
 *
 * `MEMMAP_FUZZ_RUNS=N` sets the number of random sequences; `MEMMAP_FUZZ_SEED=S` replays a run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { MAP_IO_SLOTS, native, type Handle } from '../src/binding.js';
import { PAGESIZE } from '../src/constants.js';
import { mapPlanned } from '../src/mmap.js';
import { mapArguments } from '../src/options.js';
import { regionOf, setWindowLimitForTesting, type Region } from '../src/region.js';
import { collector, onWindows } from './helpers.js';
import { MmapModel, pySlice } from './model.js';

const PS = PAGESIZE;
const RUNS = Number(process.env.MEMMAP_FUZZ_RUNS ?? 0) || 0;
const SEED = process.env.MEMMAP_FUZZ_SEED === undefined ? undefined : Number(process.env.MEMMAP_FUZZ_SEED);

/** The owners of subjects' handles not yet closed. */
const owners = new Set<object>();

/** A region over fresh shared anonymous memory, and a model of the same bytes. */
function subject(size: number, windowed: boolean): { region: Region; model: MmapModel; close(): void } {
  const plan = mapArguments(-1, size, undefined, subject);
  // The handle's owner (an Mmap's part): were it collected, the addon would release the mapping
  // under the region. It stays in `owners` until close().
  const owner = {};
  owners.add(owner);
  const handle: Handle = mapPlanned(plan, new Float64Array(MAP_IO_SLOTS), owner);
  setWindowLimitForTesting(windowed ? PS : undefined);
  let region: Region;
  try {
    region = regionOf(handle, size);
  } finally {
    setWindowLimitForTesting(undefined);
  }
  const model = new MmapModel({
    anonymous: true,
    shared: true,
    access: 0,
    backing: new Uint8Array(size),
    offset: 0,
    length: size,
    trackfd: true,
    pageSize: PS,
  });
  return {
    region,
    model,
    close() {
      region.detach();
      native.unmap(handle);
      owners.delete(owner);
    },
  };
}

/** The region's bytes, read one at a time (independent of copyOut, which is under test too). */
function contents(region: Region): Uint8Array {
  const out = new Uint8Array(region.length);
  for (let i = 0; i < out.length; i++) out[i] = region.byteAt(i);
  return out;
}

/** An offset in a map of `length` bytes: near a page (window) edge, or anywhere. `span` keeps
 * room for that many bytes after it. */
type At = { page: number; d: number } | { any: number };
const atArb: fc.Arbitrary<At> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ page: fc.integer({ min: 0, max: 6 }), d: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ any: fc.double({ min: 0, max: 1, noNaN: true }) }) },
);
function resolve(at: At, length: number, span = 0): number {
  const room = length - span;
  const raw = 'page' in at ? at.page * PS + at.d : Math.floor(at.any * (room + 1));
  return Math.max(0, Math.min(room, raw));
}
/** A length: small, about a page (a window stride), or up to the whole map. */
const countArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 2, arbitrary: fc.integer({ min: PS - 3, max: PS + 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 * PS }) },
);

type Op =
  | { t: 'byteAt'; at: At }
  | { t: 'setByteAt'; at: At; v: number }
  | { t: 'copyOut'; at: At; n: number }
  | { t: 'copyIn'; at: At; n: number; seed: number; self: At | null }
  | { t: 'copyInto'; at: At; n: number; to: number }
  | { t: 'gather'; start: At; stop: At; step: number }
  | { t: 'scatter'; start: At; stop: At; step: number; seed: number }
  | { t: 'move'; dest: At; src: At; n: number }
  | { t: 'find'; start: At; end: At; from: At; n: number; last: boolean; miss: boolean }
  | { t: 'lineEnd'; at: At }
  | { t: 'latin1'; at: At; n: number }
  | { t: 'view'; at: At; n: number; write: number | null };

const stepArb = fc.constantFrom(2, 3, -1, -2, 7, PS - 1, PS + 1, -PS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('byteAt' as const), at: atArb }),
  fc.record({ t: fc.constant('setByteAt' as const), at: atArb, v: fc.constantFrom(0, 0x0a, 0x61, 0xff) }),
  fc.record({ t: fc.constant('copyOut' as const), at: atArb, n: countArb }),
  fc.record({
    t: fc.constant('copyIn' as const),
    at: atArb,
    n: countArb,
    seed: fc.nat(1000),
    self: fc.option(atArb, { freq: 2 }),
  }),
  fc.record({ t: fc.constant('copyInto' as const), at: atArb, n: countArb, to: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ t: fc.constant('gather' as const), start: atArb, stop: atArb, step: stepArb }),
  fc.record({ t: fc.constant('scatter' as const), start: atArb, stop: atArb, step: stepArb, seed: fc.nat(1000) }),
  fc.record({ t: fc.constant('move' as const), dest: atArb, src: atArb, n: countArb }),
  fc.record({
    t: fc.constant('find' as const),
    start: atArb,
    end: atArb,
    from: atArb,
    n: fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 12 }) },
      { weight: 1, arbitrary: fc.integer({ min: PS - 2, max: PS + 40 }) },
    ),
    last: fc.boolean(),
    miss: fc.boolean(),
  }),
  fc.record({ t: fc.constant('lineEnd' as const), at: atArb }),
  fc.record({ t: fc.constant('latin1' as const), at: atArb, n: countArb }),
  fc.record({ t: fc.constant('view' as const), at: atArb, n: countArb, write: fc.option(fc.nat(255)) }),
);

/** Bytes from a small alphabet with newlines and repeats, so searches and lines hit often. */
function pattern(seed: number, n: number): Uint8Array {
  const alphabet = [0x61, 0x62, 0x0a, 0x00, 0xff, 0x61];
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = alphabet[x % alphabet.length]!;
  }
  return out;
}

const from = test;

/** Applies op to both; asserts that they agree. */
function apply(op: Op, region: Region, model: MmapModel, where: string): void {
  const length = region.length;
  switch (op.t) {
    case 'byteAt': {
      const i = resolve(op.at, length, 1);
      assert.equal(region.byteAt(i), model.get(i), where);
      return;
    }
    case 'setByteAt': {
      const i = resolve(op.at, length, 1);
      region.setByteAt(i, op.v);
      model.set(i, op.v);
      return;
    }
    case 'copyOut': {
      const n = Math.min(op.n, length);
      const o = resolve(op.at, length, n);
      assert.deepEqual(new Uint8Array(region.copyOut(o, n, from)), model.slice(o, o + n), where);
      return;
    }
    case 'copyIn': {
      const n = Math.min(op.n, length);
      const o = resolve(op.at, length, n);
      // A view of the map itself as the source: copied as by memmove.
      const s = op.self === null ? -1 : resolve(op.self, length, n);
      const src = s < 0 ? pattern(op.seed, n) : region.view(s, n, from);
      const bytes = s < 0 ? src : model.bytes(s, s + n);
      region.copyIn(o, src);
      model.setSlice(o, o + n, bytes);
      return;
    }
    case 'copyInto': {
      const n = Math.min(op.n, length);
      const o = resolve(op.at, length, n);
      const target = new Uint8Array(n + op.to + 2).fill(0x55);
      region.copyInto(target, op.to, o, n, from);
      const expected = new Uint8Array(n + op.to + 2).fill(0x55);
      expected.set(model.bytes(o, o + n), op.to);
      assert.deepEqual(target, expected, where);
      return;
    }
    case 'gather': {
      const [first, step, count] = pySlice(length, resolve(op.start, length), resolve(op.stop, length), op.step);
      assert.deepEqual(
        new Uint8Array(region.gather(first, step, count)),
        model.slice(resolve(op.start, length), resolve(op.stop, length), op.step),
        where,
      );
      return;
    }
    case 'scatter': {
      const start = resolve(op.start, length);
      const stop = resolve(op.stop, length);
      const [first, step, count] = pySlice(length, start, stop, op.step);
      const bytes = pattern(op.seed, count);
      region.scatter(first, step, bytes);
      model.setSlice(start, stop, bytes, op.step);
      return;
    }
    case 'move': {
      const n = Math.min(op.n, length);
      const d = resolve(op.dest, length, n);
      const s = resolve(op.src, length, n);
      if (n === 0 || d === s) return; // Mmap.move does not call the region for these
      region.move(d, s, n, from);
      model.move(d, s, n);
      return;
    }
    case 'find': {
      const n = Math.min(op.n, length);
      const start = resolve(op.start, length);
      const end = Math.max(start, resolve(op.end, length));
      if (end - start < n) return; // Mmap.find answers these itself
      // The needle: bytes of the map (found at least there), or ones it may well lack.
      const at = resolve(op.from, length, n);
      const needle = op.miss ? pattern(op.n, n).map((b) => b ^ 0x5a) : model.bytes(at, at + n);
      const expected = op.last ? model.rfind(needle, start, end) : model.find(needle, start, end);
      assert.equal(region.find(needle, start, end, op.last), expected, where);
      return;
    }
    case 'lineEnd': {
      const o = resolve(op.at, length, 1);
      model.seek(o);
      assert.equal(region.lineEnd(o), o + model.readLine().length, where);
      return;
    }
    case 'latin1': {
      const n = Math.min(op.n, length);
      const o = resolve(op.at, length, n);
      assert.equal(region.latin1(o, o + n), Buffer.from(model.bytes(o, o + n)).toString('latin1'), where);
      return;
    }
    case 'view': {
      const n = Math.min(op.n, length);
      const o = resolve(op.at, length, n);
      const view = region.view(o, n, from);
      assert.equal(view.length, n, where);
      assert.deepEqual(new Uint8Array(view), model.bytes(o, o + n), where);
      if (op.write !== null && n > 0) {
        // A write through the view is a write to the map.
        view[n - 1] = op.write;
        model.viewWrite(o + n - 1, Uint8Array.of(op.write));
      }
      return;
    }
  }
}

function run(size: number, windowed: boolean, seed: number, ops: Op[]): void {
  const { region, model, close } = subject(size, windowed);
  try {
    const start = pattern(seed, size);
    region.copyIn(0, start);
    model.setSlice(0, size, start);
    ops.forEach((op, i) => {
      const where = `op ${i} ${JSON.stringify(op)}`;
      apply(op, region, model, where);
      assert.deepEqual(contents(region), model.bytes(), `${where}: the bytes afterwards`);
    });
  } finally {
    close();
  }
}

const params = (runs: number) => ({ numRuns: RUNS || runs, ...(SEED === undefined ? {} : { seed: SEED }) });

test('regionOf chooses by the window limit when a region is made', () => {
  const whole = subject(3 * PS, false);
  const windowed = subject(3 * PS, true);
  try {
    assert.equal(whole.region.constructor.name, 'WholeRegion');
    assert.equal(windowed.region.constructor.name, 'WindowedRegion');
    // A view across a window edge is a Buffer of its own; within a window, a cut of it.
    assert.equal(windowed.region.view(PS - 1, 2, from).buffer.byteLength, 2 * PS);
    assert.equal(windowed.region.view(PS - 1, PS + 2, from).buffer.byteLength, PS + 2);
    assert.equal(whole.region.view(2 * PS - 1, PS, from).buffer.byteLength, 3 * PS);
  } finally {
    whole.close();
    windowed.close();
  }
});

test('whole regions agree with the model', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 * PS }),
      fc.nat(1000),
      fc.array(opArb, { minLength: 1, maxLength: 40, size: 'medium' }),
      (size, seed, ops) => run(size, false, seed, ops),
    ),
    params(200),
  );
});

test('windowed regions agree with the model (windows of two pages every page)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: PS + 1, max: 5 * PS + 17 }),
      fc.nat(1000),
      fc.array(opArb, { minLength: 1, maxLength: 40, size: 'medium' }),
      (size, seed, ops) => run(size, true, seed, ops),
    ),
    params(200),
  );
});

test('windowed search: a match across a window edge, the first and last of several, a needle longer than a stride', () => {
  const size = 4 * PS + 10;
  const { region, close } = subject(size, true);
  try {
    const needle = Buffer.from('needle');
    // One match across the edge at 2 pages (it starts in window 1 and ends in window 2).
    region.copyIn(2 * PS - 3, needle);
    assert.equal(region.find(needle, 0, size, false), 2 * PS - 3);
    assert.equal(region.find(needle, 0, size, true), 2 * PS - 3);
    // The range cuts the match: not found.
    assert.equal(region.find(needle, 0, 2 * PS + 2, false), -1);
    assert.equal(region.find(needle, 2 * PS - 2, size, true), -1);
    // Several matches: forward finds the lowest, backward the highest.
    region.copyIn(10, needle);
    region.copyIn(4 * PS, needle);
    assert.equal(region.find(needle, 0, size, false), 10);
    assert.equal(region.find(needle, 0, size, true), 4 * PS);
    assert.equal(region.find(needle, 11, size, false), 2 * PS - 3);
    assert.equal(region.find(needle, 0, 4 * PS + 5, true), 2 * PS - 3);
    // A needle longer than a stride is compared byte by byte, in both directions.
    const long = Buffer.alloc(PS + 5, 0x61);
    region.copyIn(PS + 7, long);
    assert.equal(region.find(long, 0, size, false), PS + 7);
    assert.equal(region.find(long, 0, size, true), PS + 7);
    region.setByteAt(PS + 7 + PS + 5, 0x61); // now it also matches one byte later
    assert.equal(region.find(long, 0, size, true), PS + 8);
    assert.equal(region.find(long, 0, size, false), PS + 7);
  } finally {
    close();
  }
});

test('windowed move: overlapping ranges longer than a window, both directions', () => {
  const size = 5 * PS;
  for (const [dest, src] of [
    [PS + 3, 2],
    [2, PS + 3],
    [7, 9],
    [3 * PS, 0],
  ] as const) {
    const { region, model, close } = subject(size, true);
    try {
      const start = pattern(dest * 31 + src, size);
      region.copyIn(0, start);
      model.setSlice(0, size, start);
      const n = size - Math.max(dest, src);
      region.move(dest, src, n, from);
      model.move(dest, src, n);
      assert.deepEqual(contents(region), model.bytes(), `move(${dest}, ${src}, ${n})`);
    } finally {
      close();
    }
  }
});

test('a closed handle reaches no mapping: a second unmap() and any later call are refused, never a crash', () => {
  const plan = mapArguments(-1, PS, undefined, subject);
  const owner = {};
  owners.add(owner);
  const first = mapPlanned(plan, new Float64Array(MAP_IO_SLOTS), owner);
  native.unmap(first);
  // Another map may take the closed one's place in the addon's table of handles.
  const second = mapPlanned(plan, new Float64Array(MAP_IO_SLOTS), owner);
  try {
    const refused = { code: 'ERR_MMAP_INTERNAL', message: 'memmap: expected a mapping handle' };
    assert.throws(() => native.unmap(first), refused);
    assert.throws(() => native.buffer(first, 0, PS, true), refused);
    assert.throws(() => native.fileSize(first), refused);
    assert.throws(() => native.unmap({} as Handle), refused);
    // The other map is untouched.
    const bytes = new Uint8Array(native.buffer(second, 0, PS, true));
    bytes[0] = 7;
    assert.equal(bytes[0], 7);
  } finally {
    native.unmap(second);
    owners.delete(owner);
  }
});

test('both kinds of handle (an external with an owner, a wrapped object without) serve and close alike', () => {
  const plan = mapArguments(-1, PS, undefined, subject);
  const owner = {};
  owners.add(owner);
  const refused = { code: 'ERR_MMAP_INTERNAL', message: 'memmap: expected a mapping handle' };
  try {
    const io = mapPlannedIo(plan);
    for (const handle of [native.map(io.buffer, plan.tagname, owner), native.map(io.buffer, plan.tagname, null)]) {
      const bytes = new Uint8Array(native.buffer(handle, 0, PS, true));
      bytes[1] = 9;
      assert.equal(bytes[1], 9);
      assert.equal(native.faults(handle), 0);
      native.unmap(handle);
      // Windows keeps a closed map's pages (its own bytes, never another map's) while a view
      // lives (native/windows.c, mm_zero_in_place).
      assert.equal(bytes[1], onWindows ? 9 : 0, 'a view reads zeros (Windows: its bytes) once its map is closed');
      assert.throws(() => native.unmap(handle), refused);
      assert.throws(() => native.faults(handle), refused);
    }
  } finally {
    owners.delete(owner);
  }
});

test('a handle whose owner was collected without unmap() is refused: the mapping was released, never reached', async () => {
  const gc = collector();
  const plan = mapArguments(-1, PS, undefined, subject);
  // The owner is made and dropped inside make(); the handle is kept.
  const make = (): [Handle, WeakRef<object>] => {
    const owner = {};
    return [native.map(mapPlannedIo(plan).buffer, plan.tagname, owner), new WeakRef(owner)];
  };
  const [handle, owner] = make();
  const bytes = new Uint8Array(native.buffer(handle, 0, PS, true));
  bytes[0] = 5;
  for (let i = 0; i < 20 && owner.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  assert.equal(owner.deref(), undefined, 'the owner was collected');
  await new Promise((resolve) => setImmediate(resolve)); // the finalizer runs when the loop turns
  assert.throws(() => native.buffer(handle, 0, PS, true), {
    code: 'ERR_MMAP_INTERNAL',
    message: 'memmap: expected a mapping handle',
  });
  assert.throws(() => native.unmap(handle), { code: 'ERR_MMAP_INTERNAL' });
  // A view taken before keeps its memory, as when an Mmap is collected.
  assert.equal(bytes[0], 5);
});

/** io for native.map() holding plan's request (mapPlanned fills it; that map is closed). */
function mapPlannedIo(plan: ReturnType<typeof mapArguments>): Float64Array {
  const io = new Float64Array(MAP_IO_SLOTS);
  const owner = {};
  native.unmap(mapPlanned(plan, io, owner));
  return io;
}
