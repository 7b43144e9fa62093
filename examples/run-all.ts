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
  await mutexDemo();
  console.log('\n== residency: a tiny vmtouch (evict a file, then load it with prefetch())');
  await residencyDemo();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
