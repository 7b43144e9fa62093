/**
 * Python's first mmap example, in memmap: map a small file, read it as a file and as bytes,
 * change it in place.
 *
 *   node dist/examples/hello.js [directory]   (default: a new temporary directory)
 */
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Mmap } from '../src/index.js';

export function hello(dir?: string): void {
  // Without a directory, work in a temporary one and remove it afterwards.
  const scratch = dir === undefined ? mkdtempSync(join(tmpdir(), 'memmap-hello-')) : undefined;
  try {
    helloIn(dir ?? scratch!);
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

function helloIn(dir: string): void {
  const path = join(dir, 'hello.txt');
  // write a simple example file
  writeFileSync(path, 'Hello Python!\n');

  const fd = openSync(path, 'r+');
  try {
    // memory-map the file, length 0 means the whole file; `using` closes the map at block end
    using mm = new Mmap(fd, 0);
    // read content via standard file methods
    process.stdout.write(mm.readLine().toString()); // prints "Hello Python!"
    // read content via slice notation
    console.log(mm.slice(undefined, 5).toString()); // prints "Hello"
    // update content using slice notation; note that new content must have the same size
    mm.setSlice(6, undefined, ' world!\n');
    // ... and read again using standard file methods
    mm.seek(0);
    process.stdout.write(mm.readLine().toString()); // prints "Hello  world!"
  } finally {
    closeSync(fd);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) hello(process.argv[2]);
