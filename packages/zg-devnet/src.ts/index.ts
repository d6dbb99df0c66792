/**
 * zg-devnet: a local 0G compute devnet for tests, examples and benchmarks — anvil, the real 0G
 * serving contracts deployed from the SDK's bytecode, and simulated providers speaking the
 * provider side of the 0G protocol.
 */
export { startLocalDevnet, type LocalDevnet, type LocalDevnetOptions, type DevnetProvider, type ProviderSpec } from './devnet/start-local-devnet.js';
export type { ProviderFault, ProviderFaultMode } from './provider/fault-modes.js';
export type { SettlementReport, SimulatedProviderStats } from './provider/simulated-provider.js';
export type { ServingContractAddresses } from './chain/deploy-serving-contracts.js';
export { findAnvilBinary } from './chain/anvil-process.js';
export { gatewayOptionsForDevnet, type DevnetGatewayOptions } from './devnet/gateway-options-for-devnet.js';
export type { SessionToken, TokenRejection } from './provider/session-token.js';
export { DevnetError, type DevnetErrorCode, type DevnetErrorOptions } from './devnet-error.js';
