/**
 * Reading a configuration file (YAML or JSON). Like the environment, files are read only in
 * `config/`. What is read is not validated here: `parseGatewayConfig` does that.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { GatewayError } from '../errors/index.js';
import type { GatewayOptions } from './gateway-config-schema.js';

function fileError(path: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError('invalid_config', `The config file ${path} ${message}`, { param: 'config', ...(cause !== undefined ? { cause } : {}) });
}

/**
 * The options written in a config file's text: a YAML mapping (JSON is YAML too, so `.json` files
 * read the same way). Throws GatewayError('invalid_config') for a syntax error, naming the line
 * and column but never quoting the file (it may hold keys), or when the document is not a mapping.
 */
export function parseConfigText(text: string, path = '(config)'): Partial<GatewayOptions> {
  // YAML 1.2 core schema: `yes`/`no`/`on` stay strings, duplicate keys are errors. `prettyErrors`
  // gives each error its line and column (its message quotes the text and is not used).
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) {
    const position = problem.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    throw fileError(path, `is not valid YAML or JSON${where} (${problem.code})`, problem);
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fileError(path, 'must hold a mapping of options (`port: 3000`, ...)');
  return value as Partial<GatewayOptions>;
}

/**
 * Reads and parses a config file (see {@link parseConfigText}). Throws GatewayError('invalid_config')
 * naming the file when it cannot be read; the error's `cause` keeps the system error (e.g. `ENOENT`).
 */
export async function readConfigFile(path: string): Promise<Partial<GatewayOptions>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    throw fileError(path, `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`, error);
  }
  return parseConfigText(text, path);
}
