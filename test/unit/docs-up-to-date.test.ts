/**
 * The generated parts of the docs match the code: docs/configuration.md's option reference (from the
 * built zod schema) and docs/errors.md's error table (from ERROR_CODES). Both are regenerated in
 * memory by scripts/gen-docs.mjs, the script that writes them, and compared with the committed pages.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

// Compiled to build/test/unit/: the repository is three levels up.
const root = join(__dirname, '..', '..', '..');

interface GeneratedPage {
  file: string;
  current: string;
  expected: string;
}
interface GenDocsModule {
  generatedPages(root: string): GeneratedPage[];
  replaceBlock(text: string, marker: string, content: string, file?: string): string;
}

const loadGenDocs = async (): Promise<GenDocsModule> => (await import(pathToFileURL(join(root, 'scripts', 'gen-docs.mjs')).href)) as GenDocsModule;

/** The first differing line, for a message a reader can act on. */
function firstDifference(current: string, expected: string): string {
  const a = current.split('\n');
  const b = expected.split('\n');
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    if (a[index] !== b[index]) return `line ${index + 1}:\n  committed: ${a[index] ?? '(end of file)'}\n  generated: ${b[index] ?? '(end of file)'}`;
  }
  return 'no line differs';
}

describe('generated docs', () => {
  it('docs/configuration.md and docs/errors.md are what scripts/gen-docs.mjs generates now', async () => {
    const { generatedPages } = await loadGenDocs();
    const pages = generatedPages(root);
    assert.deepEqual(
      pages.map((page) => page.file),
      ['docs/configuration.md', 'docs/errors.md'],
    );
    for (const { file, current, expected } of pages) {
      assert.ok(current === expected, `${file} is out of date: run \`node scripts/gen-docs.mjs\` (after npm run build) and commit it. First difference at ${firstDifference(current, expected)}`);
    }
  });

  it('the configuration reference has a section for every top-level option and a row for nested ones', async () => {
    const { generatedPages } = await loadGenDocs();
    const config = generatedPages(root).find((page) => page.file === 'docs/configuration.md');
    assert.ok(config);
    for (const heading of ['### `timeouts`', '### `store`', '### `strategy`', '### `apiKeys`']) assert.ok(config.expected.includes(heading), heading);
    for (const row of ['`timeouts.firstByte`', '`store.prefix`', '`pools.<name>.overflow`', '`openAICompatibleProviders[].models`', '`apiKeys[].rpm`']) {
      assert.ok(config.expected.includes(`| ${row} |`), row);
    }
    // Defaults are the schema's, not hand-copied: timeouts.firstByte defaults to 30 s.
    assert.match(config.expected, /\| `timeouts\.firstByte` \| `integer > 0` \| `30000` \|/);
  });

  it('a block between markers is replaced and the prose around it kept; a page without markers is refused', async () => {
    const { replaceBlock } = await loadGenDocs();
    const page = 'before\n<!-- generated:x:start -->\nold\n<!-- generated:x:end -->\nafter\n';
    const next = replaceBlock(page, 'x', 'new');
    assert.ok(next.startsWith('before\n<!-- generated:x:start -->\n'));
    assert.ok(next.endsWith('\n\nnew\n\n<!-- generated:x:end -->\nafter\n'));
    assert.ok(!next.includes('old'));
    assert.equal(replaceBlock(next, 'x', 'new'), next);
    assert.throws(() => replaceBlock('no markers', 'x', 'new', 'docs/x.md'), /docs\/x\.md lacks the markers/);
  });
});
