/** Shared test utilities: scratch files, child processes, CPython lookup. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A fresh directory removed when the test file ends. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;

/** Writes `contents` to a new file in `dir` and returns its path. */
export function makeFile(dir: string, contents: string | Uint8Array, name = `f${counter++}.bin`): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

/** Opens `path` read-write (or with `flags`); the descriptor is closed when the test file ends. */
export function openFd(path: string, flags = 'r+'): number {
  const fd = openSync(path, flags);
  after(() => {
    try {
      closeSync(fd);
    } catch {
      // a test closed it already
    }
  });
  return fd;
}

/** Path of a compiled fixture script (test/fixtures/NAME.ts -> dist/test/fixtures/NAME.js). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
}

/** Runs a fixture in a child Node process and returns how it ended. */
export function runFixture(name: string, args: string[] = [], options: SpawnSyncOptions = {}) {
  const result = spawnSync(process.execPath, [fixture(name), ...args], {
    encoding: 'utf8', timeout: 120_000, ...options,
  });
  return { status: result.status, signal: result.signal, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

let python: string[] | null | undefined;

/**
 * A command that runs CPython 3.13 or newer, or null when there is none (tests that need it
 * skip). Tries `python3.13`, `python3`, and pyenv's 3.13.0.
 */
export function findPython(): string[] | null {
  if (python !== undefined) return python;
  const candidates: Array<{ cmd: string[]; env?: NodeJS.ProcessEnv }> = [
    { cmd: ['python3.13'] },
    { cmd: ['python3'], env: { ...process.env, PYENV_VERSION: '3.13.0' } },
    { cmd: ['python3'] },
  ];
  for (const { cmd, env } of candidates) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), '-c', 'import sys, mmap; print(sys.version_info[:2] >= (3, 13))'],
      { encoding: 'utf8', env });
    if (r.status === 0 && r.stdout.trim() === 'True') {
      python = env?.PYENV_VERSION ? ['env', `PYENV_VERSION=${env.PYENV_VERSION}`, ...cmd] : cmd;
      return python;
    }
  }
  python = null;
  return python;
}

/** The runtime running the tests. Bun and Deno run this suite through their Node
 * compatibility (`bun test`, `deno test`); where one lacks a feature a test needs, the test
 * says so with `skipOn`. */
export const runtime: 'node' | 'bun' | 'deno' =
  'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

/**
 * Options for `test()`/`describe()` that skip it on `which`, with the reason in the test:
 * `test('name', skipOn('bun', 'why'), () => ...)`. The reason names the missing runtime
 * feature, never just "it fails there".
 */
export function skipOn(which: 'bun' | 'deno', reason: string): { skip?: string } {
  return runtime === which ? { skip: `${which}: ${reason}` } : {};
}

/**
 * A function that runs a full garbage collection: `gc` from V8 (Node, Deno), made available
 * without `--expose-gc`, or `Bun.gc(true)` on Bun (JavaScriptCore has no `gc` global).
 */
export function collector(): () => void {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (bun !== undefined) return () => bun.gc(true);
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
