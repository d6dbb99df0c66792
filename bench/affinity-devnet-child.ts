/**
 * Child process: the local 0G devnet of the cache-aware routing benchmark — chat providers whose
 * simulated KV prefix caches cost prefill time. Between systems the orchestrator empties every
 * cache (`reset`), so each starts cold; the removal scenario takes a provider away mid-run
 * (`remove`: its service leaves the chain and its server stops) and `add` brings the fleet back.
 */
import type { KvCacheSpec } from 'zg-devnet';
import { startLocalDevnet, type LocalDevnet } from './devnet-import.js';
import { runChild } from './ipc.js';

export interface AffinityDevnetArgs {
  providers: number;
  kvCache: KvCacheSpec;
  chunkIntervalMs: number;
}

export interface AffinityDevnetInfo {
  rpcUrl: string;
  chainId: number;
  contracts: { ledger: string; inference: string; fineTuning: string };
  userPrivateKey: string;
  anvilPid: number;
  model: string;
}

export interface DevnetProviderFigures {
  address: string;
  name: string;
  promptTokens: number;
  cachedTokens: number;
  heldTokens: number;
  evictedBlocks: number;
  served: number;
}

function figures(devnet: LocalDevnet): DevnetProviderFigures[] {
  return devnet.providers.map((provider) => ({ address: provider.address, name: provider.name, ...provider.kvCache, served: provider.stats.served }));
}

runChild<AffinityDevnetArgs>(async (args) => {
  const spec = { kvCache: args.kvCache, chunkIntervalMs: args.chunkIntervalMs };
  const devnet = await startLocalDevnet({ providers: Array.from({ length: args.providers }, () => ({ ...spec })) });
  const info: AffinityDevnetInfo = {
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    contracts: { ...devnet.contracts },
    userPrivateKey: devnet.userPrivateKey,
    anvilPid: devnet.anvilPid,
    model: devnet.providers[0]?.model ?? 'zg-devnet-chat',
  };
  return {
    info,
    handlers: {
      addresses: () => devnet.providers.map((provider) => provider.address),
      figures: () => figures(devnet),
      reset: () => {
        for (const provider of devnet.providers) provider.clearKvCache();
        return null;
      },
      remove: async (address) => {
        const provider = devnet.providers.find((candidate) => candidate.address === address);
        if (!provider) throw new Error(`no provider ${String(address)}`);
        // Requests in flight finish (a graceful departure); new ones are refused, and the gateway retries them elsewhere.
        await provider.leave({ graceMs: 10_000 });
        return null;
      },
      add: async () => (await devnet.addProvider({ ...spec })).address,
    },
    stop: () => devnet.stop(),
  };
});
