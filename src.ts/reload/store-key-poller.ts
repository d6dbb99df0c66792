import type { Logger } from 'pino';
import { PeriodicTask } from '../internal/periodic-task.js';
import type { ApiKeyEntry } from '../keys/index.js';
import type { RedisKeyDirectory } from '../keys/redis-key-directory.js';

/** How often running gateways look for keys created or revoked in the store, ms. */
export const STORE_KEYS_POLL_MS = 2000;

/** Options for {@link StoreKeyPoller}. */
export interface StoreKeyPollerOptions {
  directory: RedisKeyDirectory;
  /** Called with every key in the store whenever they changed. */
  onKeys: (entries: ApiKeyEntry[]) => void;
  logger: Logger;
  /** Poll interval, ms. Default {@link STORE_KEYS_POLL_MS}. */
  intervalMs?: number;
}

/**
 * Keeps a gateway's store keys current by polling: every interval it reads the directory's change
 * counter (one `GET`) and, when it moved, every key (`HGETALL`). Polling rather than pub/sub: it
 * needs no second connection in subscriber mode, and a change made while a gateway was cut off
 * from Redis is picked up at the next poll after it reconnects (a message would be lost). While
 * Redis cannot be read the keys last read stay in force (one warning, one line when it recovers).
 */
export class StoreKeyPoller {
  readonly #options: StoreKeyPollerOptions;
  readonly #task: PeriodicTask;
  #version: string | undefined;
  #failing = false;

  constructor(options: StoreKeyPollerOptions) {
    this.#options = options;
    this.#task = new PeriodicTask(() => this.poll(), options.intervalMs ?? STORE_KEYS_POLL_MS);
  }

  /** Reads the keys now (at start); rejects when Redis cannot be read. Resolves with their number. */
  async load(): Promise<number> {
    const version = await this.#options.directory.version();
    const { keys, unreadable } = await this.#options.directory.list();
    if (unreadable.length > 0) this.#options.logger.warn({ event: 'store_keys_unreadable', keyIds: unreadable }, 'some keys in the store could not be read and are not accepted');
    this.#version = version;
    this.#options.onKeys(keys.map((stored) => stored.entry));
    return keys.length;
  }

  /** One poll: reads the keys again when the store's change counter moved. Never rejects. */
  async poll(): Promise<void> {
    try {
      const version = await this.#options.directory.version();
      if (version !== this.#version) {
        const before = this.#version;
        await this.load();
        this.#options.logger.info({ event: 'store_keys_changed', version, previous: before ?? null }, 'client keys in the store changed');
      }
      if (this.#failing) this.#options.logger.info({ event: 'store_keys_recovered' }, 'client keys in the store can be read again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.#options.logger.warn({ event: 'store_keys_unavailable', err: error }, 'cannot read the client keys in the store; the keys last read stay in force');
      this.#failing = true;
    }
  }

  start(): void {
    this.#task.start(false);
  }

  close(): Promise<void> {
    return this.#task.stop();
  }
}
