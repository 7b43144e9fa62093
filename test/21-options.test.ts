/**
 * The options of `new Mmap` and `Mmap.open` (one path, src/options.ts): every bad option is
 * refused before `Mmap.open` opens, creates or extends a file, and `null` means the same as
 * `undefined` for every option.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  ACCESS_COPY,
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  MAP_PRIVATE,
  MAP_SHARED,
  Mmap,
  PAGESIZE,
  PROT_READ,
  PROT_WRITE,
} from '../src/index.js';
import { makeFile, openFd, scratchDir, skipOn, onWindows, skipIf, WINDOWS } from './helpers.js';

const dir = scratchDir();
const MiB = 2 ** 20;

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Options that, merged into `{ access: ACCESS_WRITE, length: 1 MiB, create: true }`, are bad. */
const BAD: Array<[string, Record<string, unknown>]> = [
  ['flags a string', { flags: 'x' }],
  ['flags a fraction', { flags: 1.5 }],
  ['flags with MAP_FIXED', { flags: MAP_SHARED | 0x10 }],
  ['access with flags', { flags: MAP_PRIVATE }],
  ['access with prot', { prot: PROT_READ }],
  ['flags MAP_PRIVATE, no access: not writable', { access: undefined, flags: MAP_PRIVATE }],
  ['prot PROT_READ, no access: not writable', { access: null, prot: PROT_READ }],
  ['prot a string', { access: undefined, prot: 'x' }],
  ['access 9', { access: 9 }],
  ['access a string', { access: 'x' }],
  ['access ACCESS_READ', { access: ACCESS_READ }],
  ['access ACCESS_COPY', { access: ACCESS_COPY }],
  ['offset negative', { offset: -PAGESIZE }],
  ['offset unaligned', { offset: 1 }],
  ['offset 2^53', { offset: 2 ** 53 }],
  ['offset a string', { offset: '0' }],
  ['offset a fraction', { offset: 1.5 }],
  ['offset + length past 2^53', { offset: 2 ** 53 - PAGESIZE, length: 2 * PAGESIZE }],
  ['trackfd a number', { trackfd: 1 }],
  ['trackfd a string', { trackfd: 'yes' }],
  ['mode negative', { mode: -1 }],
  ['mode past 0o7777', { mode: 0o10000 }],
  ['mode a string', { mode: '644' }],
  ['mode a fraction', { mode: 1.5 }],
  ['length negative', { length: -1 }],
  ['length 0', { length: 0 }],
  ['length a fraction', { length: 1.5 }],
  ['length a string', { length: '10' }],
  ['length 2^53', { length: 2 ** 53 }],
  ['create a string', { create: 'yes' }],
  ['an unknown option', { tagname: 'x' }],
  ...['flags', 'prot', 'access', 'offset', 'trackfd', 'length', 'create', 'mode'].map(
    (name): [string, Record<string, unknown>] => [`${name} a revoked Proxy`, { [name]: revoked() }],
  ),
];

function throwingGetter(): Record<string, unknown> {
  const options: Record<string, unknown> = { access: ACCESS_WRITE, length: MiB, create: true };
  Object.defineProperty(options, 'mode', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  return options;
}

function expectCoded(fn: () => unknown, what: string): void {
  assert.throws(
    fn,
    (error: unknown) => {
      assert.ok(
        error instanceof Error && [Error, TypeError, RangeError].includes(error.constructor as ErrorConstructor),
        `${what}: ${String(error)}`,
      );
      assert.equal(typeof (error as { code?: unknown }).code, 'string', `${what}: no code on ${String(error)}`);
      return true;
    },
    what,
  );
}

describe('Mmap.open refuses a bad option before touching the file system', skipIf(onWindows, WINDOWS.flags), () => {
  test('create: true with each bad option: no file is created', () => {
    let i = 0;
    for (const [what, bad] of BAD) {
      const path = join(dir, `new-${i++}.bin`);
      expectCoded(() => Mmap.open(path, { access: ACCESS_WRITE, length: MiB, create: true, ...bad } as never), what);
      assert.equal(existsSync(path), false, `${what}: the file was created`);
    }
    const path = join(dir, 'new-getter.bin');
    expectCoded(() => Mmap.open(path, throwingGetter() as never), 'a getter that throws');
    assert.equal(existsSync(path), false, 'a getter that throws: the file was created');
  });

  test('create: true with each bad option: a 5-byte file keeps its size and bytes', () => {
    for (const [what, bad] of [...BAD, ['a getter that throws', {}] as [string, Record<string, unknown>]]) {
      const path = makeFile(dir, 'hello');
      const options =
        what === 'a getter that throws'
          ? throwingGetter()
          : { access: ACCESS_WRITE, length: MiB, create: true, ...bad };
      expectCoded(() => Mmap.open(path, options as never), what);
      assert.equal(statSync(path).size, 5, `${what}: the file was extended`);
      assert.equal(readFileSync(path, 'utf8'), 'hello', what);
    }
  });

  test('the same options without create leave an existing file alone too', () => {
    for (const [what, bad] of BAD) {
      const path = makeFile(dir, 'hello');
      try {
        Mmap.open(path, { access: ACCESS_WRITE, length: 5, ...bad } as never).close();
      } catch (error) {
        assert.equal(typeof (error as { code?: unknown }).code, 'string', `${what}: ${String(error)}`);
      }
      assert.equal(readFileSync(path, 'utf8'), 'hello', what);
    }
  });

  test(
    'a good create still creates and extends; a failure after creating (EFBIG under ulimit -f) undoes it (child process)',
    skipOn(
      'deno',
      "Deno writes files past the limit while it starts and dies of SIGXFSZ under `ulimit -f`, before the test's code runs",
    ),
    (t) => {
      const made = join(dir, 'made.bin');
      const mm = Mmap.open(made, { access: ACCESS_WRITE, length: 3 * PAGESIZE, create: true, mode: 0o600 });
      assert.equal(mm.length, 3 * PAGESIZE);
      mm.close();
      assert.equal(statSync(made).size, 3 * PAGESIZE);
      assert.equal(statSync(made).mode & 0o777, 0o600 & ~process.umask());
      const small = makeFile(dir, 'hello');
      const grown = Mmap.open(small, { access: ACCESS_WRITE, length: PAGESIZE, offset: PAGESIZE, create: true });
      grown.close();
      assert.equal(statSync(small).size, 2 * PAGESIZE);
      assert.equal(readFileSync(small).subarray(0, 5).toString(), 'hello');

      // ftruncate past RLIMIT_FSIZE fails (EFBIG) after the file was created: Mmap.open removes the
      // file it created, and cuts a file it extended back to its size.
      const fresh = join(dir, 'fsize-new.bin');
      const existing = makeFile(dir, 'hello');
      const index = new URL('../src/index.js', import.meta.url).href;
      const code = `
      process.on('SIGXFSZ', () => {});
      const { Mmap, ACCESS_WRITE } = await import(${JSON.stringify(index)});
      const out = [];
      for (const path of ${JSON.stringify([fresh, existing])}) {
        try { Mmap.open(path, { access: ACCESS_WRITE, length: 1 << 20, create: true }).close(); out.push('opened'); }
        catch (e) { out.push(e.code); }
      }
      console.log(JSON.stringify(out));`;
      const r = spawnSync(
        'sh',
        ['-c', 'ulimit -f 64 || exit 99; exec "$0" "$@"', process.execPath, '--input-type=module', '-e', code],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (r.status === 99) {
        t.skip('the shell cannot set ulimit -f here');
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), ['EFBIG', 'EFBIG']);
      assert.equal(existsSync(fresh), false, 'the file Mmap.open created was removed');
      assert.equal(readFileSync(existing, 'utf8'), 'hello', 'the file Mmap.open extended has its size and bytes back');
    },
  );
});

describe('null means "not given" for every option, as undefined does', skipIf(onWindows, WINDOWS.flags), () => {
  const mapNames = ['flags', 'prot', 'access', 'offset', 'trackfd'] as const;

  test('new Mmap(fd, n, { option: null }) is new Mmap(fd, n, {}) for each option', () => {
    const path = makeFile(dir, Buffer.alloc(2 * PAGESIZE, 0x61));
    const fd = openFd(path);
    for (const name of mapNames) {
      for (const value of [null, undefined]) {
        const mm = new Mmap(fd, 0, { [name]: value });
        assert.equal(mm.access, ACCESS_DEFAULT, name);
        assert.equal(mm.offset, 0, name);
        assert.equal(mm.length, 2 * PAGESIZE, name);
        assert.ok(mm.fd >= 0, `${name}: trackfd defaults to true`);
        mm.set(0, 0x62); // shared and writable: reaches the file
        assert.equal(readFileSync(path)[0], 0x62, name);
        mm.set(0, 0x61);
        mm.close();
      }
    }
    // null next to given options, and an all-null options object.
    using w = new Mmap(fd, PAGESIZE, {
      access: ACCESS_WRITE,
      flags: null,
      prot: null,
      offset: PAGESIZE,
      trackfd: null,
    });
    assert.equal(w.access, ACCESS_WRITE);
    assert.equal(w.offset, PAGESIZE);
    using all = new Mmap(fd, 0, { flags: null, prot: null, access: null, offset: null, trackfd: null });
    assert.equal(all.access, ACCESS_DEFAULT);
    using anon = new Mmap(-1, 64, { flags: null, prot: null, access: null, offset: null, trackfd: null });
    assert.ok(anon.fd >= 0, 'shared anonymous memory, as with no options');
  });

  test('Mmap.open(path, { option: null }) is Mmap.open(path, {}) for each option', () => {
    const path = makeFile(dir, Buffer.alloc(PAGESIZE, 0x61));
    for (const name of [...mapNames, 'length', 'create', 'mode']) {
      for (const value of [null, undefined]) {
        const mm = Mmap.open(path, { [name]: value });
        assert.equal(mm.access, ACCESS_READ, name);
        assert.equal(mm.length, PAGESIZE, name);
        assert.equal(mm.offset, 0, name);
        assert.ok(mm.fd >= 0, name);
        assert.throws(() => mm.set(0, 1), { code: 'ERR_MMAP_READONLY' }, name);
        mm.close();
      }
    }
    // With flags or prot given, a null access is no access (CPython infers it from prot).
    using w = Mmap.open(path, { access: null, prot: PROT_READ | PROT_WRITE });
    assert.equal(w.access, ACCESS_DEFAULT);
    // create: null is create: false; mode: null is the default mode.
    assert.throws(() => Mmap.open(join(dir, 'absent.bin'), { access: ACCESS_WRITE, length: 8, create: null }), {
      code: 'ENOENT',
    });
    const made = join(dir, 'mode-null.bin');
    using c = Mmap.open(made, {
      access: ACCESS_WRITE,
      length: 8,
      create: true,
      mode: null,
      offset: null,
      trackfd: null,
      flags: null,
      prot: null,
    });
    assert.equal(statSync(made).mode & 0o777, 0o666 & ~process.umask());
    assert.equal(c.length, 8);
  });

  test('positional arguments stay required: new Mmap(null, n) and new Mmap(fd, null) are refused', () => {
    const fd = openFd(makeFile(dir, 'abc'));
    assert.throws(() => new Mmap(null as never, 3), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Mmap(fd, null as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});
