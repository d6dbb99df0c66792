import { parseApiKey, type ApiKeyEntry, type ApiKeyLimitsConfig } from './api-key-schema.js';
import { generateApiKey } from './api-key-secrets.js';

/** A new key: the plaintext to hand to the client once, and the entry to keep (hash only). */
export interface CreatedApiKey {
  /** The plaintext key (`zgk-...`). Show it once; the gateway cannot recover it. */
  readonly key: string;
  /** The validated entry, with the key's hash and no plaintext (`serializeApiKeyEntry` writes it to a keys file). */
  readonly entry: ApiKeyEntry;
}

/**
 * Generates a key for `id` with the given limits (validated like configuration; throws
 * GatewayError('invalid_config') naming the field). Default limits: none (unlimited).
 */
export function createApiKey(id: string, limits: ApiKeyLimitsConfig = {}): CreatedApiKey {
  const key = generateApiKey();
  const entry = parseApiKey({ ...limits, id, key });
  return { key, entry };
}
