/**
 * Open a NumPy `.npy` file and get its data as a typed array over the mapped file: no copy, so
 * a file larger than memory (or than fs.readFile's 2 GiB) works the same.
 *
 *   node dist/examples/npy.js FILE.npy        prints the dtype, shape and first values
 *   node dist/examples/npy.js                 (writes a small .npy itself and reads it back)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Mmap, ACCESS_READ } from '../src/index.js';

type Typed =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** NumPy's dtype strings (little-endian or byte-sized) and the typed array for each. */
const DTYPES: Record<string, new (b: ArrayBufferLike, o: number, n: number) => Typed> = {
  '|i1': Int8Array,
  '|u1': Uint8Array,
  '|b1': Uint8Array,
  '<i2': Int16Array,
  '<u2': Uint16Array,
  '<i4': Int32Array,
  '<u4': Uint32Array,
  '<f4': Float32Array,
  '<f8': Float64Array,
  '<i8': BigInt64Array,
  '<u8': BigUint64Array,
};

export interface Npy {
  /** The data, a view of the map (it reads zeros once `mm` is closed). */
  data: Typed;
  dtype: string;
  shape: number[];
  fortranOrder: boolean;
  /** The map; close it (or `using`) when done with `data`. */
  mm: Mmap;
}

/** Maps a `.npy` file and returns a typed view of its data. */
export function openNpy(path: string): Npy {
  const mm = Mmap.open(path, { access: ACCESS_READ });
  try {
    // Magic "\x93NUMPY", major and minor version, header length (2 bytes in v1, 4 in v2/v3).
    if (mm.slice(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
    const major = mm.get(6);
    const lengthBytes = major === 1 ? 2 : 4;
    const header = mm.view(DataView, 8, lengthBytes);
    const headerLength = lengthBytes === 2 ? header.getUint16(0, true) : header.getUint32(0, true);
    const dataStart = 8 + lengthBytes + headerLength;
    // The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
    const dict = mm.slice(8 + lengthBytes, dataStart).toString('latin1');
    const dtype = /'descr':\s*'([^']+)'/.exec(dict)?.[1] ?? '';
    const fortranOrder = /'fortran_order':\s*True/.test(dict);
    const shape = (/'shape':\s*\(([^)]*)\)/.exec(dict)?.[1] ?? '')
      .split(',')
      .filter((x) => x.trim())
      .map(Number);
    const Type = DTYPES[dtype.replace(/^=/, '<')];
    if (Type === undefined)
      throw new Error(`${path}: dtype ${dtype} has no typed array here (big-endian, or not a number)`);
    const count = shape.reduce((a, b) => a * b, 1);
    // view() checks alignment and bounds: a typed view is never a silent copy.
    const data = mm.view(Type as unknown as Float64ArrayConstructor, dataStart, count) as unknown as Typed;
    return { data, dtype, shape, fortranOrder, mm };
  } catch (error) {
    mm.close();
    throw error;
  }
}

/** Writes a small float64 .npy (format 1.0, as numpy.save writes it) and reads it back. */
export function npyDemo(path?: string): void {
  let dir: string | undefined;
  if (path === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'memmap-npy-'));
    path = join(dir, 'a.npy');
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    dict = dict.padEnd(128 - 10 - 1) + '\n'; // data starts at a multiple of 64, as numpy writes it
    const values = new Float64Array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    const head = Buffer.alloc(10);
    head.write('\x93NUMPY', 'latin1');
    head[6] = 1;
    head.writeUInt16LE(dict.length, 8);
    writeFileSync(path, Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(values.buffer)]));
  }
  try {
    const npy = openNpy(path);
    using _mm = npy.mm;
    const first = Array.from(npy.data.subarray(0, 6) as ArrayLike<number | bigint>, Number);
    console.log(
      `${path.endsWith('a.npy') && dir ? 'a.npy' : path}: dtype ${npy.dtype}, shape (${npy.shape.join(', ')}), ` +
        `${npy.data.constructor.name} of ${npy.data.length}, first values ${first.join(', ')}`,
    );
  } finally {
    // On Windows a file stays mapped (and cannot be deleted) until the garbage collector frees
    // the last typed view over it: leave it in the temporary directory then.
    if (dir !== undefined)
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* Windows */
      }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) npyDemo(process.argv[2]);
