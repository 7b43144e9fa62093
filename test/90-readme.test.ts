/**
 * The README's examples run as written, on whichever runtime runs this file (the test matrix
 * runs it on every runtime the README claims). Each ```js and ```ts block is written to a module
 * of its own (```cjs: a CommonJS file), with `'memmap'` pointing at this build, and run in a child process next to a
 * fresh `hello.txt`. A line `expr; // literal` (a number or a quoted string) is checked: the
 * child fails unless `expr` equals the literal. A block that uses `using` runs where the
 * runtime's JavaScript has it; elsewhere it is skipped with that reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { WINDOWS, onWindows, scratchDir } from './helpers.js';

const dir = scratchDir();
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const memmap = new URL('../src/index.js', import.meta.url).href;

const memmapCjs = fileURLToPath(new URL('../cjs/index.js', import.meta.url));
const blocks = [...readme.matchAll(/^```(js|ts|cjs)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));

function hasUsing(): boolean {
  try {
    new Function('{ using x = null; }');
    return true;
  } catch {
    return false;
  }
}

/** `expr; // 6` or `expr; // 'text'` becomes a check that expr is that value. */
const CHECKED = /^(\s*)(?!const |let |var |using )(\S.*?);\s*\/\/\s*(-?\d+|'(?:[^'\\]|\\.)*')\s*$/;

function runnable(code: string, commonjs: boolean): { source: string; checks: number } {
  let checks = 0;
  const body = code
    .replaceAll(`from 'memmap'`, `from ${JSON.stringify(memmap)}`)
    .replaceAll(`require('memmap')`, `require(${JSON.stringify(memmapCjs)})`)
    .split('\n')
    .map((line) => {
      const m = CHECKED.exec(line);
      if (m === null) return line;
      checks++;
      return `${m[1]}__check(${m[2]}, ${m[3]}, ${JSON.stringify(line.trim())});`;
    })
    .join('\n');
  const prelude = [
    commonjs
      ? `const { isMainThread: __main } = require('node:worker_threads');`
      : `import { isMainThread as __main } from 'node:worker_threads';`,
    'let __checked = 0;',
    'const __check = (actual, expected, line) => {',
    '  if (actual !== expected) throw new Error(`${line}: got ${JSON.stringify(actual)}`);',
    '  __checked++;',
    '};',
    `if (__main) process.on('exit', (code) => { if (code === 0) console.log('README checks: ' + __checked); });`,
  ].join('\n');
  return { source: `${prelude}\n${body}\n`, checks };
}

test('the README has the examples this file runs', () => {
  assert.ok(blocks.length >= 3, `${blocks.length} blocks`);
  assert.ok(
    blocks.some((b) => !/^\s*using /m.test(b.code) && /finally/.test(b.code)),
    'a try/finally example for Node 20/22',
  );
  assert.ok(
    blocks.some((b) => /^\s*using /m.test(b.code)),
    'a using example',
  );
});

blocks.forEach(({ lang, code }, i) => {
  const usesUsing = /^\s*using /m.test(code);
  const firstLine = code.split('\n').find((l) => l.trim() !== '' && !l.startsWith('import')) ?? '';
  const skip =
    usesUsing && !hasUsing()
      ? "this runtime's JavaScript has no `using` declarations (a SyntaxError): the README shows try/finally for it"
      : onWindows && /\bmm\.fd\b/.test(code)
        ? WINDOWS.memoryFile
        : false;
  test(`README block ${i + 1} (${lang}): ${firstLine.trim().slice(0, 60)}`, { skip }, () => {
    const { source, checks } = runnable(code, lang === 'cjs');
    const here = join(dir, `block${i + 1}`);
    mkdirSync(here);
    writeFileSync(join(here, 'hello.txt'), 'Hello Python!\n');
    const file = join(here, lang === 'cjs' ? 'example.cjs' : 'example.mjs');
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [file], { cwd: here, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, `${r.stderr}\n--- ran:\n${source}`);
    assert.match(r.stdout, new RegExp(`README checks: ${checks}$`, 'm'), `every checked line ran: ${r.stdout}`);
  });
});
