// Builds the dual package: src.ts -> lib.commonjs (CommonJS) and lib.esm (ES modules),
// each with a package.json type marker, then the example and the tests (tsconfig.json)
// into lib.commonjs/example and lib.commonjs/test, where they import the package by name.
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
    console.error(`build: tsc -p ${project} failed`);
    process.exit(result.status ?? 1);
  }
}

rmSync(join(root, 'lib.commonjs'), { recursive: true, force: true });
rmSync(join(root, 'lib.esm'), { recursive: true, force: true });

// Each output folder gets a package.json: its module type, and the package's name and subpaths
// again, so code compiled inside it (the example, the tests) can import 'zg-gateway' by name:
// Node resolves a self-reference through the nearest package.json, which is this marker.
function writeMarker(folder, type) {
  const marker = { name: 'zg-gateway', type, exports: { '.': './index.js', './devnet': './devnet/index.js' } };
  writeFileSync(join(root, folder, 'package.json'), JSON.stringify(marker, null, 2) + '\n');
}

compile('tsconfig.commonjs.json');
writeMarker('lib.commonjs', 'commonjs');

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

compile('tsconfig.json');
