/**
 * Fresh processes for the short-script mode and the cost curves: every measurement is one
 * process of its participant (bench/fresh-child.ts for memmap, fs and the runtime alone,
 * bench/peer_cpython_once.py for CPython, `limits once` for C), so nothing of one measurement
 * (compiled code, heap, page tables) is there for the next.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root, selfCommand } from './runtime.js';
import { compileLimits, findPython } from './setup.js';

export type FreshName = 'memmap' | 'CPython' | 'fs' | 'C' | 'runtime';

export interface Point {
  x: number;
  ns: number;
  ops: number;
  check: number;
}

export interface FreshResult {
  /** "ok ROW NS CHECK" */
  ok: { ns: number; check: number } | null;
  /** "point X NS OPS CHECK" lines */
  points: Point[];
  /** "stop N REASON": where a curve had to stop */
  stop: { at: number; reason: string } | null;
  /** "skip ROW REASON" */
  skip: string | null;
  /** the process failed: exit status and the end of its stderr */
  error: string | null;
}

/** A command: the program, its first arguments, and its environment when not ours. */
export interface Command {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface FreshPeers {
  /** Per participant: the command that starts it, or why it cannot run. */
  command: Record<FreshName, Command | string>;
  versions: Record<string, string>;
  /** A command that drops a file's pages from the page cache (C or CPython), or why none. */
  drop: Command | string;
}

export function freshPeers(): FreshPeers {
  const bench = join(root, 'bench');
  const [node, nodeArgs] = selfCommand('fresh-child.js');
  const versions: Record<string, string> = {};
  const command: FreshPeers['command'] = {
    memmap: { file: node, args: [...nodeArgs, 'memmap'] },
    fs: { file: node, args: [...nodeArgs, 'fs'] },
    runtime: { file: node, args: [...nodeArgs, 'runtime'] },
    CPython: '',
    C: '',
  };
  const python = findPython();
  if ('error' in python) {
    command.CPython = python.error;
  } else {
    command.CPython = {
      file: python.cmd,
      args: [...python.args, join(bench, 'peer_cpython_once.py')],
      env: python.env,
    };
    versions.CPython = python.version;
  }
  const limits = compileLimits(join(bench, 'limits.c'));
  if ('error' in limits) {
    command.C = limits.error;
  } else {
    command.C = { file: limits.path, args: ['once'] };
    versions.C = 'bench/limits.c (cc -O2)';
    if (limits.note) process.stderr.write(`note: ${limits.note}\n`);
  }
  const drop: FreshPeers['drop'] =
    typeof command.C !== 'string'
      ? command.C
      : typeof command.CPython !== 'string'
        ? command.CPython
        : `neither the C program nor CPython runs (C: ${command.C}; CPython: ${command.CPython})`;
  return { command, versions, drop };
}

/**
 * Runs one job: `participant ROW key=value...`. With `raiseFiles`, the process starts with its
 * limit of open files raised to the hard limit (through sh's ulimit), as a user would for a
 * program that holds many maps.
 */
export function runFresh(
  cmd: Command,
  row: string,
  cfg: Record<string, string | number>,
  options: { timeoutMs?: number; raiseFiles?: boolean } = {},
): Promise<FreshResult> {
  const args = [...cmd.args, row, ...Object.entries(cfg).map(([k, v]) => `${k}=${v}`)];
  let file = cmd.file;
  let argv = args;
  if (options.raiseFiles) {
    file = 'sh';
    argv = ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', cmd.file, ...args];
  }
  return new Promise((resolve) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: cmd.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    const done = (code: number | null, signal: string | null, spawnError?: Error) => {
      clearTimeout(timer);
      const result: FreshResult = { ok: null, points: [], stop: null, skip: null, error: null };
      for (const line of stdout.split('\n')) {
        const w = line.trim().split(' ');
        if (w[0] === 'ok') result.ok = { ns: Number(w[2]), check: Number(w[3]) };
        else if (w[0] === 'point')
          result.points.push({ x: Number(w[1]), ns: Number(w[2]), ops: Number(w[3]), check: Number(w[4]) });
        else if (w[0] === 'stop') result.stop = { at: Number(w[1]), reason: w.slice(2).join(' ') };
        else if (w[0] === 'skip') result.skip = w.slice(2).join(' ');
      }
      if (spawnError || code !== 0) {
        const why = spawnError ? spawnError.message : `exit ${code ?? signal}`;
        const tail = stderr
          .trim()
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(-3)
          .join(' | ')
          .slice(0, 400);
        result.error = `${why}${tail ? `: ${tail}` : ''}`;
      } else if (result.ok === null && result.points.length === 0 && result.stop === null && result.skip === null) {
        result.error = `no result (stdout: ${JSON.stringify(stdout.slice(0, 200))})`;
      }
      resolve(result);
    };
    child.on('error', (error) => done(null, null, error));
    child.on('close', (code, signal) => done(code, signal));
  });
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Three significant digits. */
export function sig(x: number): string {
  if (!Number.isFinite(x)) return '';
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 4));
}

export function ratioText(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return '';
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** 4 KiB, 16 MiB, 1 GiB ... */
export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = n;
  while (x >= 1024 && u < units.length - 1 && x % 1024 === 0) {
    x /= 1024;
    u++;
  }
  return `${x} ${units[u]}`;
}

/** A scratch folder for a run's data files, removed by `cleanup()` or on Ctrl-C. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  return { dir, cleanup };
}

/** The participants that cannot run here, with why (logged as they are found); `except` are
 * left out of the list (a mode that does not use them). */
export function skippedPeers(
  peers: FreshPeers,
  log: (line: string) => void,
  except: string[] = [],
): Record<string, string> {
  const skipped: Record<string, string> = {};
  for (const [name, c] of Object.entries(peers.command))
    if (typeof c === 'string' && !except.includes(name)) skipped[name] = c;
  for (const [k, v] of Object.entries(skipped)) log(`skipped ${k}: ${v}`);
  return skipped;
}
