#!/usr/bin/env node
/**
 * npm run test:matrix — the whole test suite on every runtime memmap claims.
 *
 * Installs exact versions of the runtimes from npm (`npm pack` + tar, into `.runtimes/`, reused
 * when present; never a global install), builds once, runs the suite on each and prints one
 * table: runtime | passed | failed | skipped | time. Exits non-zero when anything failed.
 *
 *   node scripts/test-matrix.mjs                 every runtime
 *   node scripts/test-matrix.mjs --node-only     Node 20, 22, 24 and 26
 *   node scripts/test-matrix.mjs --runtime node24 --runtime bun   (or --runtime node24,bun)
 *
 * Bun and Deno run the same files through their Node compatibility (`bun test`, `deno test`);
 * a test that needs a feature one of them lacks skips there with the reason (`skipOn` in
 * test/helpers.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { RUNTIMES, cache, install, reportedVersion, root } from './runtimes.mjs';

function parseArgs(argv) {
  let names = Object.keys(RUNTIMES);
  const chosen = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node-only') names = names.filter((n) => n.startsWith('node'));
    else if (a === '--runtime') chosen.push(...String(argv[++i] ?? '').split(','));
    else if (a.startsWith('--runtime=')) chosen.push(...a.slice('--runtime='.length).split(','));
    else if (a === '--help' || a === '-h') {
      console.log(
        `usage: test-matrix [--node-only] [--runtime NAME[,NAME]]...\nruntimes: ${Object.keys(RUNTIMES).join(', ')}`,
      );
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (chosen.length > 0) {
    for (const n of chosen) {
      if (!(n in RUNTIMES)) {
        console.error(`unknown runtime ${n}; known: ${Object.keys(RUNTIMES).join(', ')}`);
        process.exit(2);
      }
    }
    names = names.filter((n) => chosen.includes(n));
  }
  return names;
}

function testFiles() {
  return readdirSync(join(root, 'dist', 'test'))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => join('dist', 'test', f));
}

/** The command for one runtime, and how to read its summary. */
function command(name, exe) {
  if (name.startsWith('node')) {
    return {
      args: [exe, '--test', '--test-concurrency=2', '--test-reporter=tap', ...testFiles()],
      parse: (out) => {
        // The last "# pass N" etc.: the run's summary (subtests print none of their own).
        const n = (key) => {
          const all = [...out.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
          return all.length === 0 ? null : Number(all[all.length - 1][1]);
        };
        if (n('pass') === null) return null;
        return {
          passed: n('pass'),
          failed: n('fail') + (n('cancelled') ?? 0),
          skipped: n('skipped') + (n('todo') ?? 0),
        };
      },
    };
  }
  if (name === 'bun') {
    return {
      args: [exe, 'test', '--timeout', '600000', ...testFiles().map((f) => `./${f}`)],
      parse: (out) => {
        const n = (key) => Number((out.match(new RegExp(`^\\s*(\\d+) ${key}$`, 'm')) ?? [0, 0])[1]);
        if (!/^\s*\d+ pass$/m.test(out)) return null;
        return { passed: n('pass'), failed: n('fail'), skipped: n('skip') + n('todo') };
      },
    };
  }
  return {
    args: [exe, 'test', '-A', '--no-check', ...testFiles()],
    parse: (out) => {
      // "ok | 75 passed (3 steps) | 15 failed | 2 ignored (...)"
      const line = out
        .split('\n')
        .reverse()
        .find((l) => /^(ok|FAILED) \| /.test(l.replace(/\x1b\[[0-9;]*m/g, '')));
      if (line === undefined) return null;
      const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
      const n = (key) => Number((plain.match(new RegExp(`(\\d+) ${key}`)) ?? [0, 0])[1]);
      return { passed: n('passed'), failed: n('failed'), skipped: n('ignored') };
    },
  };
}

function run(name, exe) {
  const { args, parse } = command(name, exe);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(args[0], args.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let out = '';
    const keep = (chunk) => {
      out += chunk;
      if (process.env.MATRIX_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      const counts = parse(out);
      const log = join(cache, `${name}.log`);
      writeFileSync(log, out);
      resolve({ name, code, signal, seconds, counts, log });
    });
  });
}

const names = parseArgs(process.argv.slice(2));
const exes = Object.fromEntries(names.map((n) => [n, install(n)]));
/** The version each binary reports, which must be the pinned one. */
const versions = Object.fromEntries(
  names.map((n) => {
    const reported = reportedVersion(exes[n]);
    if (reported !== RUNTIMES[n].version) {
      console.error(`${exes[n]} reports ${reported}, not ${RUNTIMES[n].version}`);
      process.exit(1);
    }
    return [n, reported];
  }),
);

console.error('building ...');
const build = spawnSync('npm', ['run', 'compile', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const rows = [];
for (const n of names) {
  console.error(`running the suite on ${n} (${versions[n]}) ...`);
  const r = await run(n, exes[n]);
  rows.push(r);
  const c = r.counts;
  console.error(
    `  ${n}: ${c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped` : 'no summary'}` +
      ` in ${r.seconds.toFixed(0)} s (exit ${r.code ?? r.signal}; log: ${r.log})`,
  );
}

const table = [
  ['runtime', 'passed', 'failed', 'skipped', 'time'],
  ['---', '---:', '---:', '---:', '---:'],
];
let ok = true;
for (const r of rows) {
  const c = r.counts;
  const failed = c === null || c.failed > 0 || r.code !== 0;
  if (failed) ok = false;
  table.push([
    `${r.name.replace(/\d+$/, '')} ${versions[r.name]}`,
    c ? String(c.passed) : '?',
    c ? String(c.failed) : `? (exit ${r.code ?? r.signal})`,
    c ? String(c.skipped) : '?',
    `${Math.floor(r.seconds / 60)} min ${String(Math.round(r.seconds % 60)).padStart(2, '0')} s`,
  ]);
}
console.log(table.map((cells) => `| ${cells.join(' | ')} |`).join('\n'));
process.exit(ok ? 0 : 1);
