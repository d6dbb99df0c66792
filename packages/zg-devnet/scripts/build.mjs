// Builds zg-devnet: src.ts -> lib.commonjs (CommonJS) and lib.esm (ES modules), each with a
// package.json type marker, then its tests (tsconfig.json) into build/, where they import
// the package by its name (Node resolves a package's own name through its package.json exports).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile(project) {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) {
    console.error(`zg-devnet build: tsc -p ${project} failed`);
    process.exit(result.status ?? 1);
  }
}

for (const folder of ['lib.commonjs', 'lib.esm', 'build']) rmSync(join(root, folder), { recursive: true, force: true });

compile('tsconfig.commonjs.json');
writeFileSync(join(root, 'lib.commonjs/package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');

compile('tsconfig.esm.json');
writeFileSync(join(root, 'lib.esm/package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
// The one module that differs between the two formats: a `require` resolving packages from
// this package's location (CommonJS has one; ESM builds it from import.meta.url).
writeFileSync(
  join(root, 'lib.esm/internal/package-require.js'),
  "import { createRequire } from 'node:module';\n" +
    '/** A require function resolving from this package (ESM build). */\n' +
    'export const packageRequire = createRequire(import.meta.url);\n',
);

if (!process.argv.includes('--no-tests')) compile('tsconfig.json');
