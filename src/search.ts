/**
 * Regular-expression search over the bytes of a map: `mm.search()` and `mm.matchAll()`.
 *
 * JavaScript regular expressions run on strings, so bytes are decoded as latin1: one character
 * per byte, character offsets are byte offsets. A range that fits in one string (at most
 * CHUNK + 2·maxMatchLength bytes) is decoded once and searched as it is, with no limit on the
 * length of a match. A longer range (a map larger than V8's longest string, about 2^29
 * characters) is searched in chunks: the string for a chunk [c, c + CHUNK) also holds the
 * maxMatchLength bytes before it (for lookbehind, `\b` and `^` with the `m` flag) and after it
 * (so a match that starts in the chunk can end in the next one). Only matches that start inside
 * the chunk are taken; a taken match that reaches the end of its string is longer than
 * maxMatchLength and is refused with a coded error rather than reported cut short.
 */
import { argTypeError, rangeError } from './errors.js';

/** What the Mmap class lends the search: the map's length and its bytes as latin1. */
export interface SearchSource {
  readonly length: number;
  /** The bytes [start, end) as a latin1 string; throws if the map is closed or faulted. */
  latin1(start: number, end: number): string;
  /** Throws if the map was closed or faulted since the last call. */
  check(): void;
}

/** One match: byte offsets into the map. */
export interface MapMatch {
  /** Where the match starts, in bytes from the start of the map. */
  index: number;
  /** Its length in bytes. */
  length: number;
  /** The matched bytes as a latin1 string (`Buffer.from(m.match, 'latin1')` gives the bytes). */
  match: string;
  /** The capture groups 1..n as latin1 strings, `undefined` for a group that did not take part
   * (Python's `m.groups()`). */
  groups: (string | undefined)[];
  /** Named groups (Python's `m.groupdict()`); `undefined` when the pattern has none. */
  named: Record<string, string | undefined> | undefined;
  /** With the `d` flag only: the byte range `[start, end)` in the map of each capture group
   * 1..n, `undefined` for a group that did not take part (Python's `m.span(i)`). */
  spans?: ([number, number] | undefined)[];
}

/** Options of `mm.search()` and `mm.matchAll()`. */
export interface SearchOptions {
  /**
   * The longest match, lookarounds included, that is found across a chunk boundary of a long
   * range, in bytes. Default `DEFAULT_MAX_MATCH_LENGTH` (256 KiB); at most `MAX_MATCH_LENGTH`.
   * A range shorter than CHUNK + 2·maxMatchLength bytes is searched in one piece, with no limit.
   */
  maxMatchLength?: number;
}

/** Bytes of a chunk of a long range. Small enough that decoding reuses the same heap memory
 * chunk after chunk: a 64 MiB string is fresh pages every time and decodes 4× slower. */
export const CHUNK = 4 * 1024 * 1024;
export const DEFAULT_MAX_MATCH_LENGTH = 256 * 1024;
/** Keeps CHUNK + 2·maxMatchLength below V8's longest string (2^29 - 24 characters). */
export const MAX_MATCH_LENGTH = 64 * 1024 * 1024;

/** Chunk size used for long ranges; a test hook may lower it to exercise chunk boundaries. */
let chunkBytes = CHUNK;

/** @internal Lowers the chunk size so tests can cross chunk boundaries on small maps. */
export function setChunkForTesting(bytes: number | undefined): void {
  chunkBytes = bytes === undefined ? CHUNK : bytes;
}

const OPTION_NAMES = new Set(['maxMatchLength']);

/**
 * The regular expression the search runs: a copy of the caller's (whose `lastIndex` is never
 * read or changed) with `g` or `y`, so `lastIndex` says where to look.
 */
export function compile(regexp: unknown, from: Function): { re: RegExp; sticky: boolean; indices: boolean } {
  if (!(regexp instanceof RegExp)) throw argTypeError('regexp', 'an instance of RegExp', regexp, from);
  const source = regexp.source;
  const flags = regexp.flags;
  // A character above U+00FF can never be one byte. Most often it is text meant as UTF-8:
  // say how to write that instead of never matching. Some engines (JavaScriptCore) give
  // `source` with such characters escaped as \uXXXX or \u{...}: those count too (an escaped
  // backslash is skipped as a pair, so the text "\\u65E5" is not taken for one).
  for (let i = 0; i < source.length; i++) {
    let code = source.codePointAt(i)!;
    if (code === 0x5c /* \ */ && source[i + 1] === 'u') {
      const m = /^\\u(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]+)\})/.exec(source.slice(i, i + 16));
      if (m !== null) code = Number.parseInt(m[1] ?? m[2]!, 16);
    } else if (code === 0x5c) {
      i++; // an escaped character: never the start of an escape
      continue;
    }
    if (code > 0xff) {
      throw rangeError(
        'ERR_INVALID_ARG_VALUE',
        `The regexp has the character ${JSON.stringify(String.fromCodePoint(code))} (U+${code.toString(16).toUpperCase().padStart(4, '0')}), ` +
          'which no single byte can match: bytes are searched as latin1. Write UTF-8 text as its bytes, ' +
          'e.g. new RegExp(utf8Source("text"))',
        from,
      );
    }
  }
  const sticky = flags.includes('y');
  const indices = flags.includes('d');
  const own = flags.replace(/[gy]/g, '') + (sticky ? 'y' : 'g');
  return { re: new RegExp(source, own), sticky, indices };
}

function matchLimit(options: unknown, from: Function): number {
  if (options === undefined || options === null) return DEFAULT_MAX_MATCH_LENGTH;
  if (typeof options !== 'object') throw argTypeError('options', 'of type object', options, from);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) {
      throw rangeError(
        'ERR_INVALID_ARG_VALUE',
        `The option "${key}" is not supported; known options: maxMatchLength`,
        from,
      );
    }
  }
  const value = (options as SearchOptions).maxMatchLength;
  if (value === undefined) return DEFAULT_MAX_MATCH_LENGTH;
  if (typeof value !== 'number') throw argTypeError('maxMatchLength', 'of type number', value, from);
  if (!Number.isInteger(value) || value < 1 || value > MAX_MATCH_LENGTH) {
    throw rangeError(
      'ERR_OUT_OF_RANGE',
      `The value of "maxMatchLength" is out of range. It must be an integer from 1 to ${MAX_MATCH_LENGTH}. Received ${value}`,
      from,
    );
  }
  return value;
}

/** A checked regexp and options, ready to scan with. */
export interface Plan {
  re: RegExp;
  sticky: boolean;
  indices: boolean;
  limit: number;
}

/** Checks the arguments before any byte is read (so matchAll() throws at once, not on the first
 * step of its iterator). */
export function prepare(regexp: unknown, options: unknown, from: Function): Plan {
  return { ...compile(regexp, from), limit: matchLimit(options, from) };
}

/**
 * Every match of `regexp` in the bytes [start, end) of the map, in order, as
 * `String.prototype.matchAll` finds them in the same bytes (a sticky regexp stops at the first
 * gap). `first` stops after one match.
 */
export function* scan(
  src: SearchSource,
  plan: Plan,
  start: number,
  end: number,
  from: Function,
): Generator<MapMatch, void, undefined> {
  const { re, sticky, indices, limit } = plan;
  if (start > end) return;
  const whole = end - start <= chunkBytes + 2 * limit;
  const chunk = whole ? end - start + 1 : chunkBytes;
  // The current string: bytes [a, b); matches are taken when they start in [cs, ce).
  let a = 0;
  let b = -1;
  let cs = 0;
  let ce = -1;
  let text = '';
  let pos = start;
  while (pos <= end) {
    if (pos < cs || pos >= ce) {
      cs = pos;
      ce = Math.min(pos + chunk, end + 1);
      a = whole ? start : Math.max(start, cs - limit);
      b = whole ? end : Math.min(end, ce + limit);
      text = ''; // let the previous chunk's string go before the next is made
      text = src.latin1(a, b);
    } else {
      src.check();
    }
    re.lastIndex = pos - a;
    const m = re.exec(text);
    if (m === null) {
      if (sticky || b === end) return;
      pos = ce;
      continue;
    }
    const index = a + m.index;
    if (index >= ce && b !== end) {
      pos = index; // nothing starts in this chunk; the next one starts at this match
      continue;
    }
    const length = m[0].length;
    if (index + length >= b && b !== end) {
      throw rangeError(
        'ERR_OUT_OF_RANGE',
        `A match at byte ${index} is longer than maxMatchLength (${limit} bytes); ` +
          'pass a larger { maxMatchLength } or search a shorter range',
        from,
      );
    }
    const found: MapMatch = {
      index,
      length,
      match: m[0],
      groups: m.slice(1),
      named: m.groups === undefined ? undefined : { ...m.groups },
    };
    if (indices) {
      const spans = (m as RegExpExecArray & { indices?: ([number, number] | undefined)[] }).indices!;
      found.spans = spans.slice(1).map((s) => (s === undefined ? undefined : [a + s[0], a + s[1]]));
    }
    pos = index + length + (length === 0 ? 1 : 0);
    yield found;
  }
}

/** The first match, or null. */
export function first(src: SearchSource, plan: Plan, start: number, end: number, from: Function): MapMatch | null {
  for (const m of scan(src, plan, start, end, from)) return m;
  return null;
}

/**
 * A regular-expression source that matches the UTF-8 bytes of `text` literally: each byte
 * written as `\xHH` (or as itself when it is a plain ASCII letter or digit).
 *
 * ```ts
 * mm.search(new RegExp(utf8Source('naïve') + '\\s+\\d+'));
 * ```
 */
export function utf8Source(text: string): string {
  if (typeof text !== 'string') throw argTypeError('text', 'of type string', text, utf8Source);
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const alnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    out += alnum ? String.fromCharCode(byte) : '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out;
}
