/** Turns the samples into figures and writes them out: a Markdown table, JSON, an SVG chart. */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { NOTES, PARTICIPANTS, TARGETS, type ParticipantName, type Sizes, type Unit } from './config.js';
import { machineLabel, type Machine } from './setup.js';

export interface RowResult {
  id: string;
  group: number;
  title: string;
  unit: Unit;
  /** Work of one sample (operations, lines or bytes). */
  work: number;
  /** Timed samples in nanoseconds, per participant. */
  samples: Partial<Record<ParticipantName, number[]>>;
  /** The figure in `unit` from the median sample. */
  value: Partial<Record<ParticipantName, number>>;
  /** memmap's speed divided by the peer's (peer's median time / memmap's). */
  ratio: Partial<Record<ParticipantName, number>>;
  /** The check value each participant returned (the same work was done when they agree). */
  check: Partial<Record<ParticipantName, number>>;
  /** Participants whose check value differs from memmap's. */
  mismatch: string[];
  /** Participants that failed on this row, with the error. */
  errors: Partial<Record<ParticipantName, string>>;
}

export interface FlushAsyncResult {
  id: 'flush_async_64mib';
  group: 8;
  title: string;
  bytes: number;
  /** Per round: longest gap between event-loop turns while the flush ran (ms). */
  blockedMs: number[];
  /** Per round: time spent inside the flushAsync() call itself (ms). */
  callMs: number[];
  /** Per round: time until the promise settled (ms). */
  totalMs: number[];
  /** Per round: event-loop turns while the flush ran. */
  turns: number[];
  /** Per round: longest gap between turns of the same loop run as long again with no flush
   * (the machine's own noise: preemption by other processes). */
  controlMs: number[];
  medianBlockedMs: number;
  medianTotalMs: number;
  medianControlMs: number;
}

export interface TargetResult {
  row: string;
  peer: string;
  text: string;
  need: string;
  measured: number | null;
  met: boolean | null;
  /** memmap's speed ÷ the C program's on the same row: how close the row is to the machine's limit. */
  ofLimit: number | null;
}

export interface Report {
  suite: 'memmap benchmark';
  date: string;
  mode: 'full' | 'quick';
  sizes: Sizes;
  machine: Machine;
  versions: Record<string, string>;
  skipped: Record<string, string>;
  durationSeconds: number;
  rows: RowResult[];
  flushAsync: FlushAsyncResult | null;
  targets: TargetResult[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Fills value, ratio and mismatch from the samples. */
export function summarise(row: RowResult): void {
  const medians: Partial<Record<ParticipantName, number>> = {};
  for (const [name, xs] of Object.entries(row.samples) as Array<[ParticipantName, number[]]>) {
    if (xs.length === 0) continue;
    const ns = median(xs);
    medians[name] = ns;
    row.value[name] = row.unit === 'ms' ? ns / 1e6 : row.unit === 'GB/s' ? row.work / ns : row.work / (ns / 1e9);
  }
  const mine = medians.memmap;
  for (const [name, ns] of Object.entries(medians) as Array<[ParticipantName, number]>) {
    if (name !== 'memmap' && mine !== undefined && mine > 0) row.ratio[name] = ns / mine;
  }
  const expected = row.check.memmap;
  row.mismatch = (Object.entries(row.check) as Array<[ParticipantName, number]>)
    .filter(([name, c]) => name !== 'memmap' && expected !== undefined && c !== expected)
    .map(([name, c]) => `${name} returned ${c}, memmap ${expected}`);
}

export function evaluateTargets(rows: RowResult[], flushAsync: FlushAsyncResult | null): TargetResult[] {
  // Where one row has several targets against the same peer, the strictest is the one to meet.
  const strictest = new Map<string, (typeof TARGETS)[number]>();
  for (const t of TARGETS) {
    const key = `${t.row}|${t.peer}`;
    const had = strictest.get(key);
    if (had === undefined || t.min > had.min) strictest.set(key, t);
  }
  const out: TargetResult[] = [];
  for (const t of strictest.values()) {
    if (t.peer === 'self') {
      const ms = flushAsync ? flushAsync.medianBlockedMs : null;
      out.push({
        row: t.row,
        peer: 'memmap',
        text: t.text,
        need: `< ${t.min} ms`,
        measured: ms,
        met: ms === null ? null : ms < t.min,
        ofLimit: null,
      });
      continue;
    }
    const row = rows.find((r) => r.id === t.row);
    const ratio = row?.ratio[t.peer];
    out.push({
      row: t.row,
      peer: t.peer,
      text: t.text,
      need: `≥ ${round(t.min)}×`,
      measured: ratio ?? null,
      met: ratio === undefined ? null : ratio >= t.min,
      ofLimit: row?.ratio.C ?? null,
    });
  }
  const order = (id: string) => {
    const i = rows.findIndex((r) => r.id === id);
    return i < 0 ? rows.length : i;
  };
  return out.sort((a, b) => order(a.row) - order(b.row));
}

function round(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A figure with 3 significant digits and an SI suffix for rates. */
export function formatValue(x: number | undefined, unit: Unit): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  if (unit === 'GB/s' || unit === 'ms') return sig(x);
  if (x >= 1e9) return `${sig(x / 1e9)} G`;
  if (x >= 1e6) return `${sig(x / 1e6)} M`;
  if (x >= 1e3) return `${sig(x / 1e3)} k`;
  return sig(x);
}

function sig(x: number): string {
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 4));
}

function formatRatio(r: number | undefined): string {
  return r === undefined ? '' : `${round(r)}×`;
}

export function markdown(report: Report): string {
  const present = PARTICIPANTS.filter((p) => report.rows.some((r) => r.value[p] !== undefined));
  const peers = present.filter((p) => p !== 'memmap');
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# memmap benchmark (${report.mode} run)`, '');
  lines.push(
    `Machine: ${machineLabel(m)}${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os} ${m.kernel}, ` +
      `${m.runtime}, data on ${m.filesystem || 'unknown fs'}; load average ${m.loadAtStart.join(' ')} at the start` +
      (m.loadAtEnd ? `, ${m.loadAtEnd.join(' ')} at the end` : '') +
      '.',
  );
  lines.push('');
  lines.push(
    `Run: ${report.date}, ${report.sizes.warmup} warm-up and ${report.sizes.rounds} timed rounds per row, ` +
      `participants alternating within each round; ${report.durationSeconds.toFixed(0)} s in all. ` +
      'Hot page cache; page tables populated before timing.',
  );
  const versions = Object.entries(report.versions)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  lines.push('', `Versions: ${versions}.`);
  const skipped = Object.entries(report.skipped);
  if (skipped.length > 0) {
    lines.push('', `Skipped: ${skipped.map(([k, v]) => `**${k}** (${v})`).join('; ')}.`);
  }
  lines.push('');
  lines.push(
    "Each cell is the median of the rounds; `(n×)` is memmap's speed divided by that peer's " +
      '(above 1: memmap is faster). Ratios from one run are the figure: the machine is shared, so absolute ' +
      'figures are context only.',
    '',
  );
  lines.push(`| # | workload | unit | memmap | ${peers.map((p) => (p === 'C' ? 'C (limit)' : p)).join(' | ')} |`);
  lines.push(`|---|---|---|---:|${peers.map(() => '---:').join('|')}|`);
  for (const row of report.rows) {
    const cells = peers.map((p) => {
      const v = formatValue(row.value[p], row.unit);
      return v === '' ? '' : `${v} (${formatRatio(row.ratio[p])})`;
    });
    lines.push(
      `| ${row.group} | ${row.title} \`${row.id}\` | ${row.unit} | **${formatValue(row.value.memmap, row.unit)}** | ${cells.join(' | ')} |`,
    );
  }
  const fa = report.flushAsync;
  if (fa) {
    lines.push(
      '',
      `**8. flushAsync** of ${fa.bytes / 2 ** 20} MiB of dirty pages: the event loop was blocked at most ` +
        `**${sig(fa.medianBlockedMs)} ms** (median over rounds of the longest gap between loop turns; per round: ` +
        `${fa.blockedMs.map(sig).join(', ')} ms) while the flush took ${sig(fa.medianTotalMs)} ms; ` +
        `the flushAsync() call itself returned in ${fa.callMs.map(sig).join(', ')} ms. ` +
        `The same loop run as long again with no flush had gaps of up to ${sig(fa.medianControlMs)} ms ` +
        `(per round: ${fa.controlMs.map(sig).join(', ')} ms): the machine's own noise floor.`,
    );
  }
  const mismatches = report.rows.flatMap((r) => r.mismatch.map((x) => `${r.id}: ${x}`));
  const errors = report.rows.flatMap((r) => Object.entries(r.errors).map(([p, e]) => `${r.id}: ${p}: ${e}`));
  if (mismatches.length > 0 || errors.length > 0) {
    lines.push(
      '',
      '**Warnings:**',
      ...mismatches.map((x) => `- check mismatch: ${x}`),
      ...errors.map((x) => `- error: ${x}`),
    );
  }
  lines.push('', '## Targets', '');
  lines.push(
    "`memmap ÷ C` is memmap's speed as a fraction of the C program's on the same row: how much room the " +
      'machine leaves. Where a target asks for more than the C figure allows, the limit forbids it.',
    '',
  );
  lines.push('| target | row | against | needed | measured | met | memmap ÷ C |', '|---|---|---|---|---:|---|---:|');
  for (const t of report.targets) {
    const measured =
      t.measured === null ? 'n/a' : t.peer === 'memmap' ? `${sig(t.measured)} ms` : `${round(t.measured)}×`;
    lines.push(
      `| ${t.text} | \`${t.row}\` | ${t.peer} | ${t.need} | ${measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} | ` +
        `${t.ofLimit === null ? '' : round(t.ofLimit)} |`,
    );
  }
  lines.push('', '## Peers', '');
  for (const p of peers) lines.push(`- **${p}**: ${NOTES[p] ?? ''}`);
  lines.push('', "![memmap's speed relative to each peer](ratios.svg)", '');
  return lines.join('\n');
}

const COLORS: Record<string, string> = {
  CPython: '#3572A5',
  fs: '#8c8c8c',
  'mmap-io': '#e07b00',
  '@riaskov/mmap-io': '#c9a000',
  'Bun.mmap': '#d6336c',
  C: '#2f9e44',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A horizontal bar chart of memmap's ratio to each peer per row, on a log scale around 1×. */
export function svgChart(report: Report): string {
  const peers = PARTICIPANTS.filter((p) => p !== 'memmap' && report.rows.some((r) => r.ratio[p] !== undefined));
  const targets = new Map(
    report.targets
      .filter((t) => t.peer !== 'memmap')
      .map((t) => [`${t.row}|${t.peer}`, Number(t.need.replace(/[^0-9.]/g, ''))]),
  );
  const labelW = 330;
  const plotW = 560;
  const right = 70;
  const bar = 10;
  const gap = 2;
  const lo = -2;
  const hi = 3; // log10 range: 0.01× .. 1000×
  const x = (r: number) => labelW + ((Math.min(hi, Math.max(lo, Math.log10(r))) - lo) / (hi - lo)) * plotW;
  const top = 84;
  const parts: string[] = [];
  let y = top;
  for (const row of report.rows) {
    const here = peers.filter((p) => row.ratio[p] !== undefined);
    if (here.length === 0) continue;
    const h = here.length * (bar + gap) + 10;
    parts.push(`<line x1="0" x2="${labelW + plotW + right}" y1="${y - 4}" y2="${y - 4}" stroke="#eee"/>`);
    parts.push(
      `<text x="${labelW - 8}" y="${y + h / 2 - 2}" text-anchor="end" font-size="12">${esc(`${row.group}. ${row.id}`)}</text>`,
    );
    here.forEach((p, i) => {
      const r = row.ratio[p]!;
      const yy = y + i * (bar + gap);
      const x0 = x(1);
      const x1 = x(r);
      parts.push(
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${yy}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${bar}" fill="${COLORS[p] ?? '#666'}"><title>${esc(`${row.id} vs ${p}: ${round(r)}×`)}</title></rect>`,
      );
      const t = targets.get(`${row.id}|${p}`);
      // The figure goes right of the bar, and of the target's tick where the tick is past the
      // bar's end (or just short of it), so the tick never strikes through the text.
      let textX = Math.max(x0, x1) + 4;
      if (t !== undefined) {
        const tx = x(t);
        parts.push(
          `<path d="M${tx.toFixed(1)} ${yy - 1} v${bar + 2}" stroke="#000" stroke-width="2"><title>target ${esc(String(t))}×</title></path>`,
        );
        if (tx + 3 > textX - 4 && tx - 30 < textX) textX = tx + 4;
      }
      parts.push(
        `<text x="${textX.toFixed(1)}" y="${yy + bar - 1}" font-size="9" fill="#333">${esc(round(r))}×</text>`,
      );
    });
    y += h;
  }
  const height = y + 30;
  const grid: string[] = [];
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    grid.push(
      `<line x1="${gx}" x2="${gx}" y1="${top - 10}" y2="${y}" stroke="${d === 0 ? '#000' : '#ccc'}" stroke-width="${d === 0 ? 1.5 : 1}"/>`,
    );
    grid.push(
      `<text x="${gx}" y="${y + 16}" text-anchor="middle" font-size="11">${10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)}×</text>`,
    );
  }
  const legend = peers.map((p, i) => {
    const lx = 10 + i * 140;
    return `<rect x="${lx}" y="48" width="12" height="12" fill="${COLORS[p] ?? '#666'}"/><text x="${lx + 16}" y="58" font-size="12">${esc(p === 'C' ? 'C (limit)' : p)}</text>`;
  });
  const m = report.machine;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + right}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(`memmap's speed ÷ each peer's (log scale; right of 1× = memmap faster; black ticks = targets)`)}</text>`,
    `<text x="10" y="36" font-size="11" fill="#555">${esc(`${report.mode} run ${report.date.slice(0, 10)}: ${machineLabel(m)}${m.cpus} × ${m.cpuModel}, Linux ${m.kernel}, ${m.runtime}; medians of ${report.sizes.rounds} rounds`)}</text>`,
    ...legend,
    ...grid,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes results.md, results.json and ratios.svg into `dir` (each via a .tmp file). */
export function writeReport(report: Report, dir: string): string[] {
  const files: Array<[string, string]> = [
    ['results.md', markdown(report)],
    ['results.json', JSON.stringify(report, null, 2) + '\n'],
    ['ratios.svg', svgChart(report)],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path + '.tmp', text);
    renameSync(path + '.tmp', path);
    return path;
  });
}
