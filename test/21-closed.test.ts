/**
 * After close(): what every member of Mmap does, checked against docs/api.md's rule ("every
 * method and getter throws ERR_MMAP_CLOSED except ..."). The members are enumerated from the
 * prototype, so a new getter or method fails here until it is placed in one of the lists.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ACCESS_WRITE, ALLOCATIONGRANULARITY, Mmap } from '../src/index.js';
import { makeFile, scratchDir } from './helpers.js';

const dir = scratchDir();

/** Getters that still answer after close(), and what they answer. */
const GETTERS_AFTER_CLOSE: Record<string, (mm: Mmap) => unknown> = {
  closed: () => true,
  fd: () => -1,
  access: () => ACCESS_WRITE,
  offset: () => ALLOCATIONGRANULARITY,
  faulted: () => false,
};
/** Methods that still work after close(), and what they return. */
const METHODS_AFTER_CLOSE: Record<string, unknown> = {
  close: undefined,
  seekable: true,
  toString: '<mmap.mmap closed=True>',
};

function closedMap(): Mmap {
  const path = makeFile(dir, Buffer.alloc(2 * ALLOCATIONGRANULARITY, 1));
  const mm = Mmap.open(path, { access: ACCESS_WRITE, offset: ALLOCATIONGRANULARITY });
  mm.close();
  return mm;
}

const members = Object.getOwnPropertyNames(Mmap.prototype).filter((name) => name !== 'constructor');
const getters = members.filter((name) => Object.getOwnPropertyDescriptor(Mmap.prototype, name)!.get);
const methods = members.filter((name) => !getters.includes(name));

test('after close(), every getter throws ERR_MMAP_CLOSED except closed, fd, access, offset and faulted', () => {
  assert.ok(getters.length >= 6, `getters found: ${getters}`);
  const mm = closedMap();
  for (const name of getters) {
    const read = () => (mm as unknown as Record<string, unknown>)[name];
    if (name in GETTERS_AFTER_CLOSE) assert.equal(read(), GETTERS_AFTER_CLOSE[name]!(mm), name);
    else assert.throws(read, { code: 'ERR_MMAP_CLOSED', message: 'mmap closed or invalid' }, name);
  }
});

test('after close(), every method throws ERR_MMAP_CLOSED (flushAsync rejects with it) except close, seekable, toString and the disposer', async () => {
  const mm = closedMap();
  const call = (name: string) => (mm as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!();
  for (const name of methods) {
    if (name in METHODS_AFTER_CLOSE) {
      const result = call(name);
      if (name === 'toString') assert.match(String(result), /closed=True/, name);
      else assert.equal(result, METHODS_AFTER_CLOSE[name], name);
      continue;
    }
    let result: unknown;
    try {
      result = call(name);
    } catch (error) {
      assert.equal((error as { code?: unknown }).code, 'ERR_MMAP_CLOSED', name);
      continue;
    }
    // flushAsync() reports its errors through its promise, as async functions do.
    assert.ok(result instanceof Promise, `${name} returned ${String(result)} after close()`);
    await assert.rejects(result, { code: 'ERR_MMAP_CLOSED' }, name);
  }
  // Symbol-keyed members: the disposer closes (again: nothing happens); iteration throws.
  mm[Symbol.dispose]();
  assert.throws(() => [...mm], { code: 'ERR_MMAP_CLOSED' });
});
