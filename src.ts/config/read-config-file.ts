/**
 * Reading a configuration file (YAML or JSON). Like the environment, files are read only in
 * `config/`. What is read is not validated here: `parseGatewayConfig` does that.
 *
 * A config file is an operator's file, but what it points at may not be (a symlink swapped to
 * `/etc/shadow`, a file filled by something else): a file over {@link MAX_CONFIG_FILE_BYTES} is
 * refused before it is read whole, and no message quotes what the file holds.
 */
import { GatewayError } from '../errors/index.js';
import { lineOfPath, rawPathOf } from '../internal/describe-schema-issue.js';
import { MAX_CONFIG_FILE_BYTES, readBoundedTextFile } from '../internal/read-bounded-file.js';
import type { GatewayOptions } from './gateway-config-schema.js';
import { parseDocument } from 'yaml';

export { MAX_CONFIG_FILE_BYTES };

/** Most aliases a config's YAML may expand (a few dozen is plenty; an alias bomb expands billions). */
const MAX_ALIAS_COUNT = 100;

function fileError(path: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError('invalid_config', `The config file ${path} ${message}`, { param: 'config', ...(cause !== undefined ? { cause } : {}) });
}

/**
 * The options written in a config file's text: a YAML mapping (JSON is YAML too, so `.json` files
 * read the same way). Throws GatewayError('invalid_config') for a syntax error, naming the line
 * and column but never quoting the file (it may hold keys), for a YAML alias bomb (more than 100
 * aliases expanded), or when the document is not a mapping.
 */
export function parseConfigText(text: string, path = '(config)'): Partial<GatewayOptions> {
  // YAML 1.2 core schema: `yes`/`no`/`on` stay strings, duplicate keys are errors. `prettyErrors`
  // gives each error its line and column. The parser's messages quote the text: neither they nor
  // the parser's error objects go into the GatewayError (not even as `cause`, which loggers print).
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) {
    const position = problem.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    throw fileError(path, `is not valid YAML or JSON${where} (${problem.code})`);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The yaml package throws a ReferenceError for too many aliases ("resource exhaustion attack").
    if (error instanceof ReferenceError) throw fileError(path, `expands too many YAML aliases (more than ${MAX_ALIAS_COUNT}; an alias bomb?)`);
    throw fileError(path, 'cannot be turned into options (a YAML construct the gateway does not read)');
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fileError(path, 'must hold a mapping of options (`port: 3000`, ...)');
  return value as Partial<GatewayOptions>;
}

/**
 * A config file's text, refusing (GatewayError `invalid_config`, `param: 'config'`) a file larger
 * than `maxBytes` (default {@link MAX_CONFIG_FILE_BYTES}, 1 MiB) or growing past it while read,
 * and anything that is not a regular file, before reading it whole. A file that cannot be read
 * throws `invalid_config` whose `cause` keeps the system error (e.g. `ENOENT`).
 */
export async function readConfigFileText(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<string> {
  let read;
  try {
    read = await readBoundedTextFile(path, maxBytes);
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    throw fileError(path, `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`, error);
  }
  if (read.kind === 'too_large') throw fileError(path, `is larger than ${maxBytes} bytes (${read.bytes} bytes or more); it is not read`);
  if (read.kind === 'not_a_file') throw fileError(path, 'is not a regular file');
  return read.text;
}

/**
 * Reads and parses a config file (see {@link readConfigFileText} and {@link parseConfigText}).
 * Throws GatewayError('invalid_config') naming the file.
 */
export async function readConfigFile(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<Partial<GatewayOptions>> {
  return parseConfigText(await readConfigFileText(path, maxBytes), path);
}

/**
 * `error` with the line of the problem in the file's `text` added to its message, when it is an
 * `invalid_config` from `parseGatewayConfig` whose option is in the file (`at line 7 of
 * config.yaml`). Anything else is returned as it is. The message still quotes nothing of the file.
 */
export function locateConfigError(error: unknown, text: string, path: string): unknown {
  if (!GatewayError.isInstance(error) || error.code !== 'invalid_config') return error;
  const rawPath = rawPathOf(error);
  if (!rawPath || rawPath.length === 0) return error;
  const line = lineOfPath(text, rawPath);
  if (line === undefined) return error;
  return new GatewayError('invalid_config', `${error.message} (at line ${line} of ${path})`, { param: error.param, cause: error });
}
