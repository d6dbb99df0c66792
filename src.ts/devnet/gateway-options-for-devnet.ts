import type { GatewayOptions } from '../config/index.js';
import type { LocalDevnet } from './start-local-devnet.js';

/**
 * The gateway options that point at a local devnet: all its providers, its funded user key,
 * RPC, chain id, contract addresses, a fixed gas price (the SDK waits 1 s per transaction
 * without one) and fast receipt polling. Spread your own options (port, strategy...) over it.
 */
export function gatewayOptionsForDevnet(devnet: LocalDevnet): GatewayOptions {
  return {
    providers: devnet.providers.map((provider) => provider.address),
    key: devnet.userPrivateKey,
    rpc: devnet.rpcUrl,
    chainId: devnet.chainId,
    ledgerContract: devnet.contracts.ledger,
    inferenceContract: devnet.contracts.inference,
    fineTuningContract: devnet.contracts.fineTuning,
    gasPrice: 1_000_000_000,
    rpcPollingInterval: 20,
  };
}
