/**
 * Durability: what a writer put in a shared map survives the writer being killed, and flush()
 * writes dirty pages back to the file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';

import { ACCESS_WRITE, MS_ASYNC, Mmap, PAGESIZE } from '../src/index.js';
import { fixture, scratchDir, onWindows, skipIf, WINDOWS } from './helpers.js';
import { MAGIC, RECORD, record } from './fixtures/crash-writer.js';

const dir = scratchDir();

/** Runs the writer, SIGKILLs it once it has reported `killAfter` batches plus a random delay,
 * and returns the last record it reported as written. */
function killWriter(file: string, count: number, killAfter: number, delayMs: number) {
  return new Promise<{ reported: number; signal: NodeJS.Signals | null; finished: boolean }>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('crash-writer'), file, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let reported = -1;
    let batches = 0;
    let finished = false;
    let buffered = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'END') finished = true;
        else reported = Number(line);
        batches++;
      }
      if (!armed && batches >= killAfter) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    // 'close' waits for stdout to drain: every report the child made has been read.
    child.on('close', (_code, signal) => resolve({ reported, signal, finished }));
  });
}

test('records reported as written survive a SIGKILL of the writer at a random moment', async (t) => {
  const count = 1_000_000;
  for (let round = 0; round < 3; round++) {
    const file = join(dir, `records${round}.bin`);
    const killAfter = 1 + Math.floor(Math.random() * 200);
    const delay = Math.floor(Math.random() * 150);
    const { reported, signal, finished } = await killWriter(file, count, killAfter, delay);
    assert.ok(reported >= 0, 'the writer reported nothing');
    assert.ok(signal === 'SIGKILL' || finished, `the writer ended by ${signal} without finishing`);
    const bytes = readFileSync(file);
    assert.equal(bytes.length, count * RECORD);
    let bad = -1;
    for (let i = 0; i <= reported; i++) {
      if (!bytes.subarray(i * RECORD, (i + 1) * RECORD).equals(record(i))) {
        bad = i;
        break;
      }
    }
    assert.equal(bad, -1, `record ${bad} of the ${reported + 1} reported is missing or wrong`);
    // Past the last report: whole records the writer got to, then zeros; nothing torn except
    // possibly the one record being written at the kill.
    let extra = 0;
    for (let i = reported + 1; i < count; i++) {
      const r = bytes.subarray(i * RECORD, (i + 1) * RECORD);
      if (r.readUInt32LE(4) !== MAGIC || r.readUInt32LE(28) !== crc32(r.subarray(0, 28))) break;
      extra++;
    }
    const tail = bytes.subarray((reported + 2 + extra) * RECORD);
    assert.ok(
      tail.every((b) => b === 0),
      'bytes past the last record the writer reached',
    );
    t.diagnostic(
      `round ${round}: killed ${signal ?? 'after finishing'} after ${killAfter} reports + ${delay} ms; ` +
        `${reported + 1} records reported, all present; ${extra} more written but not yet reported`,
    );
  }
});

/** Dirty kB of the mapping of `file` in this process (from /proc/self/smaps). */
function dirtyKb(file: string): number {
  const smaps = readFileSync('/proc/self/smaps', 'utf8');
  let total = 0;
  let found = false;
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (!block.split('\n')[0]!.endsWith(file)) continue;
    found = true;
    for (const m of block.matchAll(/^(?:Shared|Private)_Dirty:\s+(\d+) kB/gm)) total += Number(m[1]);
  }
  assert.ok(found, `no mapping of ${file} in /proc/self/smaps`);
  return total;
}

test(
  'after flush() returns the bytes are in the file and the pages are clean',
  skipIf(onWindows, WINDOWS.procfs),
  () => {
    const file = join(dir, 'flush.bin');
    writeFileSync(file, Buffer.alloc(64 * PAGESIZE));
    using mm = Mmap.open(file, { access: ACCESS_WRITE });
    const data = Buffer.alloc(40 * PAGESIZE);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    mm.setSlice(PAGESIZE, PAGESIZE + data.length, data);
    assert.ok(dirtyKb(file) >= (40 * PAGESIZE) / 1024, 'the written pages are dirty before the flush');
    // MS_ASYNC only schedules the write-back (Linux does nothing); a ranged flush is accepted.
    mm.flush(0, 8 * PAGESIZE, MS_ASYNC);
    mm.flush(PAGESIZE + 5, 10 * PAGESIZE);
    mm.flush();
    assert.equal(dirtyKb(file), 0);
    assert.ok(
      readFileSync(file)
        .subarray(PAGESIZE, PAGESIZE + data.length)
        .equals(data),
    );
  },
);

test(
  'after flushAsync() settles the bytes are in the file and the pages are clean',
  skipIf(onWindows, WINDOWS.procfs),
  async () => {
    const file = join(dir, 'flush-async.bin');
    writeFileSync(file, Buffer.alloc(16 * PAGESIZE));
    // A map at an offset: its first page is file page 4.
    using mm = Mmap.open(file, { access: ACCESS_WRITE, offset: 4 * PAGESIZE, length: 8 * PAGESIZE });
    mm.view().fill(0x77);
    assert.equal(dirtyKb(file), (8 * PAGESIZE) / 1024);
    await mm.flushAsync();
    assert.equal(dirtyKb(file), 0);
    const bytes = readFileSync(file);
    assert.ok(bytes.subarray(4 * PAGESIZE, 12 * PAGESIZE).every((b) => b === 0x77));
    assert.ok(bytes.subarray(0, 4 * PAGESIZE).every((b) => b === 0));
    assert.ok(bytes.subarray(12 * PAGESIZE).every((b) => b === 0));
  },
);
