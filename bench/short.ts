/**
 * `--short`: the figure a user sees. Each row times the first million calls of a fresh process
 * (no warm-up), for memmap and for its peer in a fresh process of its own, N times over
 * (`--runs`, default 5), and reports medians and the ratios the issue sets targets for.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { linesBlock, writeFile } from './data.js';
import { freshPeers, median, ratioText, runFresh, scratchDir, sig, skippedPeers, type FreshName } from './fresh.js';
import { describeRuntime, root, runtimeLabel, runtimeTag, type RuntimeInfo } from './runtime.js';
import { compileFloorAddon, describeMachine, machineLabel, type Machine } from './setup.js';

const MiB = 1024 * 1024;

export interface ShortOptions {
  runs: number;
  quick: boolean;
  outDir: string | null;
}

interface ShortRow {
  id: string;
  title: string;
  /** The participants that run it, memmap's side first. */
  sides: FreshName[];
  /** Targets: the peer's median time ÷ memmap's must be at least `min`. */
  targets: Array<{ peer: FreshName; min: number; text: string; everyRun?: boolean }>;
  /** Calls timed (default: `calls`). */
  calls?: (calls: number) => number;
  /** The runtime's own floor rows: no memmap call, no peer. */
  floor?: boolean;
}

const ROWS: ShortRow[] = [
  {
    id: 'get_int',
    title: '`get(i)`',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 10, text: '≥ 10× CPython `m[i]`' }],
  },
  {
    id: 'read_byte',
    title: '`readByte()`',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 10, text: '≥ 10× CPython `m.read_byte()`' }],
  },
  {
    id: 'write_byte',
    title: '`writeByte()`',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 10, text: '≥ 10× CPython `m.write_byte()`' }],
  },
  {
    id: 'slice_64',
    title: '`slice(a, a + 64)`',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 1.5, text: '≥ 1.5× CPython `m[a:a+64]`' }],
  },
  {
    id: 'read_64',
    title: '`read(64)`',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 1.5, text: '≥ 1.5× CPython `m.read(64)`' }],
  },
  {
    id: 'readline',
    title: '`readLine()` loop',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 1, text: '≥ 1× CPython `m.readline()` loop' }],
  },
  {
    id: 'lines',
    title: '`lines()` loop',
    sides: ['memmap', 'CPython'],
    targets: [{ peer: 'CPython', min: 2, text: '≥ 2× CPython `m.readline()` loop' }],
  },
  {
    id: 'read_into',
    title: '`readInto()` of random 64-byte records',
    sides: ['memmap', 'fs'],
    targets: [{ peer: 'fs', min: 5, text: '≥ 5× `fs.readSync` into one buffer' }],
  },
  {
    id: 'map_close',
    title: 'map + close of a 1 MiB file',
    sides: ['memmap', 'CPython', 'C'],
    calls: (n) => Math.max(1, Math.floor(n / 10)),
    targets: [
      { peer: 'CPython', min: 1, text: '≥ 1× CPython in every run', everyRun: true },
      { peer: 'C', min: 1 / 1.5, text: 'within 1.5× of C `mmap`+`munmap`' },
    ],
  },
  {
    id: 'floor_map_close',
    title:
      "runtime alone: map + close as two Node-API calls making CPython's five system calls (fstat, dup, mmap; munmap, close), with an external handle and a finalizer on an owner object (bench/floor-addon.c)",
    sides: ['runtime'],
    calls: (n) => Math.max(1, Math.floor(n / 10)),
    targets: [],
    floor: true,
  },
  {
    id: 'floor_get',
    title: 'runtime alone: `view[i]` (a typed-array read)',
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_get_first_view',
    title:
      '`view[i]` with `view()` called inside the timed part, as memmap makes its own Buffer on the first call (the runtime counts the 256 MiB as external memory and starts a garbage collection)',
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_call_get',
    title: 'runtime alone: `o.get(i)`, a method whose body is `return this.view[i]` (one call + one read)',
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_subarray_64',
    title: 'runtime alone: `view.subarray(a, a + 64)` (one view)',
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_alloc_copy_64',
    title: 'runtime alone: a new 64-byte Buffer + `set` (one allocation + one copy)',
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_alloc_copy_seq_64',
    title: "runtime alone: a new 64-byte Buffer + `set` at sequential offsets (read(64)'s least work)",
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_line_view',
    title:
      "runtime alone: `view.indexOf(10, at)` + a Buffer over the line (the runtime's Buffer class, as `Buffer.from(view.buffer, at, n)` makes) per line (lines()' least work)",
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_line_copy',
    title:
      "runtime alone: `view.indexOf(10, at)` + a new n-byte Buffer cut from a 64 KiB ArrayBuffer (as `Buffer.allocUnsafe(n)` does from its pool) + `set` per line (readLine()'s least work)",
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
  {
    id: 'floor_random_copy_64',
    title:
      "runtime alone: `record.set(new Uint8Array(view.buffer, a, 64))` at the random offsets (readInto()'s least work)",
    sides: ['runtime'],
    targets: [],
    floor: true,
  },
];

export interface ShortRowResult {
  id: string;
  title: string;
  calls: number;
  /** Per participant: nanoseconds of each run (in run order). */
  ns: Partial<Record<FreshName, number[]>>;
  /** Per participant: median nanoseconds per call. */
  nsPerCall: Partial<Record<FreshName, number>>;
  /** Per peer: median(peer) ÷ median(memmap), and each run's own ratio. */
  ratio: Partial<Record<FreshName, { median: number; perRun: number[] }>>;
  targets: Array<{
    peer: FreshName;
    text: string;
    min: number;
    measured: number | null;
    lowest: number | null;
    met: boolean | null;
  }>;
  /** Problems: a participant that could not run, or whose check value differs from memmap's. */
  notes: string[];
}

export interface ShortReport {
  suite: 'memmap benchmark, short-script mode';
  date: string;
  quick: boolean;
  runs: number;
  calls: number;
  file: { lines: number; lineBytes: 80 };
  runtime: RuntimeInfo & { label: string };
  machine: Machine;
  versions: Record<string, string>;
  skipped: Record<string, string>;
  durationSeconds: number;
  rows: ShortRowResult[];
}

const log = (line: string) => process.stderr.write(line + '\n');

export async function runShort(opts: ShortOptions): Promise<void> {
  const started = Date.now();
  const calls = opts.quick ? 100_000 : 1_000_000;
  const linesBytes = opts.quick ? 16 * MiB - ((16 * MiB) % 80) : 256 * MiB - ((256 * MiB) % 80);
  const { dir, cleanup } = scratchDir('memmap-short-');
  try {
    const peers = freshPeers();
    const skipped = skippedPeers(peers, log);

    log(`making data files in ${dir} ...`);
    const files = {
      lines: join(dir, 'lines.txt'),
      write: join(dir, 'write.bin'),
      small: join(dir, 'small.bin'),
    };
    const block = linesBlock(false);
    writeFile(files.lines, linesBytes, () => block);
    const filler = Buffer.alloc(MiB, 'x');
    writeFile(files.write, 16 * MiB, () => filler);
    writeFile(files.small, MiB, () => filler);
    const machine = describeMachine(dir);
    const runtime = describeRuntime();
    const floorAddon = compileFloorAddon(join(root, 'bench', 'floor-addon.c'));
    if ('note' in floorAddon) log(`note: ${floorAddon.note}`);

    const cfgFor = (row: ShortRow): Record<string, string | number> => {
      const n = row.calls ? row.calls(calls) : calls;
      if (row.id === 'map_close') return { file: files.small, ops: n };
      if (row.id === 'floor_map_close') {
        return {
          file: files.small,
          ops: n,
          ...('path' in floorAddon ? { addon: floorAddon.path } : { why: floorAddon.error }),
        };
      }
      return { file: files.lines, write: files.write, size: linesBytes, calls: n, stride: 4160, seed: 12345 };
    };

    const results: ShortRowResult[] = ROWS.map((row) => ({
      id: row.id,
      title: row.title,
      calls: row.calls ? row.calls(calls) : calls,
      ns: {},
      nsPerCall: {},
      ratio: {},
      targets: [],
      notes: [],
    }));
    const checks = new Map<string, Map<FreshName, number>>();
    for (let run = 0; run < opts.runs; run++) {
      const t0 = Date.now();
      for (const [i, row] of ROWS.entries()) {
        const result = results[i]!;
        // Rotate the order of the sides from run to run.
        const order = row.sides.map((_, k) => row.sides[(k + run) % row.sides.length]!);
        for (const who of order) {
          const cmd = peers.command[who];
          if (typeof cmd === 'string') continue;
          if (result.notes.some((n) => n.startsWith(`${who}:`))) continue; // failed before
          const r = await runFresh(cmd, row.id, cfgFor(row));
          if (r.ok === null) {
            result.notes.push(`${who}: ${r.skip ?? r.error ?? 'no result'}`);
            log(`  ${row.id}: ${who}: ${r.skip ?? r.error}`);
            continue;
          }
          (result.ns[who] ??= []).push(r.ok.ns);
          const seen = checks.get(row.id) ?? new Map<FreshName, number>();
          checks.set(row.id, seen);
          if (!seen.has(who)) seen.set(who, r.ok.check);
        }
      }
      log(`run ${run + 1}/${opts.runs}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    for (const [i, row] of ROWS.entries()) {
      const result = results[i]!;
      for (const [who, xs] of Object.entries(result.ns) as Array<[FreshName, number[]]>) {
        result.nsPerCall[who] = median(xs) / result.calls;
      }
      const mine = result.ns[row.sides[0]!];
      for (const peer of row.sides.slice(1)) {
        const theirs = result.ns[peer];
        if (!mine || !theirs || mine.length === 0 || theirs.length === 0) continue;
        const perRun = theirs.map((t, k) => (mine[k] === undefined ? NaN : t / mine[k]!)).filter(Number.isFinite);
        result.ratio[peer] = { median: median(theirs) / median(mine), perRun };
      }
      for (const t of row.targets) {
        const r = result.ratio[t.peer];
        const measured = r ? r.median : null;
        const lowest = r && r.perRun.length > 0 ? Math.min(...r.perRun) : null;
        const value = t.everyRun ? lowest : measured;
        result.targets.push({
          peer: t.peer,
          text: t.text,
          min: t.min,
          measured,
          lowest,
          met: value === null ? null : value >= t.min,
        });
      }
      // The same work: check values must agree with memmap's (CPython's readline row for `lines`
      // counts the bytes without the newline, as lines() does).
      const seen = checks.get(row.id);
      const expected = seen?.get('memmap');
      if (seen && expected !== undefined) {
        for (const [who, c] of seen)
          if (who !== 'memmap' && c !== expected)
            result.notes.push(`check mismatch: ${who} returned ${c}, memmap ${expected}`);
      }
    }

    machine.loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
    const report: ShortReport = {
      suite: 'memmap benchmark, short-script mode',
      date: new Date().toISOString(),
      quick: opts.quick,
      runs: opts.runs,
      calls,
      file: { lines: linesBytes / 80, lineBytes: 80 },
      runtime: { ...runtime, label: runtimeLabel(runtime) },
      machine,
      versions: { memmap: 'this tree', ...peers.versions },
      skipped,
      durationSeconds: (Date.now() - started) / 1000,
      rows: results,
    };
    const md = shortMarkdown(report);
    process.stdout.write(md + '\n');
    const outDir =
      opts.outDir ?? (opts.quick ? join(tmpdir(), 'memmap-bench-results') : join(root, 'bench', 'results'));
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `short-${runtimeTag(runtime)}`);
    for (const [path, text] of [
      [`${base}.md`, md + '\n'],
      [`${base}.json`, JSON.stringify(report, null, 2) + '\n'],
    ] as const) {
      writeFileSync(path + '.tmp', text);
      renameSync(path + '.tmp', path);
    }
    log(`\nwritten: ${base}.md, ${base}.json (${report.durationSeconds.toFixed(0)} s)`);
    if (opts.quick) log('(a quick run: its figures are for checking the suite only)');
  } finally {
    cleanup();
  }
}

function nsText(ns: number | undefined): string {
  return ns === undefined ? '' : `${sig(ns)} ns`;
}

/** ns, or ms for a one-off that takes that long. */
function durationText(ns: number | undefined): string {
  return ns !== undefined && ns >= 100_000 ? `${sig(ns / 1e6)} ms` : nsText(ns);
}

export function shortMarkdown(r: ShortReport): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# memmap short-script figures on ${r.runtime.label}${r.quick ? ' (quick run: not figures)' : ''}`, '');
  lines.push(
    `Machine: ${machineLabel(m)}${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os} ${m.kernel}; load average ` +
      `${m.loadAtStart.join(' ')} at the start${m.loadAtEnd ? `, ${m.loadAtEnd.join(' ')} at the end` : ''}.`,
  );
  lines.push(
    '',
    `Runtime: ${r.runtime.label} (\`${r.runtime.execPath}\`). ` +
      `Versions: ${Object.entries(r.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ')}.`,
  );
  const skipped = Object.entries(r.skipped);
  if (skipped.length > 0) lines.push('', `Skipped: ${skipped.map(([k, v]) => `**${k}** (${v})`).join('; ')}.`);
  lines.push(
    '',
    `Run: ${r.date}; ${r.runs} runs, ${r.durationSeconds.toFixed(0)} s in all. Every cell is one fresh process per run ` +
      `timing its first ${r.calls.toLocaleString('en-US')} calls (map + close: the first ${Math.max(1, Math.floor(r.calls / 10)).toLocaleString('en-US')}) ` +
      `with no warm-up, over a ${((r.file.lines * 80) / MiB).toFixed(0)} MiB file of 80-byte lines whose pages are in the page cache but ` +
      "not yet in the process's page tables. Figures: the median time per call; ratio: the peer's median time ÷ memmap's " +
      "(above 1: memmap is faster), with the lowest and highest of the runs' own ratios.",
    '',
  );
  lines.push('| row | memmap | CPython | fs | C | ratio (runs) | target | met |');
  lines.push('|---|---:|---:|---:|---:|---|---|---|');
  for (const row of r.rows) {
    if (row.id.startsWith('floor_')) continue;
    const ratios = (Object.entries(row.ratio) as Array<[FreshName, { median: number; perRun: number[] }]>)
      .map(
        ([p, x]) =>
          `${p} **${ratioText(x.median)}** (${ratioText(Math.min(...x.perRun))}–${ratioText(Math.max(...x.perRun))})`,
      )
      .join('; ');
    const targets = row.targets.map((t) => t.text).join('; ');
    const met = row.targets.map((t) => (t.met === null ? 'not measured' : t.met ? 'yes' : '**no**')).join('; ');
    lines.push(
      `| ${row.title} | ${nsText(row.nsPerCall.memmap)} | ${nsText(row.nsPerCall.CPython)} | ${nsText(row.nsPerCall.fs)} | ` +
        `${nsText(row.nsPerCall.C)} | ${ratios} | ${targets} | ${met} |`,
    );
  }
  lines.push(
    '',
    "The runtime's own cost of what those calls must do at least, in the same fresh-process setting " +
      "(over the map's memory through `view()`; no memmap call):",
    '',
  );
  lines.push('| runtime alone | per call |', '|---|---:|');
  for (const row of r.rows)
    if (row.id.startsWith('floor_'))
      lines.push(`| ${row.title.replace('runtime alone: ', '')} | ${durationText(row.nsPerCall.runtime)} |`);
  const notes = r.rows.flatMap((row) => row.notes.map((n) => `${row.id}: ${n}`));
  if (notes.length > 0) lines.push('', '**Warnings:**', ...notes.map((n) => `- ${n}`));
  const missed = r.rows.flatMap((row) =>
    row.targets.filter((t) => t.met === false).map((t) => `${row.title} (${t.text})`),
  );
  lines.push('', missed.length === 0 ? 'Every measured target is met.' : `Targets missed: ${missed.join('; ')}.`);
  return lines.join('\n');
}
