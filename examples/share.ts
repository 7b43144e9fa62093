/**
 * Python's second mmap example, in Node terms: anonymous memory written by a parent and read
 * by a child process. Python forks; Node spawns, so the parent hands the child the map's
 * memory-file descriptor (`mm.fd`) as the child's descriptor 3; on Windows, where anonymous
 * memory has no descriptor, the two map the same `tagname` instead.
 *
 *   node dist/examples/share.js
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { HAS_TAGNAME, Mmap } from '../src/index.js';

/** Runs the parent side; resolves once the child has printed what it read. */
export function share(): Promise<void> {
  const tagname = HAS_TAGNAME ? `memmap-share-${process.pid}` : null;
  const mm = new Mmap(-1, 13, { tagname });
  mm.write('Hello world!');

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', tagname ?? ''], {
    stdio: ['inherit', 'inherit', 'inherit', tagname === null ? mm.fd : 'ignore'],
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

/** The child: map the memory the parent passed as descriptor 3 (or named) and print what it
 * holds. */
function child(tagname: string): void {
  using mm = tagname === '' ? new Mmap(3, 13) : new Mmap(-1, 13, { tagname });
  mm.seek(0);
  console.log(mm.readLine().toString('utf8').replace(/\0+$/, '')); // prints "Hello world!"
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === 'child') child(process.argv[3] ?? '');
  else await share();
}
