// Builds, in order:
//  1. the devnet workspace package (packages/zg-devnet: its lib.commonjs, lib.esm and tests);
//  2. the gateway library: src.ts -> lib.commonjs (CommonJS) and lib.esm (ES modules), each with a
//     package.json type marker;
//  3. the example (tsconfig.example.json) into lib.commonjs/example, where it imports 'zg-gateway';
//  4. the tests and the benchmark (tsconfig.json) into build/, outside what the package ships.
// Compiled tests import the gateway as 'zg-gateway' (Node resolves a package's own name through the
// root package.json exports) and the devnet as 'zg-devnet' (the workspace link in node_modules).
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function run(args, what) {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) {
    console.error(`build: ${what} failed`);
    process.exit(result.status ?? 1);
  }
}

const compile = (project) => run([tsc, '-p', join(root, project)], `tsc -p ${project}`);

run([join(root, 'packages/zg-devnet/scripts/build.mjs')], 'the zg-devnet package build');

for (const folder of ['lib.commonjs', 'lib.esm', 'build']) rmSync(join(root, folder), { recursive: true, force: true });

// Each output folder gets a package.json: its module type, and the package's name and entry
// again, so code compiled inside it (the example) can import 'zg-gateway' by name: Node
// resolves a self-reference through the nearest package.json, which is this marker.
function writeMarker(folder, type) {
  const marker = { name: 'zg-gateway', type, exports: { '.': './index.js' } };
  writeFileSync(join(root, folder, 'package.json'), JSON.stringify(marker, null, 2) + '\n');
}

compile('tsconfig.commonjs.json');
writeMarker('lib.commonjs', 'commonjs');
// The `zg-gateway` command (package.json `bin`), runnable straight from a clone too.
chmodSync(join(root, 'lib.commonjs/cli/main.js'), 0o755);

compile('tsconfig.esm.json');
writeMarker('lib.esm', 'module');
// The one module that differs between the two formats: how to get a `require` that
// resolves packages from this file's location (CommonJS has one; ESM builds it from import.meta.url).
writeFileSync(
  join(root, 'lib.esm/internal/package-require.js'),
  "import { createRequire } from 'node:module';\n" +
    '/** A require function resolving from this package (ESM build). */\n' +
    'export const packageRequire = createRequire(import.meta.url);\n',
);

compile('tsconfig.example.json');
compile('tsconfig.json');
