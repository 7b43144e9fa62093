// Bun.mmap doing the benchmark's raw-access workloads, driven by bench/run.ts over stdin/stdout
// (run with the `bun` binary). Bun.mmap returns a plain Uint8Array over the mapping: it has no
// position, readline or flush, so only the rows that apply to a raw buffer are answered.
//
//   first stdin line: the configuration (JSON, see bench/config.ts)
//   stdin "run ROW"  ->  stdout "ok ROW NANOSECONDS CHECK" or "skip ROW REASON";  "quit" ends.
import { createInterface } from 'node:readline';

const now = () => process.hrtime.bigint();
const NL = 10;
const rl = createInterface({ input: process.stdin });
const input = rl[Symbol.asyncIterator]();
const cfg = JSON.parse((await input.next()).value);
const { ops } = cfg;
const PAGE = 4096;

function open(path, shared) {
  const u8 = Bun.mmap(path, { shared });
  let sum = 0;
  for (let i = 0; i < u8.length; i += PAGE) {
    sum += u8[i];
    if (shared) u8[i] = u8[i]; // untimed: populate the page tables (and dirty the pages)
  }
  return { u8, buf: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength), sum };
}

const lines = open(cfg.lines, false);
const out = open(cfg.write, true);
const big = open(cfg.big, false);

const records = Math.floor(big.u8.length / 64);
const offsets = new Float64Array(ops.random);
let x = cfg.seed >>> 0;
for (let i = 0; i < ops.random; i++) {
  x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  offsets[i] = ((x >>> 8) % records) * 64;
}
// page-aligned like every participant's write source (see alignedChunk in participants.ts)
const chunk = new Uint8Array(
  new WebAssembly.Memory({ initial: Math.ceil(cfg.writeChunk / 65536) }).buffer,
  0,
  cfg.writeChunk,
).fill(0x77);

function countNewlines(buf) {
  let n = 0;
  for (let p = 0; ; n++) {
    const at = buf.indexOf(NL, p);
    if (at < 0) return n;
    p = at + 1;
  }
}

const finder = (needle, reverse) => () => {
  const buf = lines.buf;
  const t0 = now();
  const at = reverse ? buf.lastIndexOf(needle) : buf.indexOf(needle);
  return [now() - t0, at];
};

const rows = {
  map_close_1mib() {
    // Bun.mmap takes a path (open + mmap + close); the unmap happens when the array is collected.
    const n = ops.map;
    const t0 = now();
    for (let i = 0; i < n; i++) Bun.mmap(cfg.small);
    const t = now() - t0;
    Bun.gc(true);
    return [t, n];
  },
  find_end_15: finder(Buffer.from('NEEDLE_AT_END__'), false),
  find_absent_bloom: finder(Buffer.from('NOT_PRESENT!!'), false),
  find_1byte: finder(Buffer.from('Z'), false),
  rfind_start: finder(Buffer.from('NEEDLE_AT_START'), true),
  get_int() {
    const u8 = lines.u8;
    let total = 0;
    const t0 = now();
    for (let i = 0; i < ops.byte; i++) total += u8[i];
    return [now() - t0, total];
  },
  slice_64() {
    const u8 = lines.u8;
    const span = u8.length - 64;
    const stride = cfg.stride;
    let total = 0;
    const t0 = now();
    for (let i = 0; i < ops.slice; i++) {
      const a = (i * stride) % span;
      total += u8.slice(a, a + 64)[0];
    }
    return [now() - t0, total];
  },
  write_4k_dirty() {
    const u8 = out.u8;
    const size = chunk.length;
    const n = Math.floor(u8.length / size);
    const t0 = now();
    for (let i = 0, pos = 0; i < n; i++, pos += size) u8.set(chunk, pos);
    return [now() - t0, n];
  },
  write_byte() {
    const u8 = out.u8;
    const t0 = now();
    for (let i = 0; i < ops.byte; i++) u8[i] = 98;
    return [now() - t0, ops.byte];
  },
  random_read_64() {
    const u8 = big.u8;
    let total = 0;
    const t0 = now();
    for (let i = 0; i < offsets.length; i++) {
      const a = offsets[i];
      total += u8.slice(a, a + 64)[0];
    }
    return [now() - t0, total];
  },
  scan_newlines() {
    const t0 = now();
    const count = countNewlines(big.buf);
    return [now() - t0, count];
  },
};

console.log('ready');
for (;;) {
  const { value, done } = await input.next();
  if (done) break;
  const [verb, row] = value.trim().split(/\s+/);
  if (verb === 'quit') break;
  const fn = rows[row];
  if (fn === undefined) {
    console.log(`skip ${row} no such operation on Bun.mmap's Uint8Array`);
    continue;
  }
  const [ns, check] = fn();
  console.log(`ok ${row} ${ns} ${check}`);
}
rl.close();
process.exit(0);
