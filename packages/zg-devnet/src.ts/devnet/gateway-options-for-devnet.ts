import type { ServiceType } from '../provider/service-types.js';
import type { LocalDevnet } from './devnet-types.js';

/**
 * Options pointing zg-gateway (or any client with the same option names) at a local devnet.
 * A plain object: structurally compatible with the gateway's options, without depending on it.
 */
export interface DevnetGatewayOptions {
  /**
   * The devnet's providers as `{ address, name }` (in `devnet.providers` order; only those of the
   * service types asked for): the gateway shows the name (`provider-1`...) on its status page.
   */
  providers: Array<{ address: string; name: string }>;
  /** The devnet's funded user key (a throw-away key of this devnet only). */
  key: string;
  /** The devnet's RPC URL (the counting relay when `countRpcCalls` is on). */
  rpc: string;
  chainId: number;
  ledgerContract: string;
  inferenceContract: string;
  fineTuningContract: string;
  /** Fixed gas price in neuron: 1e9 (the SDK waits 1 s per transaction without one). */
  gasPrice: number;
  /** Receipt polling in ms: 20 (anvil mines at once). */
  rpcPollingInterval: number;
}

/**
 * The gateway options that point at a local devnet: all its providers (as they are now, named), its
 * funded user key, RPC, chain id, contract addresses, a fixed gas price and fast receipt polling.
 * Spread your own options (port, strategy...) over it. `serviceTypes` keeps only providers of
 * these service types (default: every provider, whatever it sells).
 */
export function gatewayOptionsForDevnet(devnet: LocalDevnet, options: { serviceTypes?: readonly ServiceType[] } = {}): DevnetGatewayOptions {
  const { serviceTypes } = options;
  return {
    providers: devnet.providers.filter((provider) => serviceTypes === undefined || serviceTypes.includes(provider.serviceType)).map((provider) => ({ address: provider.address, name: provider.name })),
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
