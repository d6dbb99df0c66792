// Every relative link of README.md and docs/*.md must reach an existing file and, when it names an
// anchor (`page.md#anchor`, `#anchor`), a heading or `<a id>` of that page, as GitHub renders them.
// test/unit/doc-links.test.ts runs it; `node scripts/check-doc-links.mjs` prints the broken links.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Pages another branch writes (docs/api.md, the library API, comes with the curated exports):
 * a link to one may be dangling until that branch is merged. Remove an entry once its page exists.
 */
const PAGES_WRITTEN_ELSEWHERE = new Set(['docs/api.md']);

/** Lines outside fenced code blocks, with inline code spans blanked (links there are not links). */
function proseLines(text) {
  const lines = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      lines.push('');
      continue;
    }
    lines.push(fenced ? '' : line.replace(/`[^`]*`/g, (span) => ' '.repeat(span.length)));
  }
  return lines;
}

/** GitHub's heading anchor: lower case, punctuation dropped (not `-` or `_`), spaces as `-`. */
export function slugOf(heading) {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown page offers: its headings (repeats get `-1`, `-2`...) and `<a id|name>`. */
export function anchorsOf(text) {
  const anchors = new Set();
  const counts = new Map();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = slugOf(heading[1]);
      const seen = counts.get(slug) ?? 0;
      counts.set(slug, seen + 1);
      anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  }
  return anchors;
}

/** The pages checked: README.md and every docs/*.md, relative to the repository. */
export function documentationPages(root = repository) {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort() : [];
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Every broken relative link: `[{ page, line, target, reason }]`. */
export function brokenLinks(root = repository) {
  const anchorCache = new Map();
  const anchorsAt = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  const broken = [];
  for (const page of documentationPages(root)) {
    const file = join(root, page);
    proseLines(readFileSync(file, 'utf8')).forEach((line, index) => {
      for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = match[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:...
        const [path, anchor] = target.split('#', 2);
        const destination = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        const report = (reason) => broken.push({ page, line: index + 1, target, reason });
        if (!existsSync(destination)) {
          if (PAGES_WRITTEN_ELSEWHERE.has(relative(root, destination))) continue;
          report(`${relative(root, destination)} does not exist`);
          continue;
        }
        if (anchor !== undefined && anchor !== '' && destination.endsWith('.md') && !anchorsAt(destination).has(anchor)) {
          report(`${relative(root, destination)} has no heading or anchor #${anchor}`);
        }
      }
    });
  }
  return broken;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const broken = brokenLinks();
  for (const { page, line, target, reason } of broken) console.error(`${page}:${line}: ${target}: ${reason}`);
  if (broken.length > 0) process.exitCode = 1;
  else console.log(`doc links: ${documentationPages().length} pages, every relative link reaches its target`);
}
