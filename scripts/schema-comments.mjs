// The documentation comments of the configuration schema, by option path.
//
// zod keeps no comments at run time, and the schema's fields are documented with `/** ... */`
// comments in src.ts (the convention of every schema file), so this reads them from the source with
// the TypeScript parser: it follows `z.object({...})` literals (and `...spread` shapes), unions,
// arrays (`path[]`), records (`path.<name>`) and identifiers naming other schemas, and gives each
// field's comment under the same path the run-time walk of the built schema uses
// (scripts/gen-config-docs.mjs). Interfaces listed in INTERFACE_DOCS document fields whose schema
// carries no comment (a client key's fields are documented on `ApiKeyEntry`).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Source files whose top-level schemas the walk may follow, relative to the repository. */
const SCHEMA_FILES = ['src.ts/keys/api-key-schema.ts'];
const SCHEMA_FOLDERS = ['src.ts/config'];
/** Fields documented on an interface rather than on their schema. */
const INTERFACE_DOCS = [{ file: 'src.ts/keys/api-key-schema.ts', name: 'ApiKeyEntry', path: 'apiKeys[]' }];

/** `/** a * b *\/` → `a b`: the text of the last JSDoc block before a node, on one line. */
function leadingDoc(ts, source, node) {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const docs = ranges.map((range) => source.text.slice(range.pos, range.end)).filter((text) => text.startsWith('/**'));
  if (docs.length === 0) return undefined;
  const text = docs[docs.length - 1]
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? undefined : text;
}

/**
 * Reads the comments. Returns `{ fields, schemas }`: `fields` maps an option path (`timeouts.connect`,
 * `pools.<name>.overflow`, `openAICompatibleProviders[].models`) to its comment; `schemas` maps the
 * path of a field whose value is a named schema to that schema's own comment (a fallback).
 */
export function readSchemaComments(root) {
  const ts = createRequire(join(root, 'package.json'))('typescript');
  const files = [...SCHEMA_FILES];
  for (const folder of SCHEMA_FOLDERS) {
    for (const name of readdirSync(join(root, folder)).sort()) if (name.endsWith('-schema.ts')) files.push(`${folder}/${name}`);
  }
  /** Top-level `const` initialisers by name, with their own comment. */
  const declarations = new Map();
  const sources = new Map();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    sources.set(file, source);
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
        // The first file wins: gateway-config-schema.ts is read after the others, so a name defined
        // twice (a local `neuron`) resolves to either copy, which have no fields.
        if (!declarations.has(declaration.name.text)) {
          declarations.set(declaration.name.text, { node: declaration.initializer, source, doc: leadingDoc(ts, source, statement) });
        }
      }
    }
  }

  const fields = new Map();
  const schemas = new Map();
  const following = new Set();

  function objectProperties(literal, source, path) {
    for (const property of literal.properties) {
      if (ts.isSpreadAssignment(property) && ts.isIdentifier(property.expression)) {
        const shape = declarations.get(property.expression.text);
        if (shape && ts.isObjectLiteralExpression(shape.node)) objectProperties(shape.node, shape.source, path);
        continue;
      }
      if (!ts.isPropertyAssignment(property)) continue;
      const name = ts.isIdentifier(property.name) || ts.isStringLiteral(property.name) ? property.name.text : undefined;
      if (name === undefined) continue;
      const fieldPath = path === '' ? name : `${path}.${name}`;
      const doc = leadingDoc(ts, source, property);
      if (doc && !fields.has(fieldPath)) fields.set(fieldPath, doc);
      walk(property.initializer, source, fieldPath);
    }
  }

  function walk(node, source, path) {
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)) return walk(node.expression, source, path);
    if (ts.isIdentifier(node)) {
      const declaration = declarations.get(node.text);
      if (!declaration || following.has(node.text)) return;
      if (declaration.doc && path !== '' && !schemas.has(path)) schemas.set(path, declaration.doc);
      following.add(node.text);
      walk(declaration.node, declaration.source, path);
      following.delete(node.text);
      return;
    }
    if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return;
    const method = node.expression.name.text;
    const receiver = node.expression.expression;
    const isZ = ts.isIdentifier(receiver) && receiver.text === 'z';
    if (isZ && ['object', 'strictObject', 'looseObject'].includes(method)) {
      const literal = node.arguments[0];
      if (literal && ts.isObjectLiteralExpression(literal)) objectProperties(literal, source, path);
      return;
    }
    if (isZ && (method === 'union' || method === 'discriminatedUnion')) {
      const options = node.arguments[method === 'union' ? 0 : 1];
      if (options && ts.isArrayLiteralExpression(options)) for (const option of options.elements) walk(option, source, path);
      return;
    }
    if (isZ && method === 'array') return node.arguments[0] && walk(node.arguments[0], source, `${path}[]`);
    if (isZ && method === 'record') return node.arguments[1] && walk(node.arguments[1], source, `${path}.<name>`);
    if (isZ) return;
    // A method of a schema (`.optional()`, `.default(...)`, `.strict()`, `.superRefine(...)`...): the schema is its receiver.
    walk(receiver, source, path);
  }

  const root_ = declarations.get('gatewayConfigSchema');
  if (!root_) throw new Error('schema-comments: gatewayConfigSchema not found in src.ts/config');
  walk(root_.node, root_.source, '');

  for (const { file, name, path } of INTERFACE_DOCS) {
    const source = sources.get(file);
    const declaration = source?.statements.find((statement) => ts.isInterfaceDeclaration(statement) && statement.name.text === name);
    if (!declaration) throw new Error(`schema-comments: interface ${name} not found in ${file}`);
    for (const member of declaration.members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const doc = leadingDoc(ts, source, member);
      const fieldPath = `${path}.${member.name.text}`;
      if (doc && !fields.has(fieldPath)) fields.set(fieldPath, doc);
    }
  }
  return { fields, schemas };
}
