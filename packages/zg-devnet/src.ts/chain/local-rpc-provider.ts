import { JsonRpcProvider, Network, Wallet, hexlify, randomBytes } from 'ethers';

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

/** A fresh random key (a plain Wallet, which the SDK requires, not an HD wallet). */
export function randomWallet(rpc?: JsonRpcProvider): Wallet {
  return new Wallet(hexlify(randomBytes(32)), rpc);
}

/** Sets an account's native balance (anvil only). */
export async function setBalance(rpc: JsonRpcProvider, address: string, amount: bigint): Promise<void> {
  await rpc.send('anvil_setBalance', [address, `0x${amount.toString(16)}`]);
}

/** Moves the chain's clock forward and mines a block with the new time (anvil only). */
export async function increaseTime(rpc: JsonRpcProvider, seconds: number): Promise<void> {
  await rpc.send('evm_increaseTime', [seconds]);
  await rpc.send('evm_mine', []);
}
