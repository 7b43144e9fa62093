/**
 * A mutex shared by processes, in a few lines: a 32-bit word of a shared map (0 free, 1 held,
 * 2 held with sleepers), Atomics to take it and mm.wait()/mm.notify() to sleep and wake across
 * processes (Ulrich Drepper's "Futexes Are Tricky", mutex 2).
 *
 *   node dist/examples/mutex.js           four processes add to a counter under the lock
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ACCESS_WRITE, Mmap } from '../src/index.js';

/** Takes the mutex at `byteOffset`; returns how many times it slept. */
export function lock(mm: Mmap, byteOffset: number): number {
  const word = mm.view(Int32Array, byteOffset, 1);
  let c = Atomics.compareExchange(word, 0, 0, 1);
  let slept = 0;
  if (c === 0) return 0;
  if (c !== 2) c = Atomics.exchange(word, 0, 2);
  while (c !== 0) {
    mm.wait(byteOffset, 2);
    slept++;
    c = Atomics.exchange(word, 0, 2);
  }
  return slept;
}

/** Releases it, waking one sleeper if there are any. */
export function unlock(mm: Mmap, byteOffset: number): void {
  const word = mm.view(Int32Array, byteOffset, 1);
  if (Atomics.sub(word, 0, 1) !== 1) {
    Atomics.store(word, 0, 0);
    mm.notify(byteOffset, 1);
  }
}

/** Four processes each add 1 to a counter 5000 times under the lock; the total is exact. */
export async function mutexDemo(processes = 4, count = 5000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-mutex-'));
  try {
    const path = join(dir, 'lock');
    using mm = Mmap.open(path, { access: ACCESS_WRITE, length: 4096, create: true });
    const self = fileURLToPath(import.meta.url);
    const children = Array.from({ length: processes }, () =>
      spawn(process.execPath, [self, 'child', path, String(count)], { stdio: 'inherit' }),
    );
    await Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve))));
    console.log(
      `${processes} processes × ${count} increments under the lock: counter = ${mm.view(Int32Array, 8, 1)[0]}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === 'child') {
    using mm = Mmap.open(process.argv[3]!, { access: ACCESS_WRITE });
    const counter = mm.view(Int32Array, 8, 1);
    for (let i = 0, n = Number(process.argv[4]); i < n; i++) {
      lock(mm, 0);
      counter[0] = counter[0]! + 1;
      unlock(mm, 0);
    }
  } else {
    await mutexDemo();
  }
}
