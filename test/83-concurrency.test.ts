/**
 * Load across processes: 8 processes share one map (a file, or a memory file passed by
 * descriptor) and hammer it at the same time. Nothing may be lost or torn.
 */
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ACCESS_WRITE, Mmap, PAGESIZE } from '../src/index.js';
import { fixture, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';
import { ADDS, PASSES, PER_REGION, RECORD, REGIONS_AT, regionRecord } from './fixtures/crash-load.js';

const dir = scratchDir();
const PROCS = 8;

function runAll(args: (i: number) => string[], fd?: number) {
  const stdio: StdioOptions = fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', fd];
  return Promise.all(
    Array.from(
      { length: PROCS },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [fixture('crash-load'), ...args(i)], { stdio });
          let out = '';
          let err = '';
          child.stdout!.on('data', (d) => {
            out += d;
          });
          child.stderr!.on('data', (d) => {
            err += d;
          });
          child.on('error', reject);
          child.on('close', (status, signal) => {
            try {
              assert.equal(signal, null, `process ${i} died of ${signal}: ${err}`);
              assert.equal(status, 0, `process ${i} failed (2: the barrier timed out): ${err}`);
              assert.equal(out, 'ok\n');
              resolve();
            } catch (e) {
              reject(e);
            }
          });
        }),
    ),
  );
}

test(`${PROCS} processes x ${ADDS} Atomics.add on one counter in a shared file map total exactly ${PROCS * ADDS}`, async () => {
  const file = join(dir, 'counter.bin');
  writeFileSync(file, Buffer.alloc(PAGESIZE));
  await runAll(() => ['counter', file, String(PROCS)]);
  const bytes = readFileSync(file);
  assert.equal(bytes.readInt32LE(0), PROCS * ADDS);
  assert.equal(bytes.readInt32LE(4), PROCS); // everyone passed the barrier
});

test(
  `${PROCS} processes x ${ADDS} Atomics.add on a shared anonymous map passed by descriptor`,
  skipIf(onWindows, WINDOWS.memoryFile),
  async () => {
    using mm = new Mmap(-1, PAGESIZE);
    const words = new Int32Array(mm.view().buffer, mm.view().byteOffset, 2);
    await runAll(() => ['counter', 'fd', String(PROCS)], mm.fd);
    assert.equal(Atomics.load(words, 0), PROCS * ADDS);
    assert.equal(Atomics.load(words, 1), PROCS);
  },
);

function checkRegions(bytes: Buffer): void {
  let checked = 0;
  for (let k = 0; k < PROCS; k++) {
    for (let seq = 0; seq < PER_REGION; seq++) {
      const at = REGIONS_AT + (k * PER_REGION + seq) * RECORD;
      const got = bytes.subarray(at, at + RECORD);
      if (!got.equals(regionRecord(k, seq, PASSES - 1))) {
        assert.fail(
          `region ${k} record ${seq}: ${got.toString('hex')} (k=${got.readUInt32LE(0)} seq=${got.readUInt32LE(4)} pass=${got.readUInt32LE(8)})`,
        );
      }
      checked++;
    }
  }
  assert.equal(checked, PROCS * PER_REGION);
  assert.ok(
    bytes.subarray(REGIONS_AT + PROCS * PER_REGION * RECORD).every((b) => b === 0),
    'bytes past the regions',
  );
}

const MAP_SIZE = REGIONS_AT + PROCS * PER_REGION * RECORD + PAGESIZE;

test(`${PROCS} processes write disjoint regions of a shared file map: every record whole`, async () => {
  const file = join(dir, 'regions.bin');
  writeFileSync(file, Buffer.alloc(MAP_SIZE));
  await runAll((i) => ['regions', file, String(PROCS), String(i)]);
  checkRegions(readFileSync(file));
});

test(
  `${PROCS} processes write disjoint regions of a shared anonymous map passed by descriptor`,
  skipIf(onWindows, WINDOWS.memoryFile),
  async () => {
    using mm = new Mmap(-1, MAP_SIZE);
    await runAll((i) => ['regions', 'fd', String(PROCS), String(i)], mm.fd);
    checkRegions(mm.slice());
    // The same bytes through a second, independent map of the memory file.
    using again = new Mmap(mm.fd, 0, { access: ACCESS_WRITE });
    checkRegions(again.slice());
  },
);
