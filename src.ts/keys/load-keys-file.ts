import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors/index.js';
import { parseApiKeys, type ApiKeyEntry } from './api-key-schema.js';

/**
 * Reads a JSON keys file, `{ "keys": [ ... ] }` or a bare array of entries (see `apiKeySchema`),
 * and returns the entries hashed and frozen. Plaintext keys in the file are hashed at once and not
 * kept. Throws GatewayError('invalid_config'): when the file cannot be read (`param` = `keysFile`),
 * is not JSON or not of either shape, or an entry is invalid (`param` = `keys[2].rpm`, and the
 * message names the file and the entry's id). Messages never contain a key or its hash.
 */
export async function loadKeysFile(path: string): Promise<ApiKeyEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    throw new GatewayError('invalid_config', `Cannot read the keys file ${path}${typeof code === 'string' ? ` (${code})` : ''}`, {
      param: 'keysFile',
      cause: error,
    });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // The parser's message can quote the file's text, which may hold keys: it goes to `cause` only.
    throw new GatewayError('invalid_config', `The keys file ${path} is not valid JSON`, { param: 'keysFile', cause: error });
  }
  if (Array.isArray(document)) return parseApiKeys(document, { param: 'keys', source: path });
  if (typeof document === 'object' && document !== null && Array.isArray((document as { keys?: unknown }).keys)) {
    const extra = Object.keys(document).filter((name) => name !== 'keys');
    if (extra.length > 0) {
      throw new GatewayError('invalid_config', `The keys file ${path} has an unknown field "${extra[0]}" (expected only "keys")`, {
        param: extra[0] ?? null,
      });
    }
    return parseApiKeys((document as { keys: unknown[] }).keys, { param: 'keys', source: path });
  }
  throw new GatewayError('invalid_config', `The keys file ${path} must hold { "keys": [...] } or an array of keys`, { param: 'keys' });
}
