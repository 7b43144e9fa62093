/**
 * Python's second mmap example, in Node terms: anonymous memory written by a parent and read
 * by a child process. Python forks; Node spawns, so the parent hands the child the map's
 * memory-file descriptor (`mm.fd`) as the child's descriptor 3.
 *
 *   node dist/examples/share.js
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Mmap } from '../src/index.js';

/** Runs the parent side; resolves once the child has printed what it read. */
export function share(): Promise<void> {
  const mm = new Mmap(-1, 13);
  mm.write('Hello world!');

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child'], {
    stdio: ['inherit', 'inherit', 'inherit', mm.fd],
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      mm.close();
      if (code === 0) resolve();
      else reject(new Error(`child ended with ${signal ?? `code ${code}`}`));
    });
  });
}

/** The child: map the memory the parent passed as descriptor 3 and print what it holds. */
function child(): void {
  using mm = new Mmap(3, 13);
  mm.seek(0);
  console.log(mm.readLine().toString('utf8').replace(/\0+$/, '')); // prints "Hello world!"
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (process.argv[2] === 'child') child();
  else await share();
}
