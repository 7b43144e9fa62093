/**
 * Which JavaScript runtime the benchmark runs on, and `--runtime`: running the benchmark under
 * another one. A name (`node20`, `node22`, `node24`, `node26`, `bun`, `deno`) uses the binary
 * the test matrix pins (scripts/runtimes.mjs, downloaded into `.runtimes/` on first use); a
 * path runs that binary as it is (for a machine with no network).
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

interface Globals {
  Bun?: { version: string };
  Deno?: { version: { deno: string; v8: string } };
}
const g = globalThis as unknown as Globals;

export interface RuntimeInfo {
  /** `node`, `bun` or `deno`. */
  kind: 'node' | 'bun' | 'deno';
  /** The name given to `--runtime` (e.g. `node24`), or the kind and major version. */
  name: string;
  version: string;
  v8: string;
  /** The binary, as shownPath prints it. */
  execPath: string;
}

export function describeRuntime(): RuntimeInfo {
  const kind = g.Bun ? 'bun' : g.Deno ? 'deno' : 'node';
  const version =
    kind === 'bun' ? g.Bun!.version : kind === 'deno' ? g.Deno!.version.deno : process.version.replace(/^v/, '');
  const v8 = kind === 'deno' ? g.Deno!.version.v8 : (process.versions.v8 ?? '');
  const name = process.env.BENCH_RUNTIME_NAME || (kind === 'node' ? `node${version.split('.')[0]}` : kind);
  return { kind, name, version, v8, execPath: shownPath(process.execPath) };
}

/**
 * A path as the results print it: relative to the checkout when it lies in it or in its
 * `.runtimes/` (which may be a link to another checkout's), so that committed results do not
 * carry one machine's folders; any other path as it is.
 */
export function shownPath(path: string): string {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const target = real(path);
  for (const [base, prefix] of [
    [join(root, '.runtimes'), '.runtimes'],
    [root, ''],
  ] as const) {
    const rel = relative(real(base), target);
    if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) return prefix ? `${prefix}/${rel}` : rel;
  }
  return path;
}

/** `node 24.22.3 (V8 12.4...)`: the runtime as the results print it. */
export function runtimeLabel(r: RuntimeInfo): string {
  return `${r.kind} ${r.version}${r.v8 ? ` (V8 ${r.v8})` : r.kind === 'bun' ? ' (JavaScriptCore)' : ''}`;
}

/** A short tag for file names: `node24`, `bun`, `deno`. */
export function runtimeTag(r: RuntimeInfo): string {
  return r.name.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/** The command that runs a script of dist/bench with this same runtime, in a fresh process. */
export function selfCommand(script: string, nodeFlags: string[] = []): [string, string[]] {
  const path = join(root, 'dist', 'bench', script);
  if (g.Deno) return [process.execPath, ['run', '-A', '--no-check', path]];
  if (g.Bun) return [process.execPath, [path]];
  return [process.execPath, [...nodeFlags, path]];
}

interface RuntimesModule {
  RUNTIMES: Record<string, { pkg: string; version: string; bin: string }>;
  runtimePath(name: string): string;
  install(name: string): string;
}

/** The binary of `--runtime NAME` (installing it if it is missing and `install` allows), or
 * the binary at a path. */
export async function resolveRuntime(spec: string, install: boolean): Promise<{ name: string; exe: string }> {
  if (spec.includes('/')) {
    if (!existsSync(spec)) throw new Error(`--runtime ${spec}: no such file`);
    const base = basename(spec);
    return { name: base === 'bun' || base === 'deno' ? base : '', exe: spec };
  }
  const scripts = join(root, 'scripts', 'runtimes.mjs');
  if (!existsSync(scripts))
    throw new Error(`--runtime ${spec}: ${scripts} is missing; give the runtime's binary as a path instead`);
  const mod = (await import(pathToFileURL(scripts).href)) as RuntimesModule;
  if (!(spec in mod.RUNTIMES)) {
    throw new Error(`unknown runtime ${spec}; known: ${Object.keys(mod.RUNTIMES).join(', ')}, or a path to a binary`);
  }
  const exe = mod.runtimePath(spec);
  if (existsSync(exe)) return { name: spec, exe };
  if (!install) throw new Error(`--runtime ${spec}: ${exe} is missing and BENCH_NO_INSTALL=1 forbids downloading it`);
  return { name: spec, exe: mod.install(spec) };
}

/** Runs dist/bench/run.js with `args` under another runtime, passing its exit status on. */
export function runUnder(exe: string, name: string, args: string[]): Promise<number> {
  const base = basename(exe);
  const script = join(root, 'dist', 'bench', 'run.js');
  const argv = base.startsWith('deno')
    ? ['run', '-A', '--no-check', script, ...args]
    : base.startsWith('bun')
      ? [script, ...args]
      : ['--expose-gc', script, ...args];
  const env = { ...process.env };
  if (name) env.BENCH_RUNTIME_NAME = name;
  else delete env.BENCH_RUNTIME_NAME;
  process.stderr.write(`running the bench under ${exe}\n`);
  return new Promise((resolve) => {
    const child = spawn(exe, argv, { stdio: 'inherit', env });
    child.on('error', (error) => {
      process.stderr.write(`cannot start ${exe}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
