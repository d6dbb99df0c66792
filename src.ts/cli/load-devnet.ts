/**
 * The devnet package, loaded only when `zg-gateway devnet` runs: it is a development dependency of
 * zg-gateway, absent from a production install, and the library never imports it. The types below
 * are the few parts the CLI uses, so nothing here depends on the package at build time either.
 */
import type { GatewayOptions } from '../config/index.js';

/** A running devnet, as far as the CLI uses it. */
export interface CliDevnet {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly contracts: { readonly ledger: string; readonly inference: string; readonly fineTuning: string };
  readonly providers: ReadonlyArray<{ readonly name: string; readonly address: string; readonly url: string; readonly model: string }>;
  stop(): Promise<void>;
}

/** The devnet package's entry points the CLI uses. */
export interface DevnetModule {
  startLocalDevnet(options: { providers: number; settleIntervalMs?: number }): Promise<CliDevnet>;
  gatewayOptionsForDevnet(devnet: CliDevnet): Partial<GatewayOptions>;
}

/** Thrown when the devnet package is not installed. */
export class DevnetMissingError extends Error {
  constructor() {
    super(
      'The local 0G devnet (package zg-devnet) is not installed: it is a development dependency of zg-gateway. ' +
        'Clone the zg-gateway repository and run npm install there, then run this command from it (npx zg-gateway devnet).',
    );
    this.name = 'DevnetMissingError';
  }
}

/** Imports `zg-devnet` (its ES or CommonJS build, as Node resolves it). */
export async function loadDevnet(specifier = 'zg-devnet'): Promise<DevnetModule> {
  try {
    return (await import(specifier)) as DevnetModule;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    // The package itself missing, not something it failed to load.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(`'${specifier}'`)) throw new DevnetMissingError();
    throw error;
  }
}
