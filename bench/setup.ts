/**
 * Everything the suite needs besides memmap itself: the peer packages (installed at bench time
 * into the git-ignored bench/.peers/), CPython 3.13+, a C compiler for bench/limits.c, and a
 * description of the machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

import type { MmapIo } from './participants.js';
import { describeRuntime, runtimeLabel } from './runtime.js';

export interface Peers {
  mmapIo: Record<string, MmapIo>;
  /** The `bun` binary, when it runs. */
  bun: string | null;
  /** Peer name -> why it is not in this run. */
  skipped: Record<string, string>;
  versions: Record<string, string>;
}

const PACKAGES = [
  { peer: 'mmap-io', spec: 'mmap-io@^1.1.7' },
  { peer: '@riaskov/mmap-io', spec: '@riaskov/mmap-io@^1.4.3' },
  { peer: 'Bun.mmap', spec: 'bun@^1.1.0' },
] as const;

function lastLines(text: string, n = 3): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' | ')
    .slice(0, 300);
}

function firstLineOf(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 300);
}

function packageName(spec: string): string {
  return spec.slice(0, spec.lastIndexOf('@'));
}

/**
 * The folder of bench/.peers for this runtime's addons: mmap-io and @riaskov/mmap-io are native
 * addons built for one ABI (`node-v137` is Node 24's), so each runtime gets its own install.
 */
export function peersFolder(): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const kind = g.Bun ? 'bun' : g.Deno ? 'deno' : 'node';
  return `${kind}-v${process.versions.modules ?? 'unknown'}`;
}

/**
 * npm's environment for building the addons for the runtime that runs the bench, not for the
 * Node that runs npm (under `--runtime node24`, /usr/bin/npm's Node may be 20): that runtime's
 * folder first on PATH (npm, node-gyp and node-pre-gyp then run on it and build for its ABI),
 * and its own headers as node-gyp's `nodedir` where it ships them (no download).
 */
function npmEnv(): NodeJS.ProcessEnv {
  // The addons' own flags ask for an older C++ than the runtime's headers need: C++17 for Node
  // 20 and 22's, C++20 for Node 24's and later (V8's headers fail to compile as C++17).
  const major = Number(process.versions.node?.split('.')[0] ?? 0);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -std=${major >= 23 ? 'c++20' : 'c++17'}`.trim(),
  };
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun || g.Deno) return env;
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_version.h'))) env.npm_config_nodedir = prefix;
  return env;
}

/** Loads each peer, installing it first into `peersDir` when it is missing (unless `install` is
 * false). A peer that cannot be installed or loaded is skipped, with the reason. */
export function preparePeers(peersDir: string, install: boolean, log: (line: string) => void): Peers {
  const result: Peers = { mmapIo: {}, bun: null, skipped: {}, versions: {} };
  mkdirSync(peersDir, { recursive: true });
  const require = createRequire(join(peersDir, 'index.js'));
  const bunBin = join(peersDir, 'node_modules', '.bin', 'bun');

  const load = (peer: string, pkg: string): string | null => {
    try {
      if (peer === 'Bun.mmap') {
        if (!existsSync(bunBin)) return 'not installed';
        const r = spawnSync(bunBin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
        if (r.status !== 0) return `bun does not run: ${lastLines(String(r.stderr ?? r.error ?? ''))}`;
        result.bun = bunBin;
        result.versions[peer] = `bun ${r.stdout.trim()}`;
        return null;
      }
      const lib = require(pkg) as MmapIo;
      if (typeof lib.map !== 'function') return 'loaded, but has no map()';
      result.mmapIo[peer] = lib;
      result.versions[peer] = `${pkg} ${(require(`${pkg}/package.json`) as { version: string }).version}`;
      return null;
    } catch (error) {
      return firstLineOf(String((error as Error).message ?? error));
    }
  };

  const npmInstall = (specs: string[]): string | null => {
    log(`installing ${specs.join(' ')} into ${peersDir} ...`);
    const r = spawnSync(
      'npm',
      ['install', '--prefix', peersDir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
      {
        encoding: 'utf8',
        timeout: 600_000,
        env: npmEnv(),
      },
    );
    return r.status === 0 ? null : `npm install failed: ${lastLines(String(r.stderr ?? '') + String(r.error ?? ''))}`;
  };

  // Packages missing from bench/.peers (loading is tried again after installing).
  const missing = PACKAGES.filter(({ peer, spec }) => !isLoadable(peer, packageName(spec)));
  const failures = new Map<string, string>();
  if (missing.length > 0 && install) {
    // One npm command for all of them: without a package.json in bench/.peers, each
    // `npm install --no-save` keeps only what it was given and removes the rest.
    const all = PACKAGES.map((p) => p.spec);
    if (npmInstall(all) !== null) {
      // Find which ones fail on their own, then install the others together.
      for (const { peer, spec } of missing) {
        const why = npmInstall([spec]);
        if (why !== null) failures.set(peer, why);
      }
      const keep = PACKAGES.filter((p) => !failures.has(p.peer)).map((p) => p.spec);
      if (keep.length > 0) npmInstall(keep);
    }
  }
  for (const { peer, spec } of PACKAGES) {
    const why = failures.get(peer) ?? load(peer, packageName(spec));
    if (why !== null) {
      result.skipped[peer] = why;
      log(`skipping ${peer}: ${why}`);
    }
  }
  return result;

  function isLoadable(peer: string, pkg: string): boolean {
    if (peer === 'Bun.mmap') return existsSync(bunBin);
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  }
}

export interface Python {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  version: string;
}

/**
 * A command that runs CPython: `BENCH_PYTHON` when set (used as given, 3.8 or newer), else
 * CPython 3.13 or newer (the version memmap follows: `python3.13`, or `python3` under pyenv's
 * 3.13.0, or `python3`), else a `python3` of 3.12. The version is recorded in the results.
 */
export function findPython(): Python | { error: string } {
  const explicit = process.env.BENCH_PYTHON;
  const candidates: Array<{ cmd: string; env: NodeJS.ProcessEnv; min: string }> = explicit
    ? [{ cmd: explicit, env: process.env, min: '(3, 8)' }]
    : [
        { cmd: 'python3.13', env: process.env, min: '(3, 13)' },
        { cmd: 'python3', env: { ...process.env, PYENV_VERSION: '3.13.0' }, min: '(3, 13)' },
        { cmd: 'python3', env: process.env, min: '(3, 13)' },
        { cmd: 'python3', env: process.env, min: '(3, 12)' },
      ];
  const tried: string[] = [];
  for (const { cmd, env, min } of candidates) {
    const r = spawnSync(
      cmd,
      ['-c', `import sys, mmap; print(sys.version_info[:2] >= ${min}, sys.version.split()[0])`],
      { encoding: 'utf8', env },
    );
    const [ok, version] = String(r.stdout ?? '')
      .trim()
      .split(' ');
    if (r.status === 0 && ok === 'True') return { cmd, args: [], env, version: version ?? '' };
    tried.push(`${cmd}${r.status === 0 ? ` is ${version}` : ' does not run'}`);
  }
  return {
    error: explicit
      ? `BENCH_PYTHON=${explicit}: ${tried.join('; ')}`
      : `no CPython 3.12 or newer found (${tried.join('; ')})`,
  };
}

/**
 * A C file of the bench compiled with `cc -O2` (and `args`) into build/bench/`name`
 * (git-ignored) and kept there: rebuilt when the source is newer, and a machine with no compiler
 * uses the one built before (build/ travels with the built tree). Returns its path, or why there
 * is none.
 */
function compileBenchC(
  source: string,
  name: string,
  args: string[] = [],
): { path: string; note?: string } | { error: string } {
  const dir = join(dirname(dirname(source)), 'build', 'bench');
  const path = join(dir, name);
  const built = existsSync(path) ? statSync(path).mtimeMs : -1;
  if (built >= statSync(source).mtimeMs) return { path };
  const cc = process.env.CC || 'cc';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(cc, ['-O2', ...args, '-o', `${path}.tmp`, source], { encoding: 'utf8' });
  if (r.status === 0) {
    renameSync(`${path}.tmp`, path);
    return { path };
  }
  const why = `${cc} -O2 ${args.join(' ')} failed: ${lastLines(String(r.stderr ?? '') + String(r.error ?? ''))}`;
  if (built >= 0) return { path, note: `${why}; using the older build/bench/${name}` };
  return { error: why };
}

/** The C program bench/limits.c: the machine's limit for the same work. */
export function compileLimits(source: string): { path: string; note?: string } | { error: string } {
  return compileBenchC(source, 'limits');
}

/**
 * bench/floor-addon.c, the runtime-alone map + close, as a Node-API addon (build/bench/floor.node)
 * built against node-api-headers (a devDependency). POSIX only.
 */
export function compileFloorAddon(source: string): { path: string; note?: string } | { error: string } {
  if (process.platform === 'win32') return { error: 'the Node-API floor addon is built on POSIX only' };
  let include: string;
  try {
    const rootDir = dirname(dirname(source));
    include = join(
      dirname(createRequire(join(rootDir, 'package.json')).resolve('node-api-headers/package.json')),
      'include',
    );
  } catch {
    return { error: 'node-api-headers is not installed (npm install)' };
  }
  const args = ['-shared', '-fPIC', '-I', include];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  return compileBenchC(source, 'floor.node', args);
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? String(r.stdout).split('\n')[0]!.trim() : '';
}

export interface Machine {
  /** What the person running the bench says of the machine (`BENCH_MACHINE`), e.g. that it is shared. */
  label?: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  kernel: string;
  /** The process's runtime: `node`'s version (as before), and the runtime described in full. */
  node: string;
  runtime: string;
  cc: string;
  filesystem: string;
  loadAtStart: number[];
  loadAtEnd?: number[];
}

/** `BENCH_MACHINE`'s text and a colon, to go before the machine's figures in the results, or nothing. */
export function machineLabel(m: Machine): string {
  return m.label ? `${m.label}: ` : '';
}

export function describeMachine(dataDir: string): Machine {
  const list = cpus();
  const df = spawnSync('df', ['-T', dataDir], { encoding: 'utf8' });
  const fsType = df.status === 0 ? ((String(df.stdout).trim().split('\n')[1] ?? '').split(/\s+/)[1] ?? '') : '';
  return {
    ...(process.env.BENCH_MACHINE ? { label: process.env.BENCH_MACHINE } : {}),
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: osType(),
    kernel: release(),
    node: process.version,
    runtime: runtimeLabel(describeRuntime()),
    cc: firstLine(process.env.CC || 'cc', ['--version']),
    filesystem: fsType,
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
