import { JsonRpcProvider, Network } from 'ethers';

/**
 * An ethers provider tuned for a local anvil: a static network (no chain-id probe per call),
 * no batching, no response cache, and fast polling so `tx.wait()` returns in milliseconds.
 */
export function createLocalRpcProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), {
    staticNetwork: Network.from(chainId),
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: 20,
  });
}
