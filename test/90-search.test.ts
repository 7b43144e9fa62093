/**
 * mm.search() / mm.matchAll(): regular expressions over the bytes of a map (src/search.ts).
 *
 * The differential part runs random patterns over random bytes in memmap and in CPython's
 * `re.finditer` over an mmap of the same file, and compares every match (start, end, groups):
 * on a plain map, on a windowed map (tiny windows), in tiny chunks (matches across chunk
 * boundaries), and on a sparse map just over 4 GiB with matches placed above 2^32. Patterns are
 * generated as trees and written out in each dialect (JavaScript's `.` also stops at `\r`, its
 * `^`/`$` are Python's `\A`/`\Z`), and never match the empty string (where the two engines
 * advance differently after an empty match, see docs/api.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';

import { ACCESS_READ, ACCESS_WRITE, Mmap, utf8Source } from '../src/index.js';
import { setWindowLimitForTesting } from '../src/mmap.js';
import { setChunkForTesting } from '../src/search.js';
import { findPython, makeFile, scratchDir, skipOn } from './helpers.js';

const dir = scratchDir();
const python = findPython();

/** A tiny deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [0x61, 0x61, 0x62, 0x62, 0x63, 0x0a, 0x0d, 0x20, 0x31, 0x39, 0x5f, 0xe9, 0x00, 0xff, 0x41];

function randomBytes(n: number, seed: number): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = ALPHABET[Math.floor(r() * ALPHABET.length)]!;
  return out;
}

type Pat = { js: string; py: string; consumes: boolean; group?: boolean };

const hex = (b: number) => '\\x' + b.toString(16).padStart(2, '0');

/** A random pattern in both dialects that cannot match the empty string. */
function randomPattern(r: () => number, depth = 0): Pat {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const atom = (): Pat => {
    const k = r();
    if (k < 0.35) {
      const b = pick(ALPHABET);
      return { js: hex(b), py: hex(b), consumes: true };
    }
    if (k < 0.55) {
      const c = pick([
        ['[a-c]', '[a-c]'],
        ['[^ab]', '[^ab]'],
        ['[\\x80-\\xff]', '[\\x80-\\xff]'],
        ['\\d', '\\d'],
        ['\\w', '\\w'],
        ['\\W', '\\W'],
        ['\\D', '\\D'],
        ['.', '§'],
        ['[\\s\\S]', '[\\s\\S]'],
        ['[\\x00\\n]', '[\\x00\\n]'],
      ]);
      return { js: c[0]!, py: c[1]!, consumes: true };
    }
    if (k < 0.7 && depth < 2) {
      const inner = randomPattern(r, depth + 1);
      if (r() < 0.5) {
        const alt = randomPattern(r, depth + 1);
        return { js: `(?:${inner.js}|${alt.js})`, py: `(?:${inner.py}|${alt.py})`, consumes: true, group: true };
      }
      return { js: `(?:${inner.js})`, py: `(?:${inner.py})`, consumes: true, group: true };
    }
    if (k < 0.8) {
      const c = pick([
        ['\\b', '\\b'],
        ['\\B', '\\B'],
        ['^', '\\A'],
        ['$', '\\Z'],
      ]);
      return { js: c[0]!, py: c[1]!, consumes: false };
    }
    if (k < 0.9) {
      const b = pick(ALPHABET);
      const c = pick([
        ['(?=', '(?='],
        ['(?!', '(?!'],
        ['(?<=', '(?<='],
        ['(?<!', '(?<!'],
      ]);
      return { js: `${c[0]}${hex(b)})`, py: `${c[1]}${hex(b)})`, consumes: false };
    }
    const b = pick(ALPHABET);
    return { js: hex(b), py: hex(b), consumes: true };
  };
  const parts: Pat[] = [];
  const n = 1 + Math.floor(r() * 4);
  let required = false;
  for (let i = 0; i < n; i++) {
    let p = atom();
    // Groups are not quantified: nested quantifiers backtrack exponentially in both engines.
    if (p.consumes && !p.group) {
      const q = r();
      const lazy = r() < 0.3 ? '?' : '';
      if (q < 0.15) p = { js: p.js + '*' + lazy, py: p.py + '*' + lazy, consumes: false };
      else if (q < 0.3) p = { js: p.js + '+' + lazy, py: p.py + '+' + lazy, consumes: true };
      else if (q < 0.4) p = { js: p.js + '?' + lazy, py: p.py + '?' + lazy, consumes: false };
      else if (q < 0.5) p = { js: p.js + '{1,3}' + lazy, py: p.py + '{1,3}' + lazy, consumes: true };
    }
    required ||= p.consumes;
    // Capture groups only outside quantifiers: JavaScript resets a quantified group's captures
    // on every iteration, Python keeps the last one that took part.
    if (p.consumes && r() < 0.25) p = { js: `(${p.js})`, py: `(${p.py})`, consumes: true };
    parts.push(p);
  }
  if (!required) {
    const b = pick(ALPHABET);
    parts.push({ js: hex(b), py: hex(b), consumes: true });
  }
  return { js: parts.map((p) => p.js).join(''), py: parts.map((p) => p.py).join(''), consumes: true };
}

type Found = [start: number, end: number, groups: (string | null)[]];

const PY_FINDITER = String.raw`
import json, mmap, re, sys
path, specs = sys.argv[1], json.load(open(sys.argv[2]))
with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
    out = []
    for spec in specs:
        flags = re.S if 's' in spec['flags'] else 0
        rx = re.compile(spec['py'].encode('latin1'), flags)
        out.append([[x.start(), x.end(), [None if g is None else g.decode('latin1') for g in x.groups()]]
                    for x in rx.finditer(m, spec.get('pos', 0), spec.get('endpos', len(m)))])
    json.dump(out, sys.stdout)
`;

function pythonMatches(path: string, specs: object[]): Found[][] {
  const specFile = join(dir, `specs-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(specFile, JSON.stringify(specs));
  try {
    const r = spawnSync(python![0]!, [...python!.slice(1), '-c', PY_FINDITER, path, specFile], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      timeout: 600_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Found[][];
  } finally {
    rmSync(specFile, { force: true });
  }
}

function jsMatches(mm: Mmap, re: RegExp, options?: { maxMatchLength: number }, start?: number, end?: number): Found[] {
  return [...mm.matchAll(re, start, end, options)].map((m) => [
    m.index,
    m.index + m.length,
    m.groups.map((g) => g ?? null),
  ]);
}

describe('search(), matchAll(): semantics', () => {
  test('byte offsets, groups, named groups and spans (d flag)', () => {
    const data = Buffer.concat([Buffer.from('xx caf'), Buffer.from('é', 'utf8'), Buffer.from(' id=42; id=7')]);
    using mm = new Mmap(-1, data.length);
    mm.write(data);
    const m = mm.search(/id=(?<n>\d+)/d)!;
    assert.equal(m.index, data.indexOf('id=42'));
    assert.equal(m.length, 5);
    assert.deepEqual(m.groups, ['42']);
    assert.deepEqual(m.named, { n: '42' });
    assert.deepEqual(m.spans, [[m.index + 3, m.index + 5]]);
    assert.equal(mm.search(/id=(\d+)/)!.spans, undefined);
    // UTF-8 text: bytes as latin1, or utf8Source() to write the pattern.
    const e = mm.search(new RegExp(utf8Source('café')))!;
    assert.equal(e.index, 3);
    assert.equal(e.length, 5);
    assert.equal(Buffer.from(e.match, 'latin1').toString('utf8'), 'café');
    assert.deepEqual(
      [...mm.matchAll(/id=(\d+)/g)].map((x) => x.groups[0]),
      ['42', '7'],
    );
    assert.equal(mm.search(/nothing/), null);
    assert.equal(mm.tell(), data.length, 'the position does not move');
  });

  test('bounds follow slice rules; the subject is the slice itself (^ at start, $ at end)', () => {
    using mm = new Mmap(-1, 12);
    mm.write('abcabcabcabc');
    assert.equal(mm.search(/abc/, 1)!.index, 3);
    assert.equal(mm.search(/abc/, -3)!.index, 9);
    assert.equal(mm.search(/abc/, 1, 5), null);
    assert.equal(mm.search(/^bc/, 1)!.index, 1);
    assert.equal(mm.search(/ab$/, 0, -1)!.index, 9);
    assert.equal(mm.search(/(?<!a)b/, 1)!.index, 1, 'lookbehind does not see before start');
    assert.equal(mm.search(/abc/, 20), null);
    assert.equal(mm.search(/abc/, 5, 2), null);
    assert.deepEqual(
      [...mm.matchAll(/x*/, 10)].map((m) => m.index),
      [10, 11, 12],
      'empty matches, then end',
    );
  });

  test('flags: g and lastIndex are ignored, y anchors, u/v/i/s/m work on bytes', () => {
    using mm = new Mmap(-1, 16);
    mm.write(Buffer.from('aab\nAB\xe9b\n', 'latin1'));
    const g = /b/g;
    g.lastIndex = 7;
    assert.equal(mm.search(g)!.index, 2);
    assert.equal(g.lastIndex, 7, "the caller's regexp is not changed");
    assert.equal(mm.search(/b/y), null, 'sticky: only at start');
    assert.equal(mm.search(/b/y, 2)!.index, 2);
    assert.deepEqual(
      [...mm.matchAll(/a/y)].map((m) => m.index),
      [0, 1],
      'sticky stops at the first gap',
    );
    assert.equal(mm.search(/\u{e9}/u)!.index, 6);
    assert.equal(mm.search(new RegExp('[\\xe9--a]', 'v'))!.index, 6);
    assert.equal(mm.search(/ab/i, 3)!.index, 4);
    assert.equal(mm.search(/^A/m)!.index, 4);
    assert.equal(mm.search(/b.A/s)!.index, 2);
  });

  test('bad arguments get coded errors', () => {
    using mm = new Mmap(-1, 8);
    assert.throws(() => mm.search('a' as unknown as RegExp), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => mm.search(/日本/), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => mm.matchAll(/€/u), { code: 'ERR_INVALID_ARG_VALUE' }, 'matchAll checks at once');
    assert.throws(() => mm.search(/a/, 0, 8, { maxMatchLength: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.search(/a/, 0, 8, { maxMatchLength: 2 ** 40 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => mm.search(/a/, 0, 8, { maxMatchLength: '9' as unknown as number }), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => mm.search(/a/, 0, 8, { chunk: 9 } as object), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => mm.search(/a/, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => Mmap.prototype.search.call({}, /a/), { code: 'ERR_INVALID_THIS' });
    const it = mm.matchAll(/\x00/);
    assert.equal(it.next().value!.index, 0);
    mm.close();
    assert.throws(() => it.next(), { code: 'ERR_MMAP_CLOSED' });
    assert.throws(() => mm.search(/a/), { code: 'ERR_MMAP_CLOSED' });
  });

  test('a match longer than maxMatchLength across chunks is refused, not cut short', (t) => {
    setChunkForTesting(256);
    t.after(() => setChunkForTesting(undefined));
    using mm = new Mmap(-1, 4096);
    mm.write(Buffer.alloc(4096, 0x61));
    assert.throws(() => mm.search(/a+/, 0, undefined, { maxMatchLength: 64 }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
    });
    assert.equal(mm.search(/a+/, 0, undefined, { maxMatchLength: 4096 })!.length, 4096, 'fits: one piece');
    // A match that crosses a chunk boundary and fits is found whole.
    mm.seek(300);
    mm.write('XYZ'.repeat(20));
    const m = mm.search(/(?:XYZ)+/, 0, undefined, { maxMatchLength: 64 })!;
    assert.deepEqual([m.index, m.length], [300, 60]);
  });
});

describe(
  'search(), matchAll(): differential against CPython re.finditer',
  { skip: python === null ? 'CPython 3.13 not found' : false },
  () => {
    const SIZE = 24 * 1024;
    const data = randomBytes(SIZE, 1313);
    // Runs of one byte and repeats, so long and overlapping matches happen too.
    data.fill(0x61, 10_000, 10_300);
    data.write('abcabcabc\nabc', 12_280, 'latin1');
    const path = makeFile(dir, data);
    const r = rng(4242);
    const specs: Array<{ js: string; py: string; flags: string }> = [];
    for (let i = 0; i < 300; i++) {
      const p = randomPattern(r);
      // '§' stands for JavaScript's '.': any byte with the s flag, else anything but \n and \r.
      const flags = r() < 0.2 ? 's' : '';
      specs.push({ js: p.js, py: p.py.replaceAll('§', flags === 's' ? '.' : '[^\\n\\r]'), flags });
    }
    let expected: Found[][] = [];
    test('CPython runs the patterns', () => {
      expected = pythonMatches(path, specs);
      assert.equal(expected.length, specs.length);
      const total = expected.reduce((n, x) => n + x.length, 0);
      const some = expected.filter((x) => x.length > 0).length;
      console.log(`# ${specs.length} patterns, ${some} with matches, ${total} matches in all`);
      assert.ok(some > specs.length / 3, 'most patterns match something');
    });

    const compare = (mm: Mmap, options?: { maxMatchLength: number }) => {
      let compared = 0;
      let refused = 0;
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        const re = new RegExp(spec.js, spec.flags);
        const want = expected[i]!;
        const longest = want.reduce((n, m) => Math.max(n, m[1] - m[0]), 0);
        if (options !== undefined && longest + 2 > options.maxMatchLength) {
          // Longer than the limit: refused with a code, or (when the long match never reaches a
          // chunk's end) found; never silently different within the limit.
          try {
            jsMatches(mm, re, options);
          } catch (error) {
            assert.equal((error as { code?: string }).code, 'ERR_OUT_OF_RANGE');
          }
          refused++;
          continue;
        }
        assert.deepEqual(jsMatches(mm, re, options), want, `pattern /${spec.js}/${spec.flags} (python ${spec.py})`);
        compared++;
      }
      return { compared, refused };
    };

    test('one plain map', () => {
      using mm = Mmap.open(path);
      const { compared } = compare(mm);
      assert.equal(compared, specs.length);
    });

    test('windowed map (4 KiB windows) and 1 KiB chunks, maxMatchLength 200', (t) => {
      setWindowLimitForTesting(16 * 1024);
      setChunkForTesting(1024);
      t.after(() => {
        setWindowLimitForTesting(undefined);
        setChunkForTesting(undefined);
      });
      using mm = Mmap.open(path);
      const { compared, refused } = compare(mm, { maxMatchLength: 200 });
      console.log(`# chunked: ${compared} patterns equal to CPython, ${refused} with a match over the limit`);
      assert.ok(compared > specs.length * 0.8);
    });

    test('sub-ranges: pos/endpos of a slice', () => {
      using mm = Mmap.open(path);
      const pr = rng(77);
      const sub: Array<{ js: string; py: string; flags: string; pos: number; endpos: number }> = [];
      for (let i = 0; i < 40; i++) {
        const s = Math.floor(pr() * SIZE);
        const e = s + Math.floor(pr() * (SIZE - s));
        // Anchors and lookbehind see the slice only in memmap; keep to patterns without them.
        const spec = specs[i]!;
        if (/\\A|\\Z|\(\?<|\\b|\\B/.test(spec.py)) continue;
        sub.push({ ...spec, pos: s, endpos: e });
      }
      const want = pythonMatches(path, sub);
      for (let i = 0; i < sub.length; i++) {
        const spec = sub[i]!;
        assert.deepEqual(jsMatches(mm, new RegExp(spec.js, spec.flags), undefined, spec.pos, spec.endpos), want[i]);
      }
      assert.ok(sub.length > 10);
    });
  },
);

describe(
  'search() over a sparse map just over 4 GiB',
  {
    skip:
      python === null
        ? 'CPython 3.13 not found'
        : (skipOn(
            'deno',
            "Deno's Buffer decodes latin1 in JavaScript: scanning the 4 GiB map took over 18 minutes there (Node: about 30 s)",
          ).skip ?? false),
  },
  () => {
    const FOUR_GIB = 2 ** 32;
    const size = FOUR_GIB + 3 * 1024 * 1024;

    function sparseFile(t: TestContext): string | null {
      const path = join(dir, 'sparse-4g.bin');
      let fd = -1;
      try {
        fd = openSync(path, 'w+');
        ftruncateSync(fd, size);
        const st = fstatSync(fd);
        if (st.size !== size || st.blocks * 512 > 16 * 1024 * 1024)
          throw Object.assign(new Error('not sparse'), { code: 'ENOTSPARSE' });
        return path;
      } catch (error) {
        t.skip(`this filesystem cannot hold a sparse 4 GiB file (${(error as NodeJS.ErrnoException).code})`);
        rmSync(path, { force: true });
        return null;
      } finally {
        if (fd >= 0) closeSync(fd);
      }
    }

    test("matches below, across and above 2^32 equal CPython's", { timeout: 600_000 }, (t) => {
      const path = sparseFile(t);
      if (path === null) return;
      after(() => rmSync(path, { force: true }));
      const places = [1000, FOUR_GIB - 7, FOUR_GIB + 12_345, FOUR_GIB + 2 * 1024 * 1024 + 1, size - 20];
      {
        using w = Mmap.open(path, { access: ACCESS_WRITE });
        places.forEach((at, i) => {
          w.seek(at);
          w.write(`key${i}=val${'x'.repeat(i)};`);
        });
      }
      using mm = Mmap.open(path, { access: ACCESS_READ });
      const js = jsMatches(mm, /key(\d)=(valx*);/);
      const want = pythonMatches(path, [{ py: 'key(\\d)=(valx*);', flags: '' }])[0]!;
      assert.deepEqual(js, want);
      assert.deepEqual(
        js.map((m) => m[0]),
        places,
      );
      assert.ok(js[1]![0] < FOUR_GIB && js[1]![1] > FOUR_GIB, 'one match crosses 2^32');
    });
  },
);
