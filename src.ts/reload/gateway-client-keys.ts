import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/index.js';
import type { GatewayStores } from '../create-stores.js';
import { ClientKeys, loadKeysFile, type ApiKeyEntry } from '../keys/index.js';
import { ClientKeySet } from './client-key-set.js';
import { StoreKeyPoller } from './store-key-poller.js';

/** A gateway's client keys: whether it requires them, and the sources that keep them current. */
export interface GatewayClientKeys {
  /** What the server authenticates with; undefined when the gateway serves without client keys. */
  readonly clientKeys: ClientKeys | undefined;
  /** The two sources of keys (config and store), for reloads; undefined without client keys. */
  readonly keySet: ClientKeySet | undefined;
  /** Starts polling the store for keys created or revoked (when there is a store to poll). */
  start(): void;
  /** Stops polling and closes the counter store of the keys. */
  close(): Promise<void>;
}

/**
 * Sets up the client keys a gateway starts with: `apiKeys`, the `keysFile`, and with a Redis store
 * the keys kept there (see `storeKeys`). The gateway requires keys when any source is configured,
 * when `storeKeys` is true, or (by default) when the store holds a key at start; that choice holds
 * until a restart, so revoking the last key refuses every request rather than opening the gateway.
 * Rejects with GatewayError('invalid_config') for an unreadable keys file or duplicate keys.
 */
export async function setUpClientKeys(config: GatewayConfig, stores: GatewayStores, now: () => number, logger: Logger): Promise<GatewayClientKeys> {
  const configured: ApiKeyEntry[] = [...(config.apiKeys ?? []), ...(config.keysFile ? await loadKeysFile(config.keysFile) : [])];
  const directory = config.storeKeys === false ? undefined : stores.keyDirectory();
  let stored: ApiKeyEntry[] = [];
  let keySet: ClientKeySet | undefined;
  let warnedOpen = false;
  const poller = directory
    ? new StoreKeyPoller({
        directory,
        logger,
        onKeys: (entries) => {
          stored = entries;
          if (keySet) keySet.setStored(entries);
          else if (entries.length > 0 && !warnedOpen) {
            warnedOpen = true;
            logger.warn({ event: 'store_keys_ignored', keys: entries.length }, 'the store now holds client keys but this gateway started without keys: restart it (or set storeKeys: true) to require them');
          }
        },
      })
    : undefined;
  if (poller) {
    await poller.load().catch((error: unknown) => {
      logger.warn({ event: 'store_keys_unavailable', err: error }, 'cannot read the client keys in the store at start; they are read when it answers');
    });
  }
  const required = config.apiKeys !== undefined || config.keysFile !== undefined || config.storeKeys === true || stored.length > 0;
  let clientKeys: ClientKeys | undefined;
  if (required) {
    clientKeys = new ClientKeys({ store: stores.counters(), now });
    keySet = new ClientKeySet(clientKeys, logger);
    keySet.setConfigured(configured);
    keySet.setStored(stored);
  }
  return {
    clientKeys,
    keySet,
    start: () => poller?.start(),
    close: async () => {
      await poller?.close();
      await clientKeys?.close();
    },
  };
}
