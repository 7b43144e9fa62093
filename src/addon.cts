/**
 * Loads the native addon with node-gyp-build. A CommonJS file in both builds (the ESM build in
 * dist/src and the CommonJS one in dist/cjs), so that finding the package root needs
 * `__dirname` and no `import.meta`, which CommonJS cannot compile.
 *
 * node-gyp-build takes the binary this checkout compiled into build/ when there is one, and
 * otherwise the one shipped in prebuilds/<platform>-<arch>/ for this platform.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// src/, dist/src/ or dist/cjs/: walk up to the directory holding binding.gyp.
let root = __dirname;
while (!existsSync(join(root, 'binding.gyp'))) {
  const parent = dirname(root);
  if (parent === root) throw new Error('memmap: cannot find the package root (binding.gyp)');
  root = parent;
}

const load = require('node-gyp-build') as (root: string) => unknown;
export = load(root);
