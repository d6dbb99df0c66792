import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The import check `npm test` runs (scripts/check-imports.mjs), run on small made-up trees.
const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'check-imports.mjs');

function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'check-imports-'));
  try {
    const src = join(root, 'src.ts');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(src, path, '..'), { recursive: true });
      writeFileSync(join(src, path), text);
    }
    const result = spawnSync(process.execPath, [SCRIPT, src], { encoding: 'utf8' });
    return { status: result.status, output: result.stdout + result.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('the import check', () => {
  it('passes imports that go down the declared layers', () => {
    const result = check({
      'errors/gateway-error.ts': 'export const a = 1;\n',
      'fleet/provider-registry.ts': "import { a } from '../errors/gateway-error.js';\nexport const b = a;\n",
    });
    assert.equal(result.status, 0, result.output);
  });

  it('fails a wrong-way import (a lower layer importing a higher one) even without a cycle', () => {
    const result = check({
      'errors/gateway-error.ts': "import type { B } from '../fleet/provider-registry.js';\nexport type A = B;\n",
      'fleet/provider-registry.ts': 'export type B = number;\n',
    });
    assert.equal(result.status, 1);
    assert.match(result.output, /wrong-way import: errors \(layer 0\) imports fleet \(layer 5\)/);
  });

  it('fails a folder that has no declared layer, and a cycle between files', () => {
    const unplaced = check({ 'gadgets/x.ts': "import { a } from '../errors/e.js';\nexport const x = a;\n", 'errors/e.ts': 'export const a = 1;\n' });
    assert.equal(unplaced.status, 1);
    assert.match(unplaced.output, /folder gadgets has no layer/);
    const cycle = check({ 'errors/a.ts': "import { b } from './b.js';\nexport const a = b;\n", 'errors/b.ts': "import { a } from './a.js';\nexport const b = a;\n" });
    assert.equal(cycle.status, 1);
    assert.match(cycle.output, /import cycle between files/);
  });
});
