import type { Logger } from 'pino';
import type { ApiKeyEntry, ClientKeys } from '../keys/index.js';

/**
 * The client keys a gateway accepts, from two sources kept apart: the configuration (`apiKeys`,
 * `keysFile`) and the Redis store (`zg-gateway keys create`). Either source can change at any
 * time; the union is handed to {@link ClientKeys.replaceAll}. A store key whose id or key is
 * also in the configuration is left out (the configuration wins), with one warning per id.
 */
export class ClientKeySet {
  readonly #clientKeys: ClientKeys;
  readonly #logger: Logger;
  #configured: readonly ApiKeyEntry[] = [];
  #stored: readonly ApiKeyEntry[] = [];
  readonly #warned = new Set<string>();

  constructor(clientKeys: ClientKeys, logger: Logger) {
    this.#clientKeys = clientKeys;
    this.#logger = logger;
  }

  /** Keys accepted now (both sources). */
  get size(): number {
    return this.#clientKeys.registry.size;
  }

  /** Replaces the configured keys (start, config reload). */
  setConfigured(entries: readonly ApiKeyEntry[]): void {
    this.#configured = entries;
    this.#apply();
  }

  /** Replaces the keys read from the store. */
  setStored(entries: readonly ApiKeyEntry[]): void {
    this.#stored = entries;
    this.#apply();
  }

  #apply(): void {
    const ids = new Set(this.#configured.map((entry) => entry.id));
    const hashes = new Set(this.#configured.map((entry) => entry.hash));
    const merged = [...this.#configured];
    for (const entry of this.#stored) {
      if (ids.has(entry.id) || hashes.has(entry.hash)) {
        if (!this.#warned.has(entry.id)) {
          this.#warned.add(entry.id);
          this.#logger.warn({ event: 'store_key_shadowed', keyId: entry.id }, 'a key in the store has the id or the key of a configured one; the configured one is used');
        }
        continue;
      }
      ids.add(entry.id);
      hashes.add(entry.hash);
      merged.push(entry);
    }
    this.#clientKeys.replaceAll(merged);
  }
}
