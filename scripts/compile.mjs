// `npm run compile`: the ESM build (dist/src, with the tests, examples and benchmarks in dist/)
// and the CommonJS build of src/ (dist/cjs), for require() on Node versions that cannot
// require ESM (20.0 to 20.18). Both come from the same sources and carry their own .d.ts.
// (Not named `build`: npm would then run `npm run prebuild`, the cross-build, before it.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsPackage = require.resolve('typescript/package.json');
const tsc = join(dirname(tsPackage), require(tsPackage).bin.tsc);
// The package ships these two folders whole: start them empty, so no stale output ships.
for (const out of ['src', 'cjs']) rmSync(join(root, 'dist', out), { recursive: true, force: true });
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
}
// The package is "type": "module"; this marks dist/cjs/*.js as CommonJS.
mkdirSync(join(root, 'dist', 'cjs'), { recursive: true });
writeFileSync(join(root, 'dist', 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
