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
  after(() => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      // Windows cannot delete a file while a view of it lives (a view a test still holds, or
      // one the garbage collector has not freed yet): leave it in the temporary directory.
      if (process.platform !== 'win32') throw error;
    }
  });
  return dir;
}

/** Removes a file; on Windows a file still mapped by a view the garbage collector has not
 * freed yet cannot be deleted, and stays in the scratch directory instead. */
export function removeFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    if (process.platform !== 'win32') throw error;
  }
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
    encoding: 'utf8',
    timeout: 120_000,
    ...options,
  });
  return {
    status: result.status,
    signal: result.signal,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
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
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), '-c', 'import sys, mmap; print(sys.version_info[:2] >= (3, 13))'], {
      encoding: 'utf8',
      env,
    });
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
export const runtime: 'node' | 'bun' | 'deno' = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

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

/** Windows (node.exe), where POSIX-only behaviour has no counterpart. */
export const onWindows = process.platform === 'win32';

/** Options for test(): skip with the reason when cond holds. */
export function skipIf(cond: boolean, reason: string): { skip?: string } {
  return cond ? { skip: reason } : {};
}

/** Skip reasons shared by many tests. */
export const WINDOWS = {
  flags: 'Windows: no MAP_*/PROT_* flags (CPython has no flags/prot there; access only)',
  memoryFile: 'Windows: anonymous memory is a paging-file section with no descriptor (mm.fd is -1; tagname shares it)',
  sigbus:
    'Windows: no SIGBUS; a file cannot shrink under a mapped view (the guard on Windows is tested in test/94-windows-faults)',
  madvise: 'Windows: madvise takes only MADV_WILLNEED and MADV_DONTNEED',
  msync: 'Windows: flush() takes no MS_* flags (FlushViewOfFile has none)',
  setName: 'Windows: mappings have no names (setName needs Linux prctl)',
  zeroInPlace: 'Windows: without placeholders a closed map stays mapped (its file bytes) while views live',
  shrinkWithViews: 'Windows: the file cannot shrink while a view of it lives',
  python: 'Windows: the CPython differential runs on POSIX',
  fsResize: 'Windows: fs cannot truncate a file while a view of it lives',
  offsets: 'Windows: offsets are multiples of ALLOCATIONGRANULARITY (64 KiB); this test maps at page offsets',
  largeCommit: 'Windows: a read-only map is a copy-on-write view, charged to the commit limit in full',
  modes: 'Windows: no POSIX permission bits (mode)',
  posixRules:
    'Windows: the model encodes POSIX construction rules (a length past the end is an error; Windows extends the file)',
  posixModel: 'Windows: the model encodes POSIX rules (flags/prot modes, msync flags, shrinking under live views)',
  wait: 'Windows: no wait/notify across processes (WaitOnAddress wakes only its own process): ENOTSUP',
  procfs: 'Windows: no vm.max_map_count, ulimit -v or /proc to measure mappings and descriptors',
} as const;
