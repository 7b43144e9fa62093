/** `npm start`: runs every example on data it makes itself, in a directory it removes after. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hello } from './hello.js';
import { share } from './share.js';
import { grepDemo, makeSampleLog } from './grep.js';
import { npyDemo } from './npy.js';
import { mutexDemo } from './mutex.js';
import { residencyDemo } from './residency.js';
import { Mmap, constants } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'memmap-examples-'));
try {
  console.log('== hello: map a file, read it, change it in place');
  hello(dir);
  console.log('\n== share: anonymous memory shared with a child process');
  await share();
  console.log('\n== grep: search a 64 MiB log without reading it into memory');
  const log = join(dir, 'sample.log');
  makeSampleLog(log);
  grepDemo('ERROR', log);
  console.log('\n== npy: a NumPy .npy file as a Float64Array over the map, no copy');
  npyDemo();
  console.log('\n== mutex: four processes count under a futex mutex on a shared map');
  // wait()/notify() across processes need an OS call that Windows does not have (ENOTSUP).
  let canWait = true;
  try {
    using probe = new Mmap(-1, 4096);
    probe.notify(0, 1);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOTSUP') throw error;
    canWait = false;
  }
  if (canWait) await mutexDemo();
  else console.log('skipped: this platform has no wait/notify across processes');
  console.log('\n== residency: a tiny vmtouch (evict a file, then load it with prefetch())');
  // It evicts pages with Linux's MADV_PAGEOUT, which Windows' madvise does not have.
  if (constants.PROT_READ !== undefined) await residencyDemo();
  else console.log("skipped: evicting pages needs Linux's MADV_PAGEOUT");
} finally {
  // Windows keeps a file that a not yet collected view maps: it stays in the temporary directory.
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* Windows */
  }
}
