/** `npm start`: runs every example on data it makes itself. */
import { hello } from './hello.js';
import { share } from './share.js';
import { grepDemo } from './grep.js';
import { npyDemo } from './npy.js';
import { mutexDemo } from './mutex.js';

console.log('== hello: map a file, read it, change it in place');
hello();
console.log('\n== share: anonymous memory shared with a child process');
await share();
console.log('\n== grep: search a 64 MiB log without reading it into memory');
grepDemo();
console.log('\n== npy: a NumPy .npy file as a Float64Array over the map, no copy');
npyDemo();
console.log('\n== mutex: four processes count under a futex mutex on a shared map');
await mutexDemo();
