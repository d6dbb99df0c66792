import { GatewayError } from '../errors/index.js';
import { lineOfPath, rawPathOf } from '../internal/describe-schema-issue.js';
import { MAX_KEYS_FILE_BYTES, readBoundedTextFile } from '../internal/read-bounded-file.js';
import { parseApiKeys, type ApiKeyEntry } from './api-key-schema.js';

export { MAX_KEYS_FILE_BYTES };

function unreadable(path: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('invalid_config', `Cannot read the keys file ${path}${reason}`, { param: 'keysFile', ...(cause !== undefined ? { cause } : {}) });
}

/** The entries' problem, with its line in the file added (the message still quotes nothing of it). */
function withLine(error: unknown, text: string, prefix: readonly PropertyKey[]): unknown {
  const rawPath = rawPathOf(error);
  if (!GatewayError.isInstance(error) || !rawPath) return error;
  const line = lineOfPath(text, [...prefix, ...rawPath]);
  return line === undefined ? error : new GatewayError('invalid_config', `${error.message} (at line ${line})`, { param: error.param, cause: error });
}

/**
 * Reads a JSON keys file, `{ "keys": [ ... ] }` or a bare array of entries (see `apiKeySchema`),
 * and returns the entries hashed and frozen. Plaintext keys in the file are hashed at once and not
 * kept. Throws GatewayError('invalid_config'): when the file cannot be read (`param` = `keysFile`),
 * is larger than `maxBytes` (default {@link MAX_KEYS_FILE_BYTES}, 16 MiB; refused before it is
 * read whole) or not a regular file, is not JSON or not of either shape, or an entry is invalid
 * (`param` = `keys[2].rpm`, and the message names the file, the entry's id and the line). Messages
 * never contain a key, its hash, or anything else the file holds but the ids of valid entries.
 */
export async function loadKeysFile(path: string, maxBytes = MAX_KEYS_FILE_BYTES): Promise<ApiKeyEntry[]> {
  let read;
  try {
    read = await readBoundedTextFile(path, maxBytes);
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    throw unreadable(path, typeof code === 'string' ? ` (${code})` : '', error);
  }
  if (read.kind === 'too_large') throw unreadable(path, `: it is larger than ${maxBytes} bytes (${read.bytes} bytes or more)`);
  if (read.kind === 'not_a_file') throw unreadable(path, ': it is not a regular file');
  const text = read.text;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // The parser's message quotes the file's text, which may hold keys: it is not kept, even as a cause.
    throw new GatewayError('invalid_config', `The keys file ${path} is not valid JSON`, { param: 'keysFile' });
  }
  try {
    if (Array.isArray(document)) return parseApiKeys(document, { param: 'keys', source: path });
    if (typeof document === 'object' && document !== null && Array.isArray((document as { keys?: unknown }).keys)) {
      const extra = Object.keys(document).filter((name) => name !== 'keys');
      if (extra.length > 0) {
        const line = lineOfPath(text, [extra[0] ?? '']);
        throw new GatewayError('invalid_config', `The keys file ${path} has an unknown field${line !== undefined ? ` at line ${line}` : ''} (expected only "keys")`, {
          param: 'keysFile',
        });
      }
      return parseApiKeys((document as { keys: unknown[] }).keys, { param: 'keys', source: path });
    }
  } catch (error) {
    throw withLine(error, text, Array.isArray(document) ? [] : ['keys']);
  }
  throw new GatewayError('invalid_config', `The keys file ${path} must hold { "keys": [...] } or an array of keys`, { param: 'keys' });
}
