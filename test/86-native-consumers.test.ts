/**
 * Native code that holds a view across close() or resize(): a pending fs.read or fs.write on the
 * thread pool, zlib, transfer() of the view's ArrayBuffer, and a descriptor handed out as mm.fd
 * that its user closes. Each runs in a child process (test/fixtures/crash-inflight.ts); a crash
 * shows as a signal, and writes to the wrong memory as changed bytes of another file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PAGESIZE } from '../src/index.js';
import { runFixture, scratchDir, skipOn, onWindows, skipIf, WINDOWS } from './helpers.js';

function child(mode: string) {
  const r = runFixture('crash-inflight', [mode, scratchDir()]);
  assert.equal(r.signal, null, `${mode}: the child died of ${r.signal}; stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `${mode}: exit status; stderr: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

test(
  'a pending fs.read into a view lands in reserved zero pages, never in a map made after close()',
  skipIf(onWindows, WINDOWS.zeroInPlace),
  () => {
    assert.deepEqual(child('fs-read-pending'), {
      n: 16 * PAGESIZE,
      victimBytesIntact: true,
      victimFileIntact: true,
      readerFileIntact: true, // close() had released the file: the late read does not reach it
      viewGotTheData: true,
    });
  },
);

test(
  "a pending fs.write from a view sends the map's bytes or zeros, never a map made after close()",
  {
    ...skipIf(onWindows, WINDOWS.zeroInPlace),
    ...skipOn(
      'deno',
      "Deno's asynchronous fs.write to a full pipe blocks the thread that called it (nothing after the call runs), so no write is ever pending across close()",
    ),
  },
  () => {
    assert.deepEqual(child('fs-write-pending'), {
      n: 64 * PAGESIZE,
      total: 64 * PAGESIZE,
      secretLeaked: false,
      onlyMapBytesOrZeros: true,
    });
  },
);

test('zlib.gzip(view) then close(), as at the end of a using block: no crash, no foreign bytes', () => {
  assert.deepEqual(child('zlib-close'), { inflatedLength: 8 << 20, onlyMapBytesOrZeros: true });
});

test(
  'a gzip stream holding views across resize(): no abort, the stream completes',
  skipIf(onWindows, WINDOWS.zeroInPlace),
  () => {
    assert.deepEqual(child('zlib-stream-resize'), {
      inflatedLength: (8 << 20) + (4 << 20),
      resizedLength: 2 << 20,
      mapByte: 0x67,
    });
  },
);

test('crypto.randomFill(view) then close(): what comes after close() lands in reserved zero pages', () => {
  assert.deepEqual(child('crypto-randomfill'), { othersIntact: true, viewLength: 4 << 20 });
});

test("a WriteStream with queued views across close(): the map's bytes or zeros, never a map made after", () => {
  assert.deepEqual(child('write-stream'), { length: 2 << 20, secretLeaked: false, onlyMapBytesOrZeros: true });
});

test(
  "transfer() of a view's ArrayBuffer: refused, or moved with its addresses kept reserved",
  skipIf(onWindows, WINDOWS.zeroInPlace),
  (t) => {
    if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== 'function') {
      t.skip('this runtime has no ArrayBuffer.prototype.transfer');
      return;
    }
    const out = child('transfer');
    // The map's own reads and writes never go through the caller's buffer.
    assert.deepEqual(out.afterMove, { get: 0x78, slice: '7778', newView: 0x78 });
    if (out.refused !== null) {
      assert.equal(out.refused, 'TypeError'); // Node 24+: the view's buffer cannot be detached
    } else {
      assert.equal(out.movedSees, 0x78, 'the moved buffer is still the map while it is open');
      assert.equal(out.movedAfterClose, true, 'and reads zeros after close(), never another map');
    }
  },
);

test(
  'mm.fd closed by a worker and reused by another file: resize() and close() leave that file alone',
  skipOn(
    'deno',
    "Deno's node:fs knows only descriptors Deno opened, so it cannot use mm.fd (EBADF); memmap itself works on it",
  ),
  () => {
    const out = child('fd-reused-by-worker');
    assert.equal(out.first, 0x12);
    assert.equal(out.numberReused, true, 'the fixture reproduces the reuse');
    assert.equal(out.unrelatedSize, 100, 'resize() did not truncate the unrelated file');
    assert.equal(out.unrelatedStillOpen, true, "close() did not close the unrelated file's descriptor");
    assert.equal(out.fileSize, 8 * PAGESIZE, "resize() worked on the map's own file");
    assert.equal(out.newFdHandedOut, true);
  },
);

test(
  'mm.fd closed by a read stream (autoClose): memmap keeps working on its own descriptor',
  skipOn(
    'deno',
    "Deno's node:fs knows only descriptors Deno opened, so it cannot use mm.fd (EBADF); memmap itself works on it",
  ),
  () => {
    assert.deepEqual(child('fd-closed-by-stream'), {
      bytes: 2 * PAGESIZE,
      numberReused: true,
      unrelatedSize: 10,
      unrelatedStillOpen: true,
      againIsTheMap: true,
    });
  },
);

test("structuredClone with a transfer list: the view's buffer is copied, refused, or moved within the thread", async () => {
  const { Mmap } = await import('../src/index.js');
  const mm = new Mmap(-1, 4 * PAGESIZE);
  mm.set(0, 7);
  const view = mm.view();
  let moved: ArrayBuffer | null = null;
  try {
    const clone = structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
    if (view.length === 0) moved = clone as ArrayBuffer; // Deno moves it; Node 20 copies it
  } catch (error) {
    assert.equal((error as Error).name, 'DataCloneError'); // Node 22+, Bun
  }
  if (moved !== null) {
    // Moved within this thread: still the map's memory while the map is open, as transfer() is.
    assert.equal(new Uint8Array(moved)[0], 7);
  } else {
    assert.equal(view.length, 4 * PAGESIZE, 'the view kept its memory');
    view[1] = 9;
  }
  // The map's own methods never use a buffer a caller can reach.
  mm.set(2, 5);
  assert.equal(mm.get(2), 5);
  assert.equal(mm.view()[0], 7);
  mm.close();
  if (moved !== null)
    assert.ok(
      new Uint8Array(moved).every((b) => b === 0),
      'the moved buffer reads zeros after close()',
    );
});

test(
  "postMessage with a transfer list never moves a view's buffer to another thread: it is copied or refused",
  skipOn(
    'deno',
    'Deno moves a buffer marked untransferable, external ones included; memmap keeps its addresses reserved while it lives, but a view moved to another thread must not outlive the thread that made the map (README, Platform support)',
  ),
  async () => {
    const { MessageChannel } = await import('node:worker_threads');
    const { Mmap } = await import('../src/index.js');
    const mm = new Mmap(-1, 4 * PAGESIZE);
    mm.set(0, 7);
    const view = mm.view();
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(view.buffer, [view.buffer as ArrayBuffer]);
    } catch (error) {
      assert.equal((error as Error).name, 'DataCloneError');
    } finally {
      port1.close();
      port2.close();
    }
    assert.equal(view.length, 4 * PAGESIZE, 'the view kept its memory');
    view[1] = 9;
    assert.equal(mm.get(1), 9);
    assert.equal(view[0], 7);
    mm.close();
  },
);
