/**
 * Memory safety and CPython conformance at the edges: prot bits, shared anonymous memory,
 * madvise's allow-list, user code running mid-call, revoked Proxies, huge slice steps and the
 * copy pool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { MessageChannel } from 'node:worker_threads';

import {
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  constants,
  MADV_NORMAL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  Mmap,
  PAGESIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { ROWS } from './fixtures/hostile.js';
import {
  findPython,
  fixture,
  makeFile,
  openFd,
  runFixture,
  runtime,
  scratchDir,
  onWindows,
  skipIf,
  WINDOWS,
} from './helpers.js';

const dir = scratchDir();

describe('prot bits infer the access as CPython 3.13 does', skipIf(onWindows, WINDOWS.flags), () => {
  // CPython 3.13: (prot & PROT_READ) && (prot & PROT_WRITE) -> ACCESS_DEFAULT,
  // else prot & PROT_WRITE -> ACCESS_WRITE, else ACCESS_READ.
  const expected = (prot: number) =>
    (prot & PROT_READ) !== 0 && (prot & PROT_WRITE) !== 0
      ? ACCESS_DEFAULT
      : (prot & PROT_WRITE) !== 0
        ? ACCESS_WRITE
        : ACCESS_READ;

  /** Maps with `make`; null when the system refuses executable file maps (a noexec mount). */
  function tryMap(make: () => Mmap): Mmap | null {
    try {
      return make();
    } catch (error) {
      if (['EPERM', 'EACCES'].includes((error as { code?: string }).code ?? '')) return null;
      throw error;
    }
  }

  for (let prot = 0; prot <= (PROT_READ | PROT_WRITE | PROT_EXEC); prot++) {
    test(`new Mmap(fd, n, { prot: ${prot} }) is ${['ACCESS_DEFAULT', 'ACCESS_READ', 'ACCESS_WRITE'][expected(prot)]}, and writes reach the file only when writable`, (t) => {
      const path = makeFile(dir, 'abcdef');
      const fd = openFd(path);
      const mm = tryMap(() => new Mmap(fd, 6, { prot }));
      if (mm === null) {
        t.skip('executable file maps are refused here');
        return;
      }
      assert.equal(mm.access, expected(prot));
      if (expected(prot) === ACCESS_READ) {
        assert.throws(() => mm.write('X'), { name: 'TypeError', code: 'ERR_MMAP_READONLY' });
        assert.equal(readFileSync(path, 'utf8'), 'abcdef');
      } else {
        mm.write('X');
        assert.equal(mm.get(0), 0x58, 'memmap reads back what it wrote');
        assert.equal(readFileSync(path, 'utf8'), 'Xbcdef', 'a shared writable map writes through');
      }
      mm.close();
    });
  }

  test(
    'Mmap.open with prot READ|WRITE|EXEC opens the file writable and writes through',
    skipIf(onWindows, WINDOWS.flags),
    (t) => {
      const path = makeFile(dir, 'abcdef');
      const mm = tryMap(() => Mmap.open(path, { prot: PROT_READ | PROT_WRITE | PROT_EXEC }));
      if (mm === null) {
        t.skip('executable file maps are refused here');
        return;
      }
      assert.equal(mm.access, ACCESS_DEFAULT);
      mm.set(1, 0x59);
      assert.equal(readFileSync(path, 'utf8'), 'aYcdef');
      mm.close();
      // WRITE|EXEC without READ is CPython's ACCESS_WRITE: still writable, still write-through.
      const w = tryMap(() => Mmap.open(path, { prot: PROT_WRITE | PROT_EXEC }));
      if (w !== null) {
        assert.equal(w.access, ACCESS_WRITE);
        w.set(2, 0x5a);
        assert.equal(w.get(2), 0x5a);
        assert.equal(readFileSync(path, 'utf8'), 'aYZdef');
        w.close();
      }
    },
  );

  test("the table above is CPython 3.13's (anonymous maps, prot 0..7)", (t) => {
    const python = findPython();
    if (python === null) {
      t.skip('no CPython 3.13 here');
      return;
    }
    const r = spawnSync(
      python[0]!,
      [
        ...python.slice(1),
        '-c',
        'import mmap\nprint([mmap.mmap(-1, 10, prot=p).__repr__().split("access=")[1].split(",")[0] for p in range(8)])',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const names = ['ACCESS_DEFAULT', 'ACCESS_READ', 'ACCESS_WRITE'];
    const ours: string[] = [];
    for (let prot = 0; prot < 8; prot++) {
      const mm = new Mmap(-1, 10, { prot });
      ours.push(names[mm.access]!);
      mm.close();
    }
    assert.equal(r.stdout.trim(), `[${ours.map((n) => `'${n}'`).join(', ')}]`);
  });
});

describe(
  'shared anonymous memory with MAP_ANONYMOUS in flags is the memory file mm.fd',
  skipIf(onWindows, WINDOWS.flags),
  () => {
    for (const [name, flags] of [
      ['MAP_SHARED', MAP_SHARED],
      ['MAP_SHARED | MAP_ANONYMOUS', MAP_SHARED | MAP_ANONYMOUS],
    ] as const) {
      test(`new Mmap(-1, n, { flags: ${name} }): a second map of mm.fd sees writes both ways`, () => {
        const mm = new Mmap(-1, PAGESIZE, { flags });
        assert.ok(mm.fd >= 0);
        const other = new Mmap(mm.fd, 0);
        assert.equal(other.length, PAGESIZE);
        mm.set(5, 0x41);
        assert.equal(other.get(5), 0x41, "the second map sees the first one's write");
        other.set(PAGESIZE - 1, 0x42);
        assert.equal(mm.get(PAGESIZE - 1), 0x42, "the first map sees the second one's write");
        other.close();
        mm.close();
      });

      test(`new Mmap(-1, n, { flags: ${name} }) grows, and its tail reads and writes`, () => {
        const mm = new Mmap(-1, PAGESIZE, { flags });
        mm.set(7, 0x43);
        mm.resize(4 * PAGESIZE);
        assert.equal(mm.get(7), 0x43, 'the head is kept');
        assert.equal(mm.get(3 * PAGESIZE + 9), 0, 'the tail reads as zeros');
        mm.seek(3 * PAGESIZE);
        mm.write('tail');
        assert.equal(mm.slice(3 * PAGESIZE, 3 * PAGESIZE + 4).toString(), 'tail');
        assert.equal(mm.faulted, false);
        const other = new Mmap(mm.fd, 0);
        assert.equal(other.length, 4 * PAGESIZE);
        assert.equal(other.slice(3 * PAGESIZE, 3 * PAGESIZE + 4).toString(), 'tail', 'the write reached mm.fd');
        other.close();
        mm.close();
      });
    }
  },
);

describe('madvise passes on only advice that cannot make the map fault', skipIf(onWindows, WINDOWS.madvise), () => {
  // Linux's values: MADV_HWPOISON 100 and MADV_SOFT_OFFLINE 101 poison or take away pages
  // (SIGBUS), MADV_GUARD_INSTALL 102 (6.13+) turns pages into guards (SIGSEGV).
  const refused = [100, 101, 102, 103, -1, 5, 6, 7, 26, 99, 104, 2 ** 31 - 1, -(2 ** 31)];
  const accepted = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];

  function runAdvice(values: number[]) {
    const child = runFixture('advice', values.map(String));
    assert.equal(child.signal, null, `the child was killed by ${child.signal}\n${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as Array<{
      advice: number;
      map: string;
      error: { name: string; code: unknown; message: string } | null;
      intact: boolean;
    }>;
  }

  test('HWPOISON, SOFT_OFFLINE, GUARD_INSTALL, GUARD_REMOVE and unknown advice: RangeError ERR_INVALID_ARG_VALUE, map untouched (child process)', () => {
    const results = runAdvice(refused);
    assert.equal(results.length, refused.length * 2);
    for (const r of results) {
      assert.deepEqual(
        [r.advice, r.map, r.error?.name, r.error?.code, r.intact],
        [r.advice, r.map, 'RangeError', 'ERR_INVALID_ARG_VALUE', true],
        JSON.stringify(r),
      );
    }
  });

  test("the allowed advice reaches the kernel: it succeeds or fails with the kernel's errno, never a RangeError (child process)", () => {
    const results = runAdvice(accepted);
    assert.equal(results.length, accepted.length * 2);
    for (const r of results) {
      if (r.error !== null) {
        // e.g. MADV_FREE of shared memory, MADV_REMOVE of private memory: EINVAL from the kernel.
        assert.equal(r.error.name, 'Error', JSON.stringify(r));
        assert.match(String(r.error.code), /^E[A-Z]+$/, JSON.stringify(r));
      }
      // Advice that discards pages (DONTNEED, FREE, REMOVE, PAGEOUT, ...) may zero private or
      // removed pages: only the absence of a signal is required of those.
      if ([0, 1, 2, 3, 10, 11, 16, 17, 18, 19, 22].includes(r.advice)) assert.equal(r.intact, true, JSON.stringify(r));
    }
  });

  test('every MADV_* constant memmap exports but MADV_HWPOISON and MADV_SOFT_OFFLINE is in the allowed list', () => {
    // (Those two are refused: the child-process test above gives them to madvise.)
    const mm = new Mmap(-1, PAGESIZE, { flags: MAP_PRIVATE });
    const names = Object.keys(constants).filter((name) => name.startsWith('MADV_'));
    assert.ok(names.length >= 15, names.join());
    for (const name of names) {
      const value = constants[name]!;
      if (name === 'MADV_HWPOISON' || name === 'MADV_SOFT_OFFLINE') {
        assert.ok(refused.includes(value), name);
        continue;
      }
      assert.ok(accepted.includes(value), name);
      let code: unknown = null;
      try {
        mm.madvise(value, 0, PAGESIZE);
      } catch (error) {
        code = (error as { code?: unknown }).code;
      }
      assert.notEqual(code, 'ERR_INVALID_ARG_VALUE', name);
    }
    mm.close();
  });

  test("range errors keep CPython's messages and come before the advice check, as in CPython", () => {
    using mm = new Mmap(-1, 4 * PAGESIZE);
    for (const advice of [MADV_NORMAL, 102, 12345]) {
      assert.throws(() => mm.madvise(advice, -1), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'madvise start out of bounds',
      });
      assert.throws(() => mm.madvise(advice, 4 * PAGESIZE), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'madvise start out of bounds',
      });
      assert.throws(() => mm.madvise(advice, 0, -1), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'madvise length invalid',
      });
      assert.throws(() => mm.madvise(advice, PAGESIZE, Number.MAX_SAFE_INTEGER - PAGESIZE + 1), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'madvise length too large',
      });
    }
    assert.throws(() => mm.madvise(12345, 0, PAGESIZE), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => mm.madvise(1.5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(
      mm.madvise(MADV_NORMAL, PAGESIZE, Number.MAX_SAFE_INTEGER - PAGESIZE),
      undefined,
      'the largest length is clamped',
    );
  });
});

describe('slice steps beyond 2^53 are clamped, as CPython clamps them to sys.maxsize', () => {
  const steps = [
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    2 ** 100,
    Number.MAX_VALUE,
    -(2 ** 53),
    -(2 ** 63),
    -(2 ** 100),
    -Number.MAX_VALUE,
  ];
  const ranges: Array<[number | null, number | null]> = [
    [null, null],
    [5, 50],
    [50, 5],
    [-3, null],
    [null, -3],
    [99, 100],
    [0, 0],
  ];

  test('slice() and setSlice() select what the step ±(2^53 - 1) selects', () => {
    using mm = new Mmap(-1, 100);
    for (let i = 0; i < 100; i++) mm.set(i, i);
    for (const step of steps) {
      const same = step > 0 ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
      for (const [a, b] of ranges) {
        const got = mm.slice(a, b, step);
        assert.deepEqual(got, mm.slice(a, b, same), `slice(${a}, ${b}, ${step})`);
        assert.ok(got.length <= 1);
        const before = mm.slice();
        mm.setSlice(a, b, Buffer.alloc(got.length, 0xff), step);
        const expected = Buffer.from(before);
        if (got.length === 1) expected[got[0]!] = 0xff;
        assert.deepEqual(mm.slice(), expected, `setSlice(${a}, ${b}, ..., ${step})`);
        mm.setSlice(null, null, before);
      }
    }
    assert.throws(() => mm.slice(0, 10, 2.5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.slice(0, 10, Infinity), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.slice(0, 10, 0), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'slice step cannot be zero',
    });
  });

  test("the results are CPython 3.13's", (t) => {
    const python = findPython();
    if (python === null) {
      t.skip('no CPython 3.13 here');
      return;
    }
    const py = (n: number | null) => (n === null ? 'None' : BigInt(n).toString());
    const cases = steps.flatMap((step) => ranges.map(([a, b]) => `list(m[${py(a)}:${py(b)}:${py(step)}])`));
    const r = spawnSync(
      python[0]!,
      [
        ...python.slice(1),
        '-c',
        `import mmap\nm = mmap.mmap(-1, 100)\nm[:] = bytes(range(100))\nprint([${cases.join(', ')}])`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    using mm = new Mmap(-1, 100);
    for (let i = 0; i < 100; i++) mm.set(i, i);
    const ours = steps.flatMap((step) => ranges.map(([a, b]) => [...mm.slice(a, b, step)]));
    assert.equal(r.stdout.trim(), JSON.stringify(ours).replaceAll(',', ', '));
  });
});

describe('a failed grow of a map of part of a larger file loses nothing', () => {
  test('mremap fails (ENOMEM under ulimit -v): file bytes, file size, map length, bytes and position unchanged (child process)', (t) => {
    if (process.env.MEMMAP_ASAN) {
      t.skip('the AddressSanitizer runtime cannot start under an address-space limit');
      return;
    }
    const limit = 'ulimit -v 4194304'; // 4 GiB of address space: a 16 GiB map cannot fit
    const run = (args: string[]) =>
      spawnSync('sh', ['-c', `${limit} || exit 99; exec "$0" "$@"`, process.execPath, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    if (run(['-e', '0']).status !== 0) {
      t.skip(`node cannot run under ${limit} here`);
      return;
    }
    const sub = join(dir, 'resize-keep');
    mkdirSync(sub);
    // A 4 KiB map of a 32 GiB (sparse) file grown to 16 GiB.
    const r = run([fixture('resize-keep'), sub, String(32 * 2 ** 30), String(16 * 2 ** 30)]);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as Array<{
      name: string;
      error: { name: string; code: string; syscall: string } | null;
      before: unknown;
      after: unknown;
      fits: boolean;
    }>;
    assert.deepEqual(
      results.map((x) => x.name),
      ['shared', 'shared-offset', 'private', 'shared-view', 'private-view', 'anonymous-private-view'],
    );
    for (const x of results) {
      assert.deepEqual(x.error, { name: 'Error', code: 'ENOMEM', syscall: 'mremap' }, x.name);
      assert.deepEqual(x.after, x.before, `${x.name}: file size, file bytes, map length, map bytes and position`);
      assert.equal(x.fits, true, `${x.name}: a grow that fits still works and leaves the file at offset + newSize`);
    }
  });
});

describe("copies share a pool that a caller cannot break by transferring a result's buffer", () => {
  const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
  const routes: Array<[string, (ab: ArrayBuffer) => void]> = [
    ['structuredClone(r.buffer, { transfer: [r.buffer] })', (ab) => structuredClone(ab, { transfer: [ab] })],
    [
      'port.postMessage(r, [r.buffer])',
      (ab) => {
        const { port1, port2 } = new MessageChannel();
        try {
          port1.postMessage(new Uint8Array(ab), [ab]);
        } finally {
          port1.close();
          port2.close();
        }
      },
    ],
  ];
  if (hasTransfer)
    routes.push(['r.buffer.transfer()', (ab) => (ab as ArrayBuffer & { transfer(): ArrayBuffer }).transfer()]);

  const first = 'first line, long enough that its copy comes from the pool (over 64 bytes)\n';
  const second = 'second line, another pooled copy of more than 64 bytes, and the rest\n';
  for (const [how, transfer] of routes) {
    test(`${how}: later small reads, readLine and slice still work, and kept results keep their bytes where the runtime allows`, () => {
      using mm = new Mmap(-1, PAGESIZE);
      mm.write(first + second + 'third\n');
      mm.seek(0);
      const kept = mm.readLine();
      const r = mm.read(66);
      assert.equal(kept.toString(), first);
      assert.equal(r.toString(), second.slice(0, 66));
      let threw = false;
      try {
        transfer(r.buffer as ArrayBuffer);
      } catch {
        threw = true; // the pool is untransferable (Node 24+ throws)
      }
      // Later copies are made, and are right, whatever happened to the old pool.
      assert.equal(mm.read(second.length - 66).toString(), second.slice(66));
      assert.equal(mm.readLine().toString(), 'third\n');
      assert.equal(mm.slice(0, 70).toString(), first.slice(0, 70));
      assert.equal(mm.slice(0, 5, 2).toString(), 'frt');
      mm.seek(0);
      assert.equal(mm.read(70).toString(), first.slice(0, 70));
      if (threw || !how.endsWith('transfer()')) {
        // Transfer lists copy an untransferable buffer (Node 20) or refuse it (Node 22+):
        // results made before are untouched. Where marking cannot stop a transfer list (Bun),
        // results are not pooled: the transferred one moved, every other result kept its bytes.
        assert.equal(kept.toString(), first);
        if (runtime !== 'bun') assert.equal(r.toString(), second.slice(0, 66));
      }
    });

    test(`${how}: a copy of at most 64 bytes owns its buffer, so transferring it moves only that copy`, () => {
      using mm = new Mmap(-1, PAGESIZE);
      mm.write('first line\nsecond line\nthird\n');
      mm.seek(0);
      const kept = mm.readLine();
      const r = mm.read(6);
      const s = mm.slice(0, 5);
      assert.equal(r.toString(), 'second');
      assert.equal(r.buffer.byteLength, 6); // its own, not a pool
      transfer(r.buffer as ArrayBuffer);
      // Moved (its view is now empty) or, where the runtime copies, unchanged: either way no
      // other copy, and no later call, is touched.
      assert.ok(r.length === 0 || r.toString() === 'second');
      assert.equal(kept.toString(), 'first line\n');
      assert.equal(s.toString(), 'first');
      assert.equal(mm.read(6).toString(), ' line\n');
      assert.equal(mm.readLine().toString(), 'third\n');
    });
  }

  test('view() of length 0 is a Buffer of its own each time: transferring one breaks no other', () => {
    using mm = new Mmap(-1, PAGESIZE);
    const a = mm.view(0, 0);
    const b = mm.view(PAGESIZE, 0);
    assert.equal(a.length, 0);
    assert.ok(Buffer.isBuffer(a));
    assert.notEqual(a.buffer, b.buffer);
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    assert.equal(mm.view(5, 0).length, 0);
    assert.equal(mm.view(0, 0).length, 0);
    assert.equal(b.length, 0);
  });
});

describe('a revoked Proxy anywhere gives a coded error', () => {
  function revoked(): object {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  }

  /** How a call ended: 'returned', or the error's class and code. */
  async function outcome(call: () => unknown): Promise<string> {
    try {
      let r = call();
      if (r instanceof Promise) r = await r;
      if (r !== null && typeof r === 'object' && Symbol.iterator in r && typeof (r as Generator).next === 'function') {
        [...(r as Iterable<unknown>)];
      }
      return 'returned';
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      const kind =
        error instanceof Error && [Error, TypeError, RangeError].includes(error.constructor as ErrorConstructor)
          ? error.constructor.name
          : `a non-standard ${typeof error} ${String(error)}`;
      return typeof code === 'string' ? `${kind} ${code}` : `${kind} without a code: ${String(error)}`;
    }
  }

  const coded = /^(Error|TypeError|RangeError) [A-Z][A-Z_0-9]+$/;

  test('as every argument of every method, and as `this` of every method and getter', async () => {
    const bad: string[] = [];
    const path = makeFile(dir, Buffer.alloc(64, 0x61));
    // Every argument of every method, from the hostile-input table's rows.
    for (const row of ROWS) {
      for (let slot = 0; slot < row.base.length; slot++) {
        const mm = Mmap.open(path, { access: ACCESS_WRITE });
        mm.seek(3);
        const before = readFileSync(path);
        const args = [...row.base];
        args[slot] = revoked();
        const got = await outcome(() => row.call(mm, args));
        if (!coded.test(got)) bad.push(`${row.name}(arg ${slot}): ${got}`);
        else if (!readFileSync(path).equals(before) || mm.closed || mm.tell() !== 3)
          bad.push(`${row.name}(arg ${slot}): the map changed`);
        mm.close();
      }
    }
    // Methods the table calls without arguments, and methods outside it.
    using mm = new Mmap(-1, 64);
    const extra: Array<[string, () => unknown]> = [
      [
        '[inspect.custom](depth, options)',
        () => (mm as unknown as Record<symbol, Function>)[inspect.custom]!.call(mm, revoked(), revoked()),
      ],
      [
        '[inspect.custom](depth, options) closed',
        () => {
          const c = new Mmap(-1, 8);
          c.close();
          return (c as unknown as Record<symbol, Function>)[inspect.custom]!.call(c, 0, revoked());
        },
      ],
    ];
    for (const [name, call] of extra) {
      const got = await outcome(call);
      if (got !== 'returned' && !coded.test(got)) bad.push(`${name}: ${got}`);
    }
    // `this`: every method, getter and symbol-keyed member of the prototype.
    for (const key of Reflect.ownKeys(Mmap.prototype)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(Mmap.prototype, key)!;
      const f = (d.get ?? d.value) as Function;
      if (typeof f !== 'function') continue;
      const got = await outcome(() => f.call(revoked(), 0, 1, 2));
      // seekable() is always true and the toStringTag getter always 'Mmap' (no state is read).
      if (got === 'returned' && (key === 'seekable' || key === Symbol.toStringTag)) continue;
      if (got !== 'TypeError ERR_INVALID_THIS') bad.push(`this of ${String(key)}: ${got}`);
    }
    assert.deepEqual(bad, []);
  });

  test('as every argument and every option of the constructor and Mmap.open', async () => {
    const bad: string[] = [];
    const path = makeFile(dir, Buffer.alloc(64, 0x62));
    const fd = openFd(path);
    const optionNames = ['flags', 'prot', 'access', 'offset', 'trackfd'];
    const openNames = [...optionNames, 'length', 'create', 'mode'];
    const cases: Array<[string, () => unknown]> = [
      ['new Mmap(P, 64)', () => new Mmap(revoked() as never, 64)],
      ['new Mmap(fd, P)', () => new Mmap(fd, revoked() as never)],
      ['new Mmap(fd, 64, P)', () => new Mmap(fd, 64, revoked() as never)],
      ...optionNames.map((name): [string, () => unknown] => [
        `new Mmap(fd, 64, { ${name}: P })`,
        () => new Mmap(fd, 64, { [name]: revoked() }),
      ]),
      ['Mmap.open(P)', () => Mmap.open(revoked() as never)],
      ['Mmap.open(path, P)', () => Mmap.open(path, revoked() as never)],
      ...openNames.map((name): [string, () => unknown] => [
        `Mmap.open(path, { ${name}: P })`,
        () => Mmap.open(path, { [name]: revoked() }),
      ]),
      ...openNames.map((name): [string, () => unknown] => [
        `Mmap.open(new path, { create: true, access: ACCESS_WRITE, length: 8, ${name}: P })`,
        () =>
          Mmap.open(join(dir, `created-${name}.bin`), {
            create: true,
            access: ACCESS_WRITE,
            length: 8,
            [name]: revoked(),
          }),
      ]),
    ];
    for (const [name, call] of cases) {
      const got = await outcome(call);
      if (!coded.test(got)) bad.push(`${name}: ${got}`);
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('created-')),
      [],
      'no file was created',
    );
    assert.deepEqual(bad, []);
  });
});

describe('no user code runs in the middle of a call', () => {
  /** A Uint8Array (or Buffer) of `bytes` whose own `constructor` has a Symbol.species that runs
   * `act`, and whose own `length`, `buffer`, `byteOffset`, `byteLength` and `subarray` run it too. */
  function hostile<T extends Uint8Array>(array: T, act: () => void): { array: T; ran: string[] } {
    const ran: string[] = [];
    const run = (what: string) => {
      ran.push(what);
      act();
    };
    const Species = function (this: unknown, ...args: unknown[]) {
      run('Symbol.species');
      return new Uint8Array(...(args as [number]));
    };
    Object.defineProperty(array, 'constructor', { value: { [Symbol.species]: Species } });
    for (const key of ['length', 'buffer', 'byteOffset', 'byteLength'] as const) {
      const intrinsic = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), key)!.get!;
      Object.defineProperty(array, key, {
        get() {
          run(key);
          return intrinsic.call(this);
        },
      });
    }
    for (const key of ['subarray', 'slice', 'set', 'indexOf'] as const) {
      const method = (Uint8Array.prototype as unknown as Record<string, Function>)[key]!;
      Object.defineProperty(array, key, {
        value(...args: unknown[]) {
          run(key);
          return method.apply(this, args);
        },
      });
    }
    return { array, ran };
  }

  const makers: Array<[string, (bytes: number[]) => Uint8Array]> = [
    ['Uint8Array', (bytes) => Uint8Array.from(bytes)],
    ['Buffer', (bytes) => Buffer.from(bytes)],
  ];
  const acts: Array<[string, (mm: Mmap) => void]> = [
    ['resizes the map', (mm) => mm.resize(2 * PAGESIZE)],
    ['closes the map', (mm) => mm.close()],
  ];
  const calls: Array<[string, (mm: Mmap, data: Uint8Array) => unknown, number[]]> = [
    // [name, call, the bytes at 0..8 after a complete call]
    ['setSlice(0, 8, data, 2)', (mm, data) => mm.setSlice(0, 8, data, 2), [1, 0, 2, 0, 3, 0, 4, 0]],
    ['setSlice(0, 4, data)', (mm, data) => mm.setSlice(0, 4, data), [1, 2, 3, 4, 0, 0, 0, 0]],
    ['setSlice(null, null, data, -1) on a 4-byte map', (mm, data) => mm.setSlice(null, null, data, -1), [4, 3, 2, 1]],
    ['write(data)', (mm, data) => mm.write(data), [1, 2, 3, 4, 0, 0, 0, 0]],
    ['find(data)', (mm, data) => mm.find(data), [0, 0, 0, 0, 0, 0, 0, 0]],
    ['rfind(data)', (mm, data) => mm.rfind(data), [0, 0, 0, 0, 0, 0, 0, 0]],
  ];

  for (const windowed of [false, true]) {
    for (const [kind, make] of makers) {
      for (const [actName, act] of acts) {
        test(`${windowed ? 'windowed map' : 'map'}: a ${kind} whose species, getters and methods ${actName} is never called; the call completes`, () => {
          const bad: string[] = [];
          for (const [name, call, expected] of calls) {
            const path = makeFile(dir, Buffer.alloc(name.includes('4-byte') ? 4 : PAGESIZE));
            if (windowed) setWindowLimitForTesting(PAGESIZE / 4);
            let mm: Mmap;
            try {
              mm = Mmap.open(path, { access: ACCESS_WRITE });
            } finally {
              setWindowLimitForTesting(undefined);
            }
            const { array, ran } = hostile(make([1, 2, 3, 4]), () => act(mm));
            let error: unknown = null;
            try {
              call(mm, array);
            } catch (e) {
              error = e;
            }
            if (ran.length > 0) bad.push(`${name}: ran ${ran.join(', ')}`);
            if (error !== null) bad.push(`${name}: threw ${String(error)} (${(error as { code?: unknown }).code})`);
            if (!mm.closed) {
              if (mm.length !== expected.length && expected.length === 4) bad.push(`${name}: length ${mm.length}`);
              const got = [...mm.slice(0, expected.length)];
              if (JSON.stringify(got) !== JSON.stringify(expected)) bad.push(`${name}: bytes ${JSON.stringify(got)}`);
              mm.close();
            } else {
              bad.push(`${name}: the map was closed`);
            }
            const file = [...readFileSync(path).subarray(0, expected.length)];
            if (JSON.stringify(file) !== JSON.stringify(expected))
              bad.push(`${name}: file bytes ${JSON.stringify(file)}`);
          }
          assert.deepEqual(bad, []);
        });
      }
    }
  }

  test("a write of a view of the same windowed map copies as memmove, through views of memmap's own", () => {
    const path = makeFile(dir, Buffer.from(Array.from({ length: 2 * PAGESIZE }, (_, i) => i & 0xff)));
    setWindowLimitForTesting(PAGESIZE / 2);
    let mm: Mmap;
    try {
      mm = Mmap.open(path, { access: ACCESS_WRITE });
    } finally {
      setWindowLimitForTesting(undefined);
    }
    const expected = Buffer.from(readFileSync(path));
    expected.copyWithin(100, 50, 50 + PAGESIZE);
    const { array, ran } = hostile(mm.view(50, PAGESIZE), () => mm.close());
    mm.seek(100);
    assert.equal(mm.write(array), PAGESIZE);
    assert.deepEqual(ran, []);
    assert.ok(mm.slice().equals(expected));
    mm.close();
  });
});
