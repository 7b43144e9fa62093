/**
 * `--curves`: what an operation costs as the size of its job grows, memmap, CPython, fs and C
 * side by side, each point measured in a fresh process of its participant (bench/fresh.ts):
 *
 *   map_close_size   map + close against the map's size (fs: readSync of the same bytes)
 *   live_maps        creating a map against the number of maps already alive (fs: open())
 *   random_read      random 64-byte reads against the file's size, hot and cold page cache
 *   find             find() throughput against the map's size (fs: 1 MiB readSync + indexOf)
 *
 * Unlike the short-script mode, a curve's point is a steady-state cost: each job does a short
 * untimed warm-up (or prefaults its pages) before its timed loop.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { ACCESS_READ, Mmap } from '../src/index.js';
import { lineChart, type Series } from './chart.js';
import { linesBlock, writeFile } from './data.js';
import {
  bytesText,
  freshPeers,
  runFresh,
  scratchDir,
  sig,
  skippedPeers,
  type FreshName,
  type FreshResult,
} from './fresh.js';
import { describeRuntime, root, runtimeLabel, runtimeTag, shownPath, type RuntimeInfo } from './runtime.js';
import { describeMachine, machineLabel, type Machine } from './setup.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const log = (line: string) => process.stderr.write(line + '\n');

export interface CurvesOptions {
  quick: boolean;
  outDir: string | null;
}

interface Plan {
  mapSizes: number[];
  mapOps: number;
  /** fs reads at most this many bytes per point of map_close_size (so 1 GiB is read a few times, not thousands). */
  fsBudget: number;
  /** The numbers of maps alive at which the mean creation time since the previous point is reported. */
  livePoints: number[];
  randomSizes: number[];
  hotOps: number;
  coldOps: number;
  findSizes: number[];
  findBudget: number;
  findMaxReps: number;
}

function plan(quick: boolean): Plan {
  if (quick) {
    return {
      mapSizes: [4 * KiB, 64 * KiB, MiB, 16 * MiB, 64 * MiB],
      mapOps: 300,
      fsBudget: 64 * MiB,
      livePoints: [500, 1000, 2000, 5000],
      randomSizes: [16 * MiB, 64 * MiB],
      hotOps: 50_000,
      coldOps: 1000,
      findSizes: [4 * KiB, 64 * KiB, MiB, 16 * MiB, 64 * MiB],
      findBudget: 64 * MiB,
      findMaxReps: 5000,
    };
  }
  return {
    mapSizes: [4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB, GiB],
    mapOps: 2000,
    fsBudget: 512 * MiB,
    livePoints: [500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000],
    randomSizes: [16 * MiB, 64 * MiB, 256 * MiB, GiB, 4 * GiB],
    hotOps: 200_000,
    coldOps: 5000,
    findSizes: [4 * KiB, 64 * KiB, MiB, 16 * MiB, 256 * MiB, GiB],
    findBudget: GiB,
    findMaxReps: 100_000,
  };
}

const PARTS: FreshName[] = ['memmap', 'CPython', 'fs', 'C'];
const COLORS: Record<string, string> = { memmap: '#d9480f', CPython: '#3572A5', fs: '#8c8c8c', C: '#2f9e44' };
const NEEDLE = 'NEEDLE_AT_END__'; // absent from the data: every find scans the whole range

export interface CurveSeries {
  participant: FreshName;
  /** random_read: 'hot' or 'cold'; live_maps: 'trackfd: false' for maps that hold no dup() of the fd. */
  mode?: 'hot' | 'cold' | 'trackfd: false';
  /** random_read, cold: `resident`, the share of the range in the page cache just before the job (0 is the goal);
   *  `residentAfter`, just after it (how much of the range the job's reads brought in). */
  points: Array<{
    x: number;
    ns: number;
    ops: number;
    check: number;
    y: number;
    resident?: number;
    residentAfter?: number;
  }>;
  stop?: { at: number; reason: string };
  error?: string;
}

export interface CurveResult {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** What each participant does at each point. */
  what: Record<string, string>;
  series: CurveSeries[];
  notes: string[];
  seconds: number;
}

export interface CurvesReport {
  suite: 'memmap benchmark, cost curves';
  date: string;
  quick: boolean;
  runtime: RuntimeInfo & { label: string };
  machine: Machine & { maxMapCount: number | null; openFilesHardLimit: string; readAheadKb: number | null };
  versions: Record<string, string>;
  skipped: Record<string, string>;
  dataFileBytes: number;
  durationSeconds: number;
  curves: CurveResult[];
}

function readNumber(path: string): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null;
  }
}

/** The number of mappings this process has now (Linux), or 0. */
function ownMaps(): number {
  try {
    return readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

export async function runCurves(opts: CurvesOptions): Promise<void> {
  const started = Date.now();
  const p = plan(opts.quick);
  const { dir, cleanup } = scratchDir('memmap-curves-');
  try {
    const peers = freshPeers();
    const skipped = skippedPeers(peers, log, ['runtime']);

    // One data file of 80-byte lines for every curve; as large as the largest point that leaves
    // half the free disk space free.
    const st = statfsSync(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    const notes: string[] = [];
    const fits = (n: number) => n <= free / 2;
    for (const key of ['mapSizes', 'randomSizes', 'findSizes'] as const) {
      const dropped = p[key].filter((n) => !fits(n));
      if (dropped.length > 0)
        notes.push(
          `${key}: ${dropped.map(bytesText).join(', ')} left out (${bytesText(Math.floor(free / MiB) * MiB)} of disk free)`,
        );
      p[key] = p[key].filter(fits);
    }
    const dataBytes = Math.max(...p.mapSizes, ...p.randomSizes, ...p.findSizes);
    const file = join(dir, 'data.txt');
    log(`writing the ${bytesText(dataBytes)} data file in ${dir} ...`);
    const block = linesBlock(true);
    writeFile(file, dataBytes, () => block);

    const maxMapCount = readNumber('/proc/sys/vm/max_map_count');
    const machine = {
      ...describeMachine(dir),
      maxMapCount,
      openFilesHardLimit: openFilesHard(),
      readAheadKb: readAheadKb(file),
    };
    const runtime = describeRuntime();
    // Every process starts with some maps of its own (a Node process: a few hundred to a few
    // thousand); leave room for them and for the runtime's growth.
    if (maxMapCount !== null) {
      const room = maxMapCount - Math.max(4000, 2 * ownMaps());
      const cut = p.livePoints.filter((n) => n > room);
      if (cut.length > 0)
        notes.push(`live maps: points ${cut.join(', ')} left out (vm.max_map_count is ${maxMapCount})`);
      p.livePoints = p.livePoints.filter((n) => n <= room);
    }

    const curves: CurveResult[] = [];
    const run = async (
      id: string,
      title: string,
      xLabel: string,
      yLabel: string,
      what: Record<string, string>,
      body: (c: CurveResult) => Promise<void>,
    ) => {
      const t0 = Date.now();
      log(`${id} ...`);
      const c: CurveResult = { id, title, xLabel, yLabel, what, series: [], notes: [], seconds: 0 };
      await body(c);
      c.seconds = (Date.now() - t0) / 1000;
      curves.push(c);
      log(`${id}: ${c.seconds.toFixed(1)} s`);
    };
    const usable = (who: FreshName) => peers.command[who];
    const addSeries = (
      c: CurveResult,
      who: FreshName,
      r: FreshResult,
      y: (pt: { x: number; ns: number; ops: number }) => number,
      mode?: CurveSeries['mode'],
    ) => {
      let s = c.series.find((x) => x.participant === who && x.mode === mode);
      if (!s) {
        s = { participant: who, ...(mode ? { mode } : {}), points: [] };
        c.series.push(s);
      }
      for (const pt of r.points) s.points.push({ ...pt, y: y(pt) });
      if (r.stop) s.stop = r.stop;
      const why = r.error ?? r.skip;
      if (why) {
        s.error = why;
        log(`  ${c.id}: ${who}${mode ? ` (${mode})` : ''}: ${why}`);
      }
      return s;
    };
    const perOp = (pt: { ns: number; ops: number }) => pt.ns / pt.ops;

    await run(
      'map_close_size',
      "map + close against the map's size",
      'map size',
      'time per map + close',
      {
        memmap: '`new Mmap(fd, size, { access: ACCESS_READ }).close()`',
        CPython: '`mmap.mmap(fd, size, access=ACCESS_READ).close()`',
        fs: '`fs.readSync(fd, buffer, 0, size, 0)` into one preallocated Buffer: the cost of getting the same bytes without a map',
        C: '`mmap(PROT_READ, MAP_SHARED)` + `munmap`',
      },
      async (c) => {
        for (const who of PARTS) {
          const cmd = usable(who);
          if (typeof cmd === 'string') continue;
          const r = await runFresh(cmd, 'map_close_size', {
            file,
            sizes: p.mapSizes.join(','),
            ops: p.mapOps,
            fsBudget: p.fsBudget,
          });
          addSeries(c, who, r, perOp);
        }
      },
    );

    await run(
      'live_maps',
      'creating a map against the number of maps alive',
      'maps alive',
      'mean time per creation since the previous point',
      {
        memmap:
          '`new Mmap(fd, 4096, { access: ACCESS_READ })`, all kept alive (each holds a dup() of the fd); dashed: with `trackfd: false` (no dup)',
        CPython:
          '`mmap.mmap(fd, 4096, access=ACCESS_READ)`, all kept alive (each holds a dup() of the fd); dashed: `trackfd=False` (3.13 and newer)',
        fs: "`fs.openSync(path, 'r')`, all kept open (against the number of open files)",
        C: '`mmap(4096, PROT_READ, MAP_SHARED)`, never unmapped',
      },
      async (c) => {
        for (const who of PARTS) {
          const cmd = usable(who);
          if (typeof cmd === 'string') continue;
          const cfg = { file, points: p.livePoints.join(',') };
          const s = addSeries(c, who, await runFresh(cmd, 'live_maps', cfg, { raiseFiles: true }), perOp);
          if (s.stop) c.notes.push(`${who} stopped at ${s.stop.at} live: ${s.stop.reason}`);
          if (who !== 'memmap' && who !== 'CPython') continue;
          // The same without a dup() per map: the map's own cost, not capped by the limit of open files.
          const r = await runFresh(cmd, 'live_maps', { ...cfg, trackfd: 0 }, { raiseFiles: true });
          if (r.skip !== null) {
            c.notes.push(`${who} with trackfd false: ${r.skip}`);
            continue;
          }
          const t = addSeries(c, who, r, perOp, 'trackfd: false');
          if (t.stop) c.notes.push(`${who} (trackfd: false) stopped at ${t.stop.at} live: ${t.stop.reason}`);
        }
        c.notes.push(
          'each point: the mean time of the creations since the previous point (from 0 for the first), after 500 ' +
            'created and closed untimed; ' +
            `every process starts with its limit of open files raised to the hard limit (${machine.openFilesHardLimit})`,
        );
      },
    );

    await run(
      'random_read',
      "random 64-byte reads against the file's size",
      'file size (map length)',
      'time per 64-byte read',
      {
        memmap: '`mm.readInto(record, 0, 64, offset)` into one preallocated Buffer',
        CPython: '`m[a:a + 64]`',
        fs: '`fs.readSync(fd, record, 0, 64, offset)` into one preallocated Buffer',
        C: '`memcpy` of 64 bytes from the map',
      },
      async (c) => {
        for (const size of p.randomSizes) {
          for (const who of PARTS) {
            const cmd = usable(who);
            if (typeof cmd === 'string') continue;
            const base = { file, size, seed: 12345 };
            // hot: the whole range read (or its pages touched) first, untimed
            addSeries(c, who, await runFresh(cmd, 'random_read', { ...base, ops: p.hotOps, warm: 1 }), perOp, 'hot');
            // cold: the file's pages dropped from the page cache just before a fresh process maps it
            if (typeof peers.drop === 'string') continue;
            const dropped = await runFresh(peers.drop, 'drop', { file });
            if (dropped.ok === null) {
              c.notes.push(`cold: could not drop the page cache: ${dropped.skip ?? dropped.error}`);
              continue;
            }
            const resident = residentFraction(file, size);
            const ops = Math.max(1, Math.min(p.coldOps, Math.floor(size / 4096 / 4)));
            const s = addSeries(c, who, await runFresh(cmd, 'random_read', { ...base, ops, warm: 0 }), perOp, 'cold');
            const last = s.points[s.points.length - 1];
            const after = residentFraction(file, size);
            if (last && last.x === size && resident !== null) last.resident = resident;
            if (last && last.x === size && after !== null) last.residentAfter = after;
          }
        }
        if (typeof peers.drop === 'string') c.notes.push(`no cold series: ${peers.drop}`);
        else {
          c.notes.push(
            `hot: ${p.hotOps.toLocaleString('en-US')} reads after the range was read once, untimed. ` +
              `cold: up to ${p.coldOps.toLocaleString('en-US')} reads (at most one per 4 pages of the range) right after ` +
              `posix_fadvise(POSIX_FADV_DONTNEED) dropped the file from the page cache (${shownPath(peers.drop.file)}), in a fresh process ` +
              'whose map has no pages yet (what madvise(MADV_DONTNEED) would do to a map that had them). ' +
              'The share of the range still resident after the drop is in the JSON (`resident`).',
          );
          // A fault on a map reads ahead around the page (up to the device's read_ahead_kb), a
          // 64-byte pread far less: how much of the range each cold job brought into the page cache.
          const after = c.series
            .filter((s) => s.mode === 'cold')
            .map(
              (s) =>
                `${seriesName(s)} ` +
                s.points
                  .map(
                    (pt) =>
                      `${bytesText(pt.x)} ${pt.residentAfter === undefined ? '?' : `${Math.round(pt.residentAfter * 100)}%`}`,
                  )
                  .join(', '),
            );
          if (after.length > 0) {
            c.notes.push(
              `the share of the range in the page cache after each cold job (the device's read_ahead_kb: ` +
                `${machine.readAheadKb ?? 'unknown'}): ${after.join('; ')}`,
            );
          }
        }
      },
    );

    await run(
      'find',
      "find() throughput against the map's size",
      'map size',
      'throughput',
      {
        memmap: `\`mm.find('${NEEDLE}')\` (absent: scans the whole map)`,
        CPython: `\`m.find(b'${NEEDLE}')\``,
        fs: "`fs.readSync` in 1 MiB chunks + `Buffer.indexOf` (the chunks overlap by the needle's length less one)",
        C: '`memmem` over the map',
      },
      async (c) => {
        for (const who of PARTS) {
          const cmd = usable(who);
          if (typeof cmd === 'string') continue;
          const r = await runFresh(cmd, 'find', {
            file,
            sizes: p.findSizes.join(','),
            needle: NEEDLE,
            budget: p.findBudget,
            maxReps: p.findMaxReps,
          });
          addSeries(c, who, r, (pt) => (pt.x * pt.ops) / pt.ns);
        }
        c.notes.push(
          "pages in the page cache and in the map's page tables before timing; each point repeats the find " +
            `until about ${bytesText(p.findBudget)} were scanned (3 to ${p.findMaxReps} times)`,
        );
      },
    );

    // The same work: every participant's check value at a point must agree (random_read: the
    // sum of the records' first bytes; find: -1).
    for (const c of curves) {
      if (c.id !== 'random_read' && c.id !== 'find') continue;
      const byX = new Map<string, Map<string, number>>();
      for (const s of c.series) {
        for (const pt of s.points) {
          const key = `${pt.x}|${s.mode ?? ''}|${pt.ops}`;
          const m = byX.get(key) ?? new Map<string, number>();
          byX.set(key, m);
          m.set(s.participant, pt.check);
        }
      }
      for (const [key, m] of byX) {
        const values = new Set(m.values());
        if (values.size > 1)
          c.notes.push(`check mismatch at ${key.split('|')[0]}: ${[...m].map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }

    machine.loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
    const report: CurvesReport = {
      suite: 'memmap benchmark, cost curves',
      date: new Date().toISOString(),
      quick: opts.quick,
      runtime: { ...runtime, label: runtimeLabel(runtime) },
      machine,
      versions: { memmap: 'this tree', ...peers.versions },
      skipped,
      dataFileBytes: dataBytes,
      durationSeconds: (Date.now() - started) / 1000,
      curves,
    };
    if (notes.length > 0) curves[0]?.notes.unshift(...notes);
    const outDir =
      opts.outDir ?? (opts.quick ? join(tmpdir(), 'memmap-bench-results') : join(root, 'bench', 'results'));
    mkdirSync(outDir, { recursive: true });
    const tag = runtimeTag(runtime);
    const written: string[] = [];
    const put = (name: string, text: string) => {
      const path = join(outDir, name);
      writeFileSync(path + '.tmp', text);
      renameSync(path + '.tmp', path);
      written.push(path);
    };
    for (const c of curves) put(`curve-${c.id}-${tag}.svg`, curveSvg(report, c));
    const md = curvesMarkdown(report, tag);
    put(`curves-${tag}.md`, md + '\n');
    put(`curves-${tag}.json`, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(md + '\n');
    log(`\nwritten: ${written.join(', ')} (${report.durationSeconds.toFixed(0)} s)`);
    if (opts.quick) log('(a quick run: its figures are for checking the suite only)');
  } finally {
    cleanup();
  }
}

/**
 * The read-ahead of the block device that holds `file` (Linux: /sys/dev/block/MAJOR:MINOR, the
 * disk's queue for a partition), or null. A fault on a file map reads around the page by up to
 * this much, so it shapes the cold random-read points.
 */
function readAheadKb(file: string): number | null {
  try {
    const dev = statSync(file).dev;
    const major = Math.floor(dev / 256) & 0xfff;
    const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
    for (const q of ['queue', '../queue']) {
      const n = readNumber(`/sys/dev/block/${major}:${minor}/${q}/read_ahead_kb`);
      if (n !== null && Number.isFinite(n)) return n;
    }
    return readNumber(`/sys/class/bdi/${major}:${minor}/read_ahead_kb`);
  } catch {
    return null;
  }
}

function openFilesHard(): string {
  try {
    // sh's ulimit: Node has no getrlimit.
    return execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The share of [0, size) of the file that is in the page cache (memmap's residency()), or null. */
function residentFraction(file: string, size: number): number | null {
  try {
    const mm = Mmap.open(file, { access: ACCESS_READ, length: size });
    try {
      const pages = mm.residency();
      let n = 0;
      for (let i = 0; i < pages.length; i++) n += pages[i]! & 1;
      return pages.length === 0 ? null : n / pages.length;
    } finally {
      mm.close();
    }
  } catch {
    return null;
  }
}

function seriesName(s: CurveSeries): string {
  return `${s.participant === 'C' ? 'C (limit)' : s.participant}${s.mode ? ` ${s.mode}` : ''}`;
}

/** 3 significant digits (`round`: at most 3, no trailing zeros, for axis ticks). */
function num(x: number, round: boolean): string {
  return round ? String(Number(x.toPrecision(3))) : sig(x);
}

function yText(c: CurveResult, y: number, round = false): string {
  if (c.id === 'find') return `${num(y, round)} GB/s`;
  if (y >= 1e6) return `${num(y / 1e6, round)} ms`;
  if (y >= 1e3) return `${num(y / 1e3, round)} µs`;
  return `${num(y, round)} ns`;
}

function xText(c: CurveResult, x: number): string {
  return c.id === 'live_maps' ? x.toLocaleString('en-US') : bytesText(x);
}

export function curveSvg(r: CurvesReport, c: CurveResult): string {
  const series: Series[] = c.series
    .filter((s) => s.points.length > 0)
    .map((s) => ({
      name: seriesName(s),
      color: COLORS[s.participant] ?? '#666',
      dashed: s.mode === 'cold' || s.mode === 'trackfd: false',
      points: s.points.map((pt) => ({ x: pt.x, y: pt.y })),
    }));
  const m = r.machine;
  return lineChart({
    title: `${c.title}${r.quick ? ' (quick run: not figures)' : ''}`,
    subtitle: `${r.date.slice(0, 10)}: ${machineLabel(m)}${m.cpus} × ${m.cpuModel}, ${m.os} ${m.kernel}, ${r.runtime.label}, CPython ${r.versions.CPython ?? 'not run'}`,
    xLabel: c.xLabel,
    yLabel: c.yLabel,
    xLog: c.id !== 'live_maps',
    yLog: true,
    xFormat: (x) => (c.id === 'live_maps' ? x.toLocaleString('en-US') : bytesText(x).replace(' ', '\u00a0')),
    yFormat: (y) => yText(c, y, true),
    series,
  });
}

export function curvesMarkdown(r: CurvesReport, tag: string): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# memmap cost curves on ${r.runtime.label}${r.quick ? ' (quick run: not figures)' : ''}`, '');
  lines.push(
    `Machine: ${machineLabel(m)}${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os} ${m.kernel}, data on ${m.filesystem || 'unknown fs'} ` +
      `(read_ahead_kb ${m.readAheadKb ?? 'unknown'}); ` +
      `vm.max_map_count ${m.maxMapCount ?? 'unknown'}, open files hard limit ${m.openFilesHardLimit}; load average ` +
      `${m.loadAtStart.join(' ')} at the start${m.loadAtEnd ? `, ${m.loadAtEnd.join(' ')} at the end` : ''}.`,
  );
  lines.push(
    '',
    `Runtime: ${r.runtime.label} (\`${r.runtime.execPath}\`). Versions: ` +
      `${Object.entries(r.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ')}.`,
  );
  const skipped = Object.entries(r.skipped);
  if (skipped.length > 0) lines.push('', `Skipped: ${skipped.map(([k, v]) => `**${k}** (${v})`).join('; ')}.`);
  lines.push(
    '',
    `Run: ${r.date}, ${r.durationSeconds.toFixed(0)} s in all, over one ${bytesText(r.dataFileBytes)} file of 80-byte lines. ` +
      'Each participant runs each curve in a fresh process of its own; a point is a steady-state cost (after a short warm-up ' +
      'or with the pages prefaulted), unlike the short-script mode.',
  );
  for (const c of r.curves) {
    lines.push('', `## ${c.title} (\`${c.id}\`, ${c.seconds.toFixed(0)} s)`, '');
    lines.push(`![${c.title}](curve-${c.id}-${tag}.svg)`, '');
    for (const [who, text] of Object.entries(c.what)) lines.push(`- **${who}**: ${text}`);
    const xs = [...new Set(c.series.flatMap((s) => s.points.map((pt) => pt.x)))].sort((a, b) => a - b);
    const cols = c.series.filter((s) => s.points.length > 0);
    lines.push(
      '',
      `| ${c.xLabel} | ${cols.map(seriesName).join(' | ')} |`,
      `|---:|${cols.map(() => '---:').join('|')}|`,
    );
    for (const x of xs) {
      lines.push(
        `| ${xText(c, x)} | ${cols
          .map((s) => {
            const pt = s.points.find((q) => q.x === x);
            return pt ? yText(c, pt.y) : '';
          })
          .join(' | ')} |`,
      );
    }
    const problems = c.series.filter((s) => s.error).map((s) => `${seriesName(s)}: ${s.error}`);
    for (const n of [...c.notes, ...problems]) lines.push('', `Note: ${n}`);
  }
  return lines.join('\n');
}
