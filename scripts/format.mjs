// npm run format: formats the TypeScript/JavaScript with prettier (.prettierrc.json) and the C
// with clang-format (.clang-format). npm run format:check only checks, and exits 1 on a
// difference. prettier is a devDependency; clang-format is the system's (Debian/Ubuntu:
// apt install clang-format; macOS: brew install clang-format): without it the C is skipped,
// and the check says so.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const check = process.argv.includes('--check');
const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

const prettier = spawnSync(
  process.execPath,
  [
    require.resolve('prettier/bin/prettier.cjs'),
    check ? '--check' : '--write',
    '--log-level',
    'warn',
    '**/*.{ts,mts,cts,js,mjs,cjs}',
  ],
  { cwd: root, stdio: 'inherit' },
);
let failed = prettier.status !== 0;

const cFiles = ['native', join('test', 'fixtures')].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => /\.[ch]$/.test(f))
    .map((f) => join(dir, f)),
);
const clang = spawnSync('clang-format', check ? ['--dry-run', '-Werror', ...cFiles] : ['-i', ...cFiles], {
  cwd: root,
  stdio: 'inherit',
});
if (clang.error) {
  console.log(`clang-format not found: ${cFiles.length} C files not ${check ? 'checked' : 'formatted'}`);
} else if (clang.status !== 0) {
  failed = true;
}
process.exit(failed ? 1 : 0);
