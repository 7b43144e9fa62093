/**
 * A user's program that touches every public name of memmap. `npm run test:package` compiles it
 * against the installed tarball under --strict with `types: []`, as ESM (.mts), as CommonJS
 * (.cts) and with module commonjs, and runs the CommonJS build. Not part of the main build.
 */
import {
  Mmap,
  isMmapError,
  constants,
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  ACCESS_COPY,
  PAGESIZE,
  ALLOCATIONGRANULARITY,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_ANONYMOUS,
  MAP_ANON,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_POPULATE,
  MAP_STACK,
  MAP_NORESERVE,
  MAP_32BIT,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  type Data,
  type MmapOptions,
  type OpenOptions,
  type MmapError,
  type MmapErrorOf,
  type MmapCodedError,
  type MmapTruncatedError,
  type MmapErrorCode,
  type SystemError,
} from 'memmap';

const numbers: number[] = [
  ACCESS_DEFAULT,
  ACCESS_READ,
  ACCESS_WRITE,
  ACCESS_COPY,
  PAGESIZE,
  ALLOCATIONGRANULARITY,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_ANONYMOUS,
  MAP_ANON,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_DONTNEED,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
];
// Constants a platform may lack are typed `number | undefined`.
const optional: (number | undefined)[] = [
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_POPULATE,
  MAP_STACK,
  MAP_NORESERVE,
  MAP_32BIT,
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
];
const byName: Readonly<Record<string, number>> = constants;

const options: MmapOptions = { flags: MAP_SHARED, prot: PROT_READ | PROT_WRITE, offset: 0, trackfd: true };
const open: OpenOptions = { access: ACCESS_WRITE, length: PAGESIZE, create: true, mode: 0o600 };
const data: Data[] = ['text', new Uint8Array(2), new ArrayBuffer(1), new DataView(new ArrayBuffer(1))];

function describe(error: unknown): string {
  if (isMmapError(error, 'ERR_MMAP_TRUNCATED')) {
    const truncated: MmapTruncatedError = error;
    return `truncated to ${truncated.size}`;
  }
  if (isMmapError(error, 'ENOMEM')) {
    const system: SystemError = error;
    return `${system.syscall} ${system.errno}`;
  }
  if (isMmapError(error)) {
    const any: MmapError = error;
    const code: string = any.code;
    return code;
  }
  return String(error);
}
const closedCode: MmapErrorCode = 'ERR_MMAP_CLOSED';
const coded: MmapErrorOf<'ERR_MMAP_CLOSED'> | undefined = undefined as MmapCodedError<'ERR_MMAP_CLOSED'> | undefined;

{
  using mm = new Mmap(-1, PAGESIZE, options);
  mm.write(data[0]!);
  const head: Buffer = mm.slice(0, 4);
  const view: Uint8Array = mm.view(0, 4);
  let sum = 0;
  for (const byte of mm) sum += byte;
  mm.close();
  try {
    mm.read(1);
  } catch (error) {
    if (describe(error) !== closedCode) throw new Error('expected ERR_MMAP_CLOSED');
  }
  if (head.toString() !== 'text' || view.length !== 4 || sum !== 453) throw new Error('unexpected bytes');
}
if (
  numbers.length !== 21 ||
  optional.length !== 18 ||
  byName.ACCESS_READ !== ACCESS_READ ||
  open.length !== PAGESIZE ||
  coded !== undefined
) {
  throw new Error('unexpected constants');
}
console.log('consumer ok');
