// npm's `install` hook. Where the package ships a binary for this platform (prebuilds/, loaded
// by node-gyp-build) it does nothing, so no compiler is needed and a package manager that
// blocks install scripts (pnpm, Bun, --ignore-scripts) loses nothing. Elsewhere it builds the
// addon from source with node-gyp, saying so, or names what to install when it cannot.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function platform() {
  const libc =
    process.platform !== 'linux' ? '' : process.report?.getReport().header.glibcVersionRuntime ? '-glibc' : '-musl';
  return `${process.platform}-${process.arch}${libc}`;
}

// A git checkout (a developer's) always uses its own build of native/, never a prebuild.
const checkout = existsSync(join(root, '.git'));
const fromSource = process.env.npm_config_build_from_source === 'true';
if (checkout ? existsSync(join(root, 'build', 'Release', 'memmap.node')) : !fromSource && hasBinary()) process.exit(0);

function hasBinary() {
  try {
    require('node-gyp-build').resolve(root);
    return true;
  } catch {
    return false;
  }
}

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (process.platform !== 'win32') {
  const missing = [
    [process.env.CC || 'cc', 'C compiler'],
    ['make', 'make'],
    ['python3', 'python3'],
  ]
    .filter(([cmd]) => !which(cmd))
    .map(([, what]) => what);
  if (missing.length > 0) {
    const hint = platform().endsWith('-musl')
      ? 'apk add build-base python3'
      : process.platform === 'linux'
        ? "apt-get install -y build-essential python3, or your distribution's equivalent"
        : 'xcode-select --install';
    console.error(
      `memmap: no prebuilt binary for ${platform()}, and no ${missing.join(', ')} to build one from source: install them (${hint}), then install memmap again`,
    );
    process.exit(1);
  }
}
if (!checkout) {
  console.error(
    `memmap: ${fromSource ? 'building from source (--build-from-source)' : `no prebuilt binary for ${platform()}; building from source`} with node-gyp`,
  );
}

// npm passes its own node-gyp; otherwise use an installed one.
let nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp) {
  try {
    const pkg = require.resolve('node-gyp/package.json');
    nodeGyp = join(pkg, '..', require(pkg).bin['node-gyp']);
  } catch {
    nodeGyp = undefined;
  }
}
const result = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
  : spawnSync(process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', ['rebuild'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
if (result.error)
  console.error(`memmap: cannot run node-gyp (${result.error.message}); install it with npm install -g node-gyp`);
process.exit(result.status ?? 1);
