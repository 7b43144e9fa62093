/**
 * `npm run bench`: memmap against CPython's mmap, plain fs, mmap-io, @riaskov/mmap-io, Bun.mmap
 * and a C program (the machine's limit), each workload run by every participant in the same
 * run, alternating, over several rounds after a warm-up.
 *
 *   npm run bench [-- OPTIONS]   or   node dist/bench/run.js [OPTIONS]   (no npm needed)
 *
 * Options:
 *   --short              the short-script mode (bench/short.ts): first million calls, fresh processes
 *   --curves             the cost curves (bench/curves.ts): SVG charts
 *   --runs N             runs of the short-script mode (default 5)
 *   --runtime NAME|PATH  run under node20, node22, node24, node26, bun or deno (the test matrix's
 *                        pinned binaries, downloaded into .runtimes/ if missing), or a binary
 *   --quick              the same as BENCH_QUICK=1
 *   --out DIR            the same as BENCH_OUT=DIR
 *   --prepare            build the C program into build/bench/ and say which peers run, then stop
 *
 * Environment:
 *   BENCH_QUICK=1        small sizes and 3 rounds, to check the suite (not figures)
 *   BENCH_ROUNDS=N       timed rounds per row
 *   BENCH_ONLY=a,b       only these rows (ids as in bench/config.ts)
 *   BENCH_NO_INSTALL=1   do not install missing peers (they are skipped)
 *   BENCH_OUT=DIR        where to write the results (default: bench/results for a full run,
 *                        a folder under the system's temporary directory otherwise)
 *   BENCH_PYTHON=PATH    the CPython to compare with (default: python3.13, else python3)
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ROWS, sizes, type ParticipantName, type Sizes } from './config.js';
import { makeDataFiles, type DataFiles } from './data.js';
import {
  fsParticipant,
  memmapParticipant,
  mmapIoParticipant,
  type MemmapMaps,
  type Participant,
} from './participants.js';
import {
  evaluateTargets,
  markdown,
  median,
  summarise,
  writeReport,
  type FlushAsyncResult,
  type Report,
  type RowResult,
} from './report.js';
import { runCurves } from './curves.js';
import { freshPeers } from './fresh.js';
import { describeRuntime, resolveRuntime, runtimeLabel, runUnder } from './runtime.js';
import { compileLimits, describeMachine, findPython, peersFolder, preparePeers } from './setup.js';
import { runShort } from './short.js';
import { SkipRow, startWorker } from './workers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const benchDir = join(root, 'bench');
const log = (line: string) => process.stderr.write(line + '\n');
const gc = (globalThis as { gc?: () => void }).gc;
const hr = () => process.hrtime.bigint();

/** Turns the event loop (setImmediate) until `done()` and returns the longest gap between turns. */
function longestGap(done: () => boolean): Promise<{ gapNs: bigint; turns: number }> {
  return new Promise((resolve) => {
    let last = hr();
    let gapNs = 0n;
    let turns = 0;
    const turn = () => {
      const t = hr();
      if (t - last > gapNs) gapNs = t - last;
      last = t;
      turns++;
      if (done()) resolve({ gapNs, turns });
      else setImmediate(turn);
    };
    setImmediate(turn);
  });
}

async function flushAsyncRow(s: Sizes, maps: MemmapMaps): Promise<FlushAsyncResult> {
  const result: FlushAsyncResult = {
    id: 'flush_async_64mib',
    group: 8,
    title: 'flushAsync of dirty pages while the event loop runs',
    bytes: s.flushBytes,
    blockedMs: [],
    callMs: [],
    totalMs: [],
    turns: [],
    controlMs: [],
    medianBlockedMs: NaN,
    medianTotalMs: NaN,
    medianControlMs: NaN,
  };
  for (let round = 0; round < s.warmup + s.rounds; round++) {
    const view = maps.flushView;
    for (let i = 0; i < view.length; i += 4096) view[i] = (view[i]! + 1) & 0xff;
    await new Promise((resolve) => setImmediate(resolve));
    let settled = false;
    const t0 = hr();
    const pending = maps.flush.flushAsync();
    const t1 = hr();
    pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const { gapNs, turns } = await longestGap(() => settled);
    await pending;
    const t2 = hr();
    // The same loop for as long again with no flush: the machine's own noise floor.
    const until = t2 + (t2 - t0);
    const control = await longestGap(() => hr() >= until);
    if (round < s.warmup) continue;
    const callNs = t1 - t0;
    result.blockedMs.push(Number(gapNs > callNs ? gapNs : callNs) / 1e6);
    result.callMs.push(Number(callNs) / 1e6);
    result.totalMs.push(Number(t2 - t0) / 1e6);
    result.turns.push(turns);
    result.controlMs.push(Number(control.gapNs) / 1e6);
  }
  result.medianBlockedMs = median(result.blockedMs);
  result.medianTotalMs = median(result.totalMs);
  result.medianControlMs = median(result.controlMs);
  return result;
}

async function runRow(rowId: string, s: Sizes, all: Participant[]): Promise<RowResult> {
  const def = ROWS.find((r) => r.id === rowId)!;
  const result: RowResult = {
    id: def.id,
    group: def.group,
    title: def.title,
    unit: def.unit,
    work: def.work(s),
    samples: {},
    value: {},
    ratio: {},
    check: {},
    mismatch: [],
    errors: {},
  };
  let active = all.filter((p) => p.rows.has(rowId));
  const once = async (p: Participant, timed: boolean): Promise<void> => {
    gc?.();
    try {
      const sample = await p.run(rowId);
      if (result.check[p.name] === undefined) result.check[p.name] = sample.check;
      if (timed) (result.samples[p.name] ??= []).push(sample.ns);
    } catch (error) {
      active = active.filter((q) => q !== p);
      if (!(error instanceof SkipRow)) {
        result.errors[p.name] = String((error as Error).message ?? error).slice(0, 300);
        log(`  ${p.name} failed on ${rowId}: ${result.errors[p.name]}`);
      }
    }
  };
  for (let w = 0; w < s.warmup; w++) for (const p of [...active]) await once(p, false);
  for (let round = 0; round < s.rounds; round++) {
    // Rotate the order each round so no participant always runs right after the same one.
    const order = active.map((_, i) => active[(i + round) % active.length]!);
    for (const p of order) if (active.includes(p)) await once(p, true);
  }
  summarise(result);
  return result;
}

async function fullBench(): Promise<void> {
  const started = Date.now();
  const quick = process.env.BENCH_QUICK === '1';
  const s = sizes(quick);
  const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : null;
  const partial = only !== null;
  const outDir =
    process.env.BENCH_OUT || (quick || partial ? join(tmpdir(), 'memmap-bench-results') : join(benchDir, 'results'));
  if (!gc) log('note: run with node --expose-gc so collections happen between samples, not inside them');

  const peers = preparePeers(join(benchDir, '.peers', peersFolder()), process.env.BENCH_NO_INSTALL !== '1', log);
  const skipped: Record<string, string> = { ...peers.skipped };
  const versions: Record<string, string> = { memmap: 'this tree', ...peers.versions };

  log(`making data files (${quick ? 'quick sizes' : 'full sizes'}) ...`);
  const files: DataFiles = makeDataFiles(s);
  const cleanup = () => rmSync(files.dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const machine = describeMachine(files.dir);
  versions.node = process.version;

  const participants: Participant[] = [];
  let memmapMaps: MemmapMaps | null = null;
  try {
    log('mapping the files in each participant ...');
    const memmap = memmapParticipant(s, files);
    memmapMaps = memmap.maps;
    participants.push(memmap, fsParticipant(s, files));
    for (const [name, lib] of Object.entries(peers.mmapIo)) {
      participants.push(mmapIoParticipant(name as ParticipantName, lib, s, files));
    }

    const config = (name: ParticipantName) =>
      JSON.stringify({
        lines: files.lines,
        write: files.write,
        big: files.big,
        small: files.small,
        flush: files.flush[name] ?? null,
        ops: s.ops,
        stride: s.stride,
        writeChunk: s.writeChunk,
        scanChunk: s.scanChunk,
        seed: s.seed,
      });
    const python = findPython();
    if ('error' in python) {
      skipped.CPython = python.error;
    } else {
      versions.CPython = python.version;
      const p = await startWorker(
        'CPython',
        python.cmd,
        [...python.args, join(benchDir, 'peer_cpython.py')],
        config('CPython'),
        python.env,
      );
      if (typeof p === 'string') skipped.CPython = p;
      else participants.push(p);
    }
    if (peers.bun !== null) {
      const p = await startWorker('Bun.mmap', peers.bun, [join(benchDir, 'peer-bun.mjs')], config('Bun.mmap'));
      if (typeof p === 'string') skipped['Bun.mmap'] = p;
      else participants.push(p);
    }
    const limits = compileLimits(join(benchDir, 'limits.c'));
    if ('error' in limits) {
      skipped.C = limits.error;
    } else {
      versions.C = machine.cc || 'build/bench/limits (built before; no compiler here)';
      if (limits.note) log(`note: ${limits.note}`);
      const args = [
        `lines=${files.lines}`,
        `write=${files.write}`,
        `big=${files.big}`,
        `small=${files.small}`,
        `flush=${files.flush.C}`,
        `mapOps=${s.ops.map}`,
        `byteOps=${s.ops.byte}`,
        `sliceOps=${s.ops.slice}`,
        `randomOps=${s.ops.random}`,
        `stride=${s.stride}`,
        `writeChunk=${s.writeChunk}`,
        `seed=${s.seed}`,
      ];
      const p = await startWorker('C', limits.path, args, null);
      if (typeof p === 'string') skipped.C = p;
      else participants.push(p);
    }
    for (const [k, v] of Object.entries(skipped)) log(`skipped ${k}: ${v}`);
    log(`participants: ${participants.map((p) => p.name).join(', ')}`);

    const rows: RowResult[] = [];
    for (const def of ROWS) {
      if (only && !only.has(def.id)) continue;
      const t0 = Date.now();
      const row = await runRow(def.id, s, participants);
      rows.push(row);
      const ratios = Object.entries(row.ratio)
        .map(([p, r]) => `${p} ${r.toFixed(2)}×`)
        .join(', ');
      log(`${def.id}: ${((Date.now() - t0) / 1000).toFixed(1)} s; memmap/peer: ${ratios}`);
      for (const m of row.mismatch) log(`  check mismatch: ${m}`);
    }
    let flushAsync: FlushAsyncResult | null = null;
    if (!only || only.has('flush_async_64mib')) {
      flushAsync = await flushAsyncRow(s, memmapMaps);
      log(
        `flush_async_64mib: loop blocked ${flushAsync.medianBlockedMs.toFixed(3)} ms (median; ` +
          `${flushAsync.medianControlMs.toFixed(3)} ms with no flush), flush ${flushAsync.medianTotalMs.toFixed(1)} ms`,
      );
    }

    machine.loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
    const report: Report = {
      suite: 'memmap benchmark',
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      sizes: s,
      machine,
      versions,
      skipped,
      durationSeconds: (Date.now() - started) / 1000,
      rows,
      flushAsync,
      targets: evaluateTargets(rows, flushAsync),
    };
    mkdirSync(outDir, { recursive: true });
    const written = writeReport(report, outDir);
    process.stdout.write(markdown(report) + '\n');
    log(`\nwritten: ${written.join(', ')}`);
    if (quick || partial) log('(a quick or partial run: its figures are for checking the suite only)');
  } finally {
    for (const p of participants) await p.close().catch(() => undefined);
    cleanup();
  }
}

/** A mistake in the command line: printed without a stack. */
class UsageError extends Error {}

interface Args {
  short: boolean;
  curves: boolean;
  prepare: boolean;
  runs: number;
  runtime: string | null;
  /** The arguments to pass on when running under another runtime. */
  rest: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { short: false, curves: false, prepare: false, runs: 5, runtime: null, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, null];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--runtime') {
      args.runtime = value();
      continue;
    }
    if (flag === '--short') args.short = true;
    else if (flag === '--curves') args.curves = true;
    else if (flag === '--prepare') args.prepare = true;
    else if (flag === '--quick') process.env.BENCH_QUICK = '1';
    else if (flag === '--runs') {
      args.runs = Number(value());
      if (!Number.isInteger(args.runs) || args.runs < 1)
        throw new UsageError('--runs needs a whole number of at least 1');
      args.rest.push('--runs', String(args.runs));
      continue;
    } else if (flag === '--out') {
      process.env.BENCH_OUT = value();
      args.rest.push('--out', process.env.BENCH_OUT);
      continue;
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write(
        'usage: npm run bench -- [--short [--runs N] | --curves | --prepare] [--runtime NAME|PATH] [--quick] [--out DIR]\n' +
          'runtimes: node20, node22, node24, node26, bun, deno, or the path of a binary; see bench/README.md\n',
      );
      process.exit(0);
    } else {
      throw new UsageError(`unknown argument ${a} (try --help)`);
    }
    args.rest.push(a);
  }
  return args;
}

/** --prepare: build what the bench needs ahead of a machine that has no compiler or network. */
function prepare(): void {
  const peers = freshPeers();
  log(`runtime: ${runtimeLabel(describeRuntime())}`);
  for (const [name, c] of Object.entries(peers.command)) {
    log(`${name}: ${typeof c === 'string' ? `not available: ${c}` : [c.file, ...c.args].join(' ')}`);
  }
  log(`page-cache drop for the cold curve: ${typeof peers.drop === 'string' ? peers.drop : peers.drop.file}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.runtime !== null && !process.env.BENCH_UNDER_RUNTIME) {
    const { name, exe } = await resolveRuntime(args.runtime, process.env.BENCH_NO_INSTALL !== '1').catch(
      (error: Error) => {
        throw new UsageError(error.message);
      },
    );
    process.env.BENCH_UNDER_RUNTIME = '1';
    process.exitCode = await runUnder(exe, name, args.rest);
    return;
  }
  const out = process.env.BENCH_OUT || null;
  const quick = process.env.BENCH_QUICK === '1';
  if (args.prepare) prepare();
  else if (args.short) await runShort({ runs: args.runs, quick, outDir: out });
  else if (args.curves) await runCurves({ quick, outDir: out });
  else await fullBench();
}

main().catch((error: unknown) => {
  log(error instanceof UsageError ? error.message : String((error as Error)?.stack ?? error));
  process.exitCode = 1;
});
