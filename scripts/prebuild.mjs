#!/usr/bin/env node
// `npm run prebuild [-- TARGET...]`: cross-builds the Node-API addon for every platform memmap
// ships a binary for, into prebuilds/<platform>-<arch>/, where node-gyp-build finds it.
//
// One Node-API binary serves every Node version, so each target is one gcc call against the
// headers of the `node-api-headers` package: no node-gyp, no python, no download of Node's
// headers. Sources, defines, and compiler and linker flags are read from binding.gyp, so the
// source build (`npm install` on a platform without a binary) and the prebuilds cannot drift.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const headers = dirname(require.resolve('node-api-headers/package.json'));

// Each target: where node-gyp-build looks, the file name (tags it matches on), gyp's OS name,
// the compiler, and the Debian package that provides it.
const TARGETS = {
  'linux-x64': { os: 'linux', file: 'memmap.napi.glibc.node', cc: 'gcc', apt: 'gcc' },
  'linux-arm64': {
    os: 'linux',
    file: 'memmap.napi.glibc.node',
    cc: 'aarch64-linux-gnu-gcc',
    apt: 'gcc-aarch64-linux-gnu',
  },
  'win32-x64': {
    os: 'win',
    file: 'memmap.napi.node',
    cc: 'x86_64-w64-mingw32-gcc',
    apt: 'mingw-w64',
    needs: 'native/windows.c',
  },
};

const fail = (line) => {
  console.error(`prebuild: ${line}`);
  process.exit(1);
};

const requested = process.argv.slice(2);
for (const name of requested)
  if (!(name in TARGETS)) fail(`unknown target ${name}; known: ${Object.keys(TARGETS).join(', ')}`);
const names = requested.length > 0 ? requested : Object.keys(TARGETS);

/** binding.gyp's sources, cflags, defines and ldflags for one gyp OS (its conditions applied). */
function gyp(os) {
  const target = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '')).targets[0];
  const keys = ['sources', 'cflags', 'defines', 'ldflags'];
  const out = Object.fromEntries(keys.map((key) => [key, [...(target[key] ?? [])]]));
  for (const [condition, settings] of target.conditions ?? []) {
    const m = /^OS\s*==\s*'(\w+)'$/.exec(condition.trim());
    if (!m) fail(`binding.gyp condition ${JSON.stringify(condition)} is not understood by this script`);
    if (m[1] !== os) continue;
    for (const key of keys) out[key].push(...(settings[key] ?? []));
  }
  return out;
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

// Check every toolchain first, so a missing one fails before anything is built.
const missing = [];
const skipped = [];
for (const name of names) {
  const t = TARGETS[name];
  if (t.needs && !existsSync(join(root, t.needs))) {
    skipped.push(name);
    continue;
  }
  const tools = t.os === 'win' ? [t.cc, 'x86_64-w64-mingw32-dlltool'] : [t.cc];
  if (!tools.every(onPath)) missing.push(t.apt);
}
if (missing.length > 0) {
  fail(`missing compilers; install them with: apt-get update && apt-get install -y ${[...new Set(missing)].join(' ')}`);
}

for (const name of names) {
  const t = TARGETS[name];
  if (skipped.includes(name)) {
    console.log(`prebuild: ${name} skipped: ${t.needs} does not exist yet (the Windows port)`);
    continue;
  }
  const { sources, cflags, defines, ldflags } = gyp(t.os);
  const outDir = join(root, 'prebuilds', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, t.file);
  const args = [
    '-shared',
    '-s',
    ...cflags,
    ...defines.map((d) => `-D${d}`),
    '-I',
    join(headers, 'include'),
    ...sources.map((s) => join(root, s)),
    ...ldflags,
    '-o',
    out,
  ];
  if (t.os === 'linux') {
    args.unshift('-fPIC');
  } else {
    // Node-API comes from node.exe: link against import libraries made from .def files
    // (../PLATFORMS-style recipe: node-api-headers' node_api.def, and libuv's descriptor lookup).
    const lib = join(root, 'build', 'win32-x64-lib');
    mkdirSync(lib, { recursive: true });
    const uvDef = join(lib, 'uv.def');
    // The libuv functions native/windows.c calls (descriptors in node.exe's C runtime).
    const uv = ['uv_get_osfhandle', 'uv_open_osfhandle', 'uv_default_loop', 'uv_fs_close', 'uv_fs_req_cleanup'];
    writeFileSync(uvDef, `LIBRARY node.exe\nEXPORTS\n${uv.join('\n')}\n`);
    for (const [def, a] of [
      [join(headers, 'def', 'node_api.def'), 'libnode.a'],
      [uvDef, 'libuv.a'],
    ]) {
      execFileSync('x86_64-w64-mingw32-dlltool', ['-d', def, '-l', join(lib, a), '-D', 'node.exe'], {
        stdio: 'inherit',
      });
    }
    args.push(
      '-L',
      lib,
      '-lnode',
      '-luv',
      '-lpsapi',
      '-static-libgcc',
      '-Wl,-Bstatic',
      '-lwinpthread',
      '-Wl,-Bdynamic',
    );
  }
  try {
    execFileSync(t.cc, args, { stdio: 'inherit', cwd: root });
  } catch {
    fail(`${name}: ${t.cc} failed (the command is above)`);
  }
  let detail = '';
  if (t.os === 'linux') {
    // The oldest glibc the binary runs on: the newest symbol version it links against.
    const dyn = execFileSync('objdump', ['-T', out], { encoding: 'utf8' });
    const versions = [...dyn.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const newest = versions.at(-1);
    if (newest) detail = `, needs glibc ${newest.join('.')}+`;
  }
  console.log(
    `prebuild: ${name} -> ${out.slice(root.length + 1)} (${(statSync(out).size / 1024).toFixed(0)} KiB${detail})`,
  );
}
