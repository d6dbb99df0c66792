// The configuration reference (docs/configuration.md, between its generated markers), made from the
// BUILT schema (lib.commonjs/config/gateway-config-schema.js: run `npm run build` first).
//
// The schema is walked through zod 4's own structures (`schema._zod.def`: `type`, `shape`,
// `innerType`, `defaultValue`, `options`, `element`, `valueType`, `checks`), which give every
// option's path, type, bounds and default exactly as the gateway parses them; a `.describe()`d
// schema's description is used when there is one, else the field's `/** ... */` comment in src.ts
// (scripts/schema-comments.mjs). Whether an option applies live comes from LIVE_OPTIONS
// (src.ts/reload/live-options.ts). Run `node scripts/gen-docs.mjs` to rewrite the page.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readSchemaComments } from './schema-comments.mjs';

const WRAPPERS = new Set(['optional', 'nullable', 'readonly', 'nonoptional', 'catch']);

/** `|` would end a table cell; line breaks would end the row. */
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text) => '`' + text + '`';

function formatValue(value) {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));
}

function numberType(def) {
  const checks = def.checks ?? [];
  const integer = def.format === 'safeint' || checks.some((check) => check._zod.def.check === 'number_format' && /int/.test(check._zod.def.format));
  let low;
  let high;
  for (const check of checks) {
    const { check: kind, value, inclusive } = check._zod.def;
    if (kind === 'greater_than') low = { value, inclusive };
    if (kind === 'less_than') high = { value, inclusive };
  }
  const base = integer ? 'integer' : 'number';
  if (low && high && low.inclusive && high.inclusive) return `${base} ${low.value}..${high.value}`;
  const bounds = [];
  if (low) bounds.push(`${low.inclusive ? '≥' : '>'} ${low.value}`);
  if (high) bounds.push(`${high.inclusive ? '≤' : '<'} ${high.value}`);
  return bounds.length ? `${base} ${bounds.join(', ')}` : base;
}

function stringType(def) {
  if (def.format === 'datetime') return 'ISO 8601 date-time';
  if (def.format === 'date') return 'ISO 8601 date';
  for (const check of def.checks ?? []) {
    const { check: kind, format } = check._zod.def;
    if (kind === 'string_format' && format === 'url') return 'URL';
  }
  return 'string';
}

/** The type of a schema as the reader writes it. */
function typeOf(schema) {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
    case 'default':
    case 'prefault':
      return typeOf(def.innerType);
    case 'pipe':
      return typeOf(def.in);
    case 'string':
      return stringType(def);
    case 'number':
      return numberType(def);
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'boolean';
    case 'literal':
      return def.values.map((value) => formatValue(value)).join(' | ');
    case 'enum':
      return Object.values(def.entries).map((value) => formatValue(value)).join(' | ');
    case 'object':
      return 'object';
    case 'array': {
      const element = typeOf(def.element);
      return element.includes(' ') ? `(${element})[]` : `${element}[]`;
    }
    case 'record':
      return `map of ${typeOf(def.valueType)}`;
    case 'union':
      return [...new Set(def.options.map(typeOf))].join(' | ');
    default:
      return def.type;
  }
}

/** What happens when the option is left out: its default, `none` (optional) or `required`. */
function defaultOf(schema) {
  let current = schema;
  for (;;) {
    const def = current._zod.def;
    if (def.type === 'default' || def.type === 'prefault') {
      const value = def.defaultValue;
      const inner = unwrap(def.innerType);
      if (inner._zod.def.type === 'object' && value && typeof value === 'object' && Object.keys(value).length === 0) return 'its fields\' defaults';
      return code(formatValue(value));
    }
    if (def.type === 'optional') return 'none';
    if (WRAPPERS.has(def.type)) {
      current = def.innerType;
      continue;
    }
    return 'required';
  }
}

/** The schema under optional/default/pipe wrappers. */
function unwrap(schema) {
  let current = schema;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) || def.type === 'default' || def.type === 'prefault') current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
}

/** The object shapes reachable from a schema, with the path suffix that leads into each. */
function shapesOf(schema, suffix = '') {
  const inner = unwrap(schema);
  const def = inner._zod.def;
  if (def.type === 'object') return [{ shape: def.shape, suffix }];
  if (def.type === 'union') return def.options.flatMap((option) => shapesOf(option, suffix));
  if (def.type === 'array') return shapesOf(def.element, `${suffix}[]`);
  if (def.type === 'record') return shapesOf(def.valueType, `${suffix}.<name>`);
  return [];
}

/** Every option under `schema` as rows `{ path, schema }`, depth first, in schema order. */
function rowsUnder(schema, path) {
  const rows = [];
  const seen = new Map();
  for (const { shape, suffix } of shapesOf(schema)) {
    for (const [name, field] of Object.entries(shape)) {
      const fieldPath = `${path}${suffix}.${name}`;
      const existing = seen.get(fieldPath);
      if (existing) {
        existing.schemas.push(field);
        continue;
      }
      const row = { path: fieldPath, schemas: [field] };
      seen.set(fieldPath, row);
      rows.push(row);
    }
  }
  return rows.flatMap((row) => [row, ...row.schemas.flatMap((field) => rowsUnder(field, row.path))]).filter(
    (row, index, all) => all.findIndex((other) => other.path === row.path) === index,
  );
}

function rowType(row) {
  return [...new Set(row.schemas.map(typeOf))].join(' | ');
}

function rowDefault(row) {
  return [...new Set(row.schemas.map(defaultOf))].join(' / ');
}

/** The generated Markdown: an index of the top-level options, then one section per option. */
export function renderConfigReference(root) {
  const require = createRequire(join(root, 'package.json'));
  const { gatewayConfigSchema } = require(join(root, 'lib.commonjs/config/gateway-config-schema.js'));
  const { LIVE_OPTIONS } = require(join(root, 'lib.commonjs/reload/live-options.js'));
  const { fields, schemas } = readSchemaComments(root);
  const describe = (path, schema) => schema?.description ?? fields.get(path) ?? schemas.get(path) ?? '';

  const shape = gatewayConfigSchema._zod.def.shape;
  const lines = [];
  lines.push('| option | type | default | live |', '|---|---|---|---|');
  for (const [name, schema] of Object.entries(shape)) {
    lines.push(`| [${code(name)}](#${name.toLowerCase()}) | ${cell(code(typeOf(schema)))} | ${cell(defaultOf(schema))} | ${LIVE_OPTIONS.has(name) ? 'yes' : 'restart'} |`);
  }
  for (const [name, schema] of Object.entries(shape)) {
    lines.push('', `### ${code(name)}`, '');
    lines.push(`Type ${cell(code(typeOf(schema)))}; default ${defaultOf(schema)}; ${LIVE_OPTIONS.has(name) ? 'applies live' : 'read at start (a change needs a restart)'}.`);
    const text = describe(name, schema);
    if (text) lines.push('', text);
    const rows = rowsUnder(schema, name);
    if (rows.length === 0) continue;
    lines.push('', '| option | type | default | meaning |', '|---|---|---|---|');
    for (const row of rows) {
      lines.push(`| ${cell(code(row.path))} | ${cell(code(rowType(row)))} | ${cell(rowDefault(row))} | ${cell(describe(row.path, row.schemas[0]))} |`);
    }
  }
  return lines.join('\n');
}
