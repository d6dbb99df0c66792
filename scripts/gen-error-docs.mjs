// The error table of docs/errors.md (between its generated markers), made from ERROR_CODES of the
// BUILT library (lib.commonjs/errors/error-codes.js: run `npm run build` first). The table is
// the one the gateway answers with, so the page cannot drift from it; prose stays around it.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One row per code, in the table's order: code, HTTP status, OpenAI-style type, meaning. */
export function renderErrorTable(root) {
  const require = createRequire(join(root, 'package.json'));
  const { ERROR_CODES } = require(join(root, 'lib.commonjs/errors/error-codes.js'));
  const lines = ['| code | HTTP | type | meaning |', '|---|---|---|---|'];
  for (const [name, entry] of Object.entries(ERROR_CODES)) {
    lines.push(`| <a id="${name}"></a>\`${name}\` | ${entry.status} | \`${entry.type}\` | ${cell(entry.description)} |`);
  }
  return lines.join('\n');
}
