/**
 * Every relative link of README.md and docs/*.md reaches an existing file and, when it names an
 * anchor, a heading (GitHub's anchor) or an `<a id>` of that page: README → a docs page → an option
 * or an error code stays two working clicks.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

// Compiled to build/test/unit/: the repository is three levels up.
const root = join(__dirname, '..', '..', '..');

interface BrokenLink {
  page: string;
  line: number;
  target: string;
  reason: string;
}
interface DocLinksModule {
  brokenLinks(root: string): BrokenLink[];
  documentationPages(root: string): string[];
  slugOf(heading: string): string;
  anchorsOf(text: string): Set<string>;
}

const load = async (): Promise<DocLinksModule> => (await import(pathToFileURL(join(root, 'scripts', 'check-doc-links.mjs')).href)) as DocLinksModule;

describe('documentation links', () => {
  it('every relative link in README.md and docs/*.md reaches its file and anchor', async () => {
    const { brokenLinks, documentationPages } = await load();
    assert.ok(documentationPages(root).includes('docs/configuration.md'));
    const broken = brokenLinks(root).map(({ page, line, target, reason }) => `${page}:${line} ${target}: ${reason}`);
    assert.deepEqual(broken, []);
  });

  it('the README links the docs map to each page, and the configuration page to every option', async () => {
    const { anchorsOf } = await load();
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes('](docs/configuration.md'), 'README links docs/configuration.md');
    const configuration = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const anchors = anchorsOf(configuration);
    for (const option of ['timeouts', 'openaicompatibleproviders', 'store', 'apikeys']) assert.ok(anchors.has(option), option);
  });

  it('anchors are made as GitHub makes them', async () => {
    const { slugOf, anchorsOf } = await load();
    assert.equal(slugOf('`zg-gateway serve`'), 'zg-gateway-serve');
    assert.equal(slugOf('What a request needs: context windows and capabilities'), 'what-a-request-needs-context-windows-and-capabilities');
    assert.equal(slugOf("Operators' files and logs"), 'operators-files-and-logs');
    assert.equal(slugOf('`timeouts`'), 'timeouts');
    const anchors = anchorsOf('# A\n## Same\n## Same\n```\n# not a heading\n```\n<a id="x"></a>\n');
    assert.deepEqual([...anchors].sort(), ['a', 'same', 'same-1', 'x']);
  });
});
