import type { ChainAccount, ZgWalletAccounts } from '../providers/zg/zg-wallet-accounts.js';

export type { ChainAccount };

/**
 * What billing needs of the 0G wallet connection (`ZgNetwork` is one): which network and wallet,
 * the wallet's accounts on chain, and the SDK's fee cache. A port, so billing can be tested on a fake chain.
 */
export interface WalletChain {
  /** `<chain id>:<inference contract>`. */
  readonly networkId: string;
  readonly walletAddress: string;
  readonly accounts: Pick<ZgWalletAccounts, 'latestBlock' | 'settlements' | 'account' | 'retrieveFund'>;
  /** The SDK's fee cache for a provider, neuron. */
  cachedFee(provider: string): Promise<bigint>;
}
