/**
 * mm.view(Type, byteOffset, count): TypedArray and DataView views over a map. They are public
 * views like byte views (same buffers, same lifetime: zeros after close/resize), never copies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { ACCESS_READ, ACCESS_WRITE, Mmap } from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { openNpy } from '../examples/npy.js';
import { findPython, makeFile, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();

const TYPES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

describe('typed views', () => {
  for (const Type of TYPES) {
    test(`${Type.name}: same bytes as the map, both ways, no copy`, () => {
      using mm = new Mmap(-1, 4096);
      const bytes = Buffer.alloc(64);
      for (let i = 0; i < 64; i++) bytes[i] = (i * 37 + 11) & 0xff;
      mm.write(bytes);
      const size = Type.BYTES_PER_ELEMENT;
      const v = mm.view(Type, 8, 4);
      assert.ok(v instanceof Type);
      assert.equal(v.length, 4);
      const model = new Type(bytes.buffer.slice(8, 8 + 4 * size) as ArrayBuffer);
      assert.deepEqual(Array.from(v as ArrayLike<number | bigint>), Array.from(model as ArrayLike<number | bigint>));
      (v as unknown as { [i: number]: number | bigint })[1] = typeof v[0] === 'bigint' ? 5n : 5;
      const expected = new Type(1);
      (expected as unknown as { [i: number]: number | bigint })[0] = typeof v[0] === 'bigint' ? 5n : 5;
      assert.deepEqual(mm.slice(8 + size, 8 + 2 * size), Buffer.from(expected.buffer));
      // count defaults to as many whole elements as fit
      assert.equal(mm.view(Type, 0).length, Math.floor(4096 / size));
      assert.equal(mm.view(Type).length, Math.floor(4096 / size));
      if (size > 1) {
        assert.throws(() => mm.view(Type, 1, 1), { name: 'RangeError', code: 'ERR_MMAP_UNALIGNED' });
        assert.throws(() => mm.view(Type, size + 1), { code: 'ERR_MMAP_UNALIGNED' });
      }
      assert.throws(() => mm.view(Type, 0, 4096 / size + 1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => mm.view(Type, 4096 + size, 0), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => mm.view(Type, -size, 1), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => mm.view(Type, 0, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(mm.view(Type, 4096 - (4096 % size), 0).length, 0);
    });
  }

  test('DataView: byteLength is its count; any offset', () => {
    using mm = new Mmap(-1, 100);
    const dv = mm.view(DataView, 3, 10);
    assert.ok(dv instanceof DataView);
    assert.equal(dv.byteLength, 10);
    dv.setUint32(1, 0xdeadbeef, true);
    assert.deepEqual(mm.slice(4, 8), Buffer.from([0xef, 0xbe, 0xad, 0xde]));
    assert.equal(mm.view(DataView, 3).byteLength, 97);
    assert.throws(() => mm.view(DataView, 3, 98), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('bad types and receivers get coded errors', () => {
    using mm = new Mmap(-1, 64);
    for (const bad of [Array, Buffer, Object, function Float64Array() {}, class extends Float64Array {}]) {
      assert.throws(() => mm.view(bad as unknown as Float64ArrayConstructor, 0, 1), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
    assert.throws(() => (Mmap.prototype.view as Function).call({}, Float64Array, 0, 1), { code: 'ERR_INVALID_THIS' });
    mm.close();
    assert.throws(() => mm.view(Float64Array, 0, 1), { code: 'ERR_MMAP_CLOSED' });
  });

  test(
    'lifetime as byte views: zeros after close() and resize(), length kept',
    skipIf(onWindows, WINDOWS.zeroInPlace),
    () => {
      const path = makeFile(dir, Buffer.alloc(8192, 1));
      const mm = Mmap.open(path, { access: ACCESS_WRITE });
      const a = mm.view(Float64Array, 0, 4);
      const b = mm.view(Int32Array, 4096, 8);
      a[0] = 1.25;
      assert.notEqual(b[0], 0);
      mm.resize(16384);
      assert.equal(a.length, 4);
      assert.equal(a[0], 0, 'a view from before resize() reads zeros');
      assert.equal(mm.view(Float64Array, 0, 1)[0], 1.25, 'the map kept the value');
      const c = mm.view(Uint16Array, 2, 3);
      mm.close();
      assert.deepEqual(Array.from(c), [0, 0, 0]);
      c[0] = 7; // private zero pages now: never reaches the file
      assert.equal(readFileSync(path).readDoubleLE(0), 1.25);
    },
  );

  test('read-only map: a typed view is like its byte views (writes stay in this process)', () => {
    const path = makeFile(dir, Buffer.alloc(4096, 0));
    using mm = Mmap.open(path, { access: ACCESS_READ });
    const v = mm.view(Uint32Array, 0, 4);
    v[0] = 42;
    assert.equal(mm.view(Uint32Array, 0, 1)[0], 42);
    assert.equal(readFileSync(path).readUInt32LE(0), 0, 'the file is unchanged');
  });

  test('windowed map: a typed view inside a window and one across windows', (t) => {
    setWindowLimitForTesting(64 * 1024);
    t.after(() => setWindowLimitForTesting(undefined));
    const data = Buffer.alloc(256 * 1024);
    for (let i = 0; i < data.length / 8; i++) data.writeDoubleLE(i + 0.5, i * 8);
    const path = makeFile(dir, data);
    using mm = Mmap.open(path);
    for (const [at, n] of [
      [0, 10],
      [16 * 1024 - 16, 8],
      [40 * 1024, (20 * 1024) / 8],
      [8, (256 * 1024) / 8 - 1],
    ] as const) {
      const v = mm.view(Float64Array, at, n);
      assert.equal(v.length, n);
      assert.equal(v[0], at / 8 + 0.5);
      assert.equal(v[n - 1], at / 8 + n - 1 + 0.5);
    }
  });
});

describe('examples/npy.ts on a file numpy wrote', () => {
  // The CPython the other tests use, or another one on this machine, that has numpy.
  const found = findPython();
  const python =
    [found, ['env', 'PYENV_VERSION=3.13.0', 'python3'], ['python3']].find(
      (cmd) =>
        cmd !== null && spawnSync(cmd[0]!, [...cmd.slice(1), '-c', 'import numpy'], { encoding: 'utf8' }).status === 0,
    ) ?? null;
  test(
    'float64, int32 and uint8 arrays read back with no copy',
    { skip: python !== null ? false : 'CPython with numpy not found' },
    () => {
      const script = [
        'import numpy as np, sys',
        'd = sys.argv[1]',
        'np.save(d + "/f8.npy", np.arange(12, dtype="<f8").reshape(3, 4) / 4)',
        'np.save(d + "/i4.npy", np.array([-5, 0, 7, 2**31 - 1], dtype="<i4"))',
        'np.save(d + "/u1.npy", np.arange(300, dtype=np.uint16).astype(np.uint8))',
        'np.save(d + "/big.npy", np.zeros(3, dtype=">f8"))',
      ].join('\n');
      const r = spawnSync(python![0]!, [...python!.slice(1), '-c', script, dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      {
        const npy = openNpy(join(dir, 'f8.npy'));
        using _ = npy.mm;
        assert.equal(npy.dtype, '<f8');
        assert.deepEqual(npy.shape, [3, 4]);
        assert.ok(npy.data instanceof Float64Array);
        assert.deepEqual(
          Array.from(npy.data as Float64Array),
          Array.from({ length: 12 }, (_, i) => i / 4),
        );
      }
      {
        const npy = openNpy(join(dir, 'i4.npy'));
        using _ = npy.mm;
        assert.deepEqual(Array.from(npy.data as Int32Array), [-5, 0, 7, 2 ** 31 - 1]);
      }
      {
        const npy = openNpy(join(dir, 'u1.npy'));
        using _ = npy.mm;
        assert.equal(npy.data.length, 300);
        assert.equal(npy.data[299], 299 & 0xff);
      }
      assert.throws(() => openNpy(join(dir, 'big.npy')), /big-endian/);
    },
  );
});
