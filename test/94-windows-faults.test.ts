/**
 * The fault guard on Windows (native/windows.c, "the guard"): a page of a view that cannot be
 * read in raises EXCEPTION_IN_PAGE_ERROR (a read error on a network or removable drive), which
 * would end the process. Inside memmap's ranges the guard's vectored exception handler puts
 * zeros in place of the whole view; the next Mmap call throws ERR_MMAP_TRUNCATED, as the
 * SIGBUS guard does on POSIX (test/80-truncation). Every other exception stays fatal.
 *
 * Each case runs in a child process (test/fixtures/windows-fault.ts) with a test-only addon
 * (test/fixtures/windows-fault.c, built by npm run test:windows): Windows cannot shrink a
 * mapped file, so the real fault comes from Wine, whose Unix side can (a SIGBUS there, which
 * Wine reports as EXCEPTION_ACCESS_VIOLATION); EXCEPTION_IN_PAGE_ERROR itself is raised with
 * RaiseException at an address inside a map, as the processor would raise it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { PAGESIZE } from '../src/index.js';
import { onWindows, runFixture, scratchDir, skipIf } from './helpers.js';

const addonPath = fileURLToPath(new URL('../../build/test/windows-fault.node', import.meta.url));
const built = onWindows && existsSync(addonPath);
const wine = built && (createRequire(import.meta.url)(addonPath) as { isWine(): boolean }).isWine();

const windows = onWindows
  ? skipIf(!built, 'Windows: the test addon (test/fixtures/windows-fault.c) is built by npm run test:windows only')
  : { skip: 'Windows: POSIX has the SIGBUS guard (test/80-truncation)' };
const underWine =
  Object.keys(windows).length > 0
    ? windows
    : skipIf(
        !wine,
        "Windows: a mapped file cannot shrink on Windows; only Wine's Unix side can shrink it (the raise tests stand in for a failing drive)",
      );

const dir = onWindows ? scratchDir() : '';
const SIZE = 3 * PAGESIZE;
const FILL = 0xab;
const IN_PAGE = 0xc0000006;
const ACCESS_VIOLATION = 0xc0000005;

function child(args: string[]) {
  const r = runFixture('windows-fault', [args[0]!, dir, ...args.slice(1)], { timeout: 60_000 });
  return r;
}

function result(args: string[]): Record<string, unknown> {
  const r = child(args);
  assert.equal(
    r.status,
    0,
    `the child ended with ${r.status} (0x${(r.status ?? 0).toString(16)}); stderr: ${r.stderr}`,
  );
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** The child must end of the exception itself (its exit status is the exception code). */
function dies(args: string[], code: number): void {
  const r = child(args);
  assert.equal(
    r.status,
    code,
    `status ${r.status} (0x${(r.status ?? 0).toString(16)}); stdout: ${r.stdout}; stderr: ${r.stderr}`,
  );
  assert.doesNotMatch(r.stdout, /survived/);
}

const truncated = (size: number) => ({ code: 'ERR_MMAP_TRUNCATED', size });

for (const [access, target, probe] of [
  ['write', 'zero', 'view'],
  ['write', 'mid', 'api'],
  ['read', 'mid', 'view'],
  ['read', 'zero', 'api'],
  ['copy', 'zero', 'write'],
  ['copy', 'mid', 'view'],
] as const) {
  test(
    `Wine: ACCESS_${access.toUpperCase()} file shrunk from the Unix side to ${target === 'zero' ? '0' : 'mid-page'}, touched by ${probe === 'api' ? 'mm.get()' : `a raw view's ${probe === 'view' ? 'read' : 'write'}`}: zeros, then ERR_MMAP_TRUNCATED`,
    underWine,
    () => {
      const size = target === 'zero' ? 0 : PAGESIZE + 100;
      const o = result(['unix', access, target, probe]);
      assert.deepEqual(o, {
        before: FILL,
        faultedBefore: false,
        status: 0,
        size,
        touched: probe === 'view' ? 0 : probe === 'write' ? 7 : truncated(size),
        faulted: true,
        next: truncated(size),
        // the whole view is zeros, also below the new end (a view is replaced whole on Windows)
        nonZero: probe === 'write' ? 1 : 0,
        wrote: 9,
        closed: null,
        // nothing written through the view reached the file, which keeps its size and bytes
        fileSize: size,
        fileBytes: true,
      });
    },
  );
}

test('Wine: a fault inside a worker thread is caught the same way', underWine, () => {
  const o = result(['worker']);
  assert.deepEqual(o, {
    fromWorker: {
      before: FILL,
      faultedBefore: false,
      status: 0,
      size: 0,
      touched: 0,
      faulted: true,
      next: truncated(0),
      nonZero: 0,
      wrote: 9,
      closed: null,
      fileSize: 0,
      fileBytes: true,
    },
  });
});

for (const code of ['inpage', 'av'] as const) {
  test(
    `${code === 'inpage' ? 'EXCEPTION_IN_PAGE_ERROR' : 'EXCEPTION_ACCESS_VIOLATION on an accessible page'} inside a map: the view becomes zeros, the file is untouched, the next call throws ERR_MMAP_TRUNCATED`,
    windows,
    () => {
      assert.deepEqual(result(['raise', code]), {
        continued: true,
        faulted: true,
        next: truncated(SIZE),
        nonZero: 0,
        wrote: 9,
        closed: null,
        fileSize: SIZE,
        fileBytes: true,
      });
    },
  );

  test(
    `${code === 'inpage' ? 'EXCEPTION_IN_PAGE_ERROR' : 'EXCEPTION_ACCESS_VIOLATION'} outside memmap's ranges still ends the process`,
    windows,
    () => {
      dies(['outside', code], code === 'inpage' ? IN_PAGE : ACCESS_VIOLATION);
    },
  );
}

test("an instruction fetch from a map (DEP) is not the guard's: the process ends", windows, () => {
  dies(['execute'], ACCESS_VIOLATION);
});

test(
  "a protection fault inside a map (a page someone made PAGE_NOACCESS) is not the guard's: the process ends",
  windows,
  () => {
    dies(['protected'], ACCESS_VIOLATION);
  },
);
