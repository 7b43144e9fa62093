/** A line chart as hand-written SVG (no plotting dependency), for the cost curves. */

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<{ x: number; y: number }>;
}

export interface ChartOptions {
  title: string;
  subtitle: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  xFormat(x: number): string;
  yFormat(y: number): string;
  series: Series[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Tick values: powers of 10 (or of 4 when `base` is 4) for a log axis, round steps otherwise. */
function ticks(lo: number, hi: number, log: boolean, base: number): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log(lo) / Math.log(base) + 1e-9); base ** e <= hi * (1 + 1e-9); e++) {
      if (base ** e >= lo * (1 - 1e-9)) out.push(base ** e);
    }
    return out;
  }
  const span = hi - lo || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((k) => span / k <= 7) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/**
 * The axis range: whole decades on a log axis, or with `margin`, the points' own range widened
 * by that factor at each end (a size axis: 4 KiB to 1 GiB, not 1 KiB to 4 GiB with empty ticks
 * at both ends); a bit of room on a linear one.
 */
function range(values: number[], log: boolean, zero: boolean, margin?: number): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (finite.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (log && margin !== undefined) return [lo / margin, hi === lo ? hi * margin * 10 : hi * margin];
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi === lo) hi = lo * 10;
    return [lo, hi];
  }
  if (zero) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  return [lo, hi + (hi - lo) * 0.05];
}

export function lineChart(o: ChartOptions): string {
  const width = 820;
  const height = 480;
  const left = 86;
  const right = 190;
  const top = 58;
  const bottom = 58;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = o.series.flatMap((s) => s.points);
  const [x0, x1] = range(
    all.map((p) => p.x),
    o.xLog,
    true,
    1.6,
  );
  const [y0, y1] = range(
    all.map((p) => p.y),
    o.yLog,
    true,
  );
  const fx = (x: number) => left + (o.xLog ? Math.log(x / x0) / Math.log(x1 / x0) : (x - x0) / (x1 - x0)) * plotW;
  const fy = (y: number) =>
    top + plotH - (o.yLog ? Math.log(y / y0) / Math.log(y1 / y0) : (y - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`);
  parts.push('<rect width="100%" height="100%" fill="#fff"/>');
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  // A subtitle too long for the width (about 6 px a character) goes on two lines, split after a comma.
  const cut = o.subtitle.length > 125 ? o.subtitle.lastIndexOf(', ', 125) : -1;
  const sub = cut > 0 ? [o.subtitle.slice(0, cut + 1), o.subtitle.slice(cut + 2)] : [o.subtitle];
  sub.forEach((line, i) => {
    parts.push(`<text x="10" y="${34 + i * 13}" font-size="11" fill="#555">${esc(line)}</text>`);
  });
  // The x axis of sizes gets a tick per power of 4 only when that leaves room for the labels.
  const xTicks = o.xLog && ticks(x0, x1, true, 4).length <= 12 ? ticks(x0, x1, true, 4) : ticks(x0, x1, o.xLog, 10);
  for (const t of xTicks) {
    const x = fx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + plotH}" stroke="#e4e4e4"/>`);
    parts.push(
      `<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${esc(o.xFormat(t))}</text>`,
    );
  }
  for (const t of ticks(y0, y1, o.yLog, 10)) {
    const y = fy(t).toFixed(1);
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(
      `<text x="${left - 6}" y="${(fy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(o.yFormat(t))}</text>`,
    );
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 16}" text-anchor="middle" font-size="12">${esc(o.xLabel)}${o.xLog ? ' (log scale)' : ''}</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}${o.yLog ? ' (log scale)' : ''}</text>`,
  );
  o.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!o.yLog || p.y > 0));
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${fx(p.x).toFixed(1)},${fy(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const p of pts) {
      parts.push(
        `<circle cx="${fx(p.x).toFixed(1)}" cy="${fy(p.y).toFixed(1)}" r="3" fill="${s.dashed ? '#fff' : s.color}" stroke="${s.color}" stroke-width="1.5">` +
          `<title>${esc(`${s.name}: ${o.xFormat(p.x)} → ${o.yFormat(p.y)}`)}</title></circle>`,
      );
    }
    const ly = top + 8 + i * 20;
    const lx = left + plotW + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 32}" y="${ly + 4}" font-size="12">${esc(s.name)}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
