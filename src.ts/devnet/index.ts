export { startLocalDevnet, type LocalDevnet, type LocalDevnetOptions, type DevnetProvider, type ProviderSpec } from './start-local-devnet.js';
export type { ProviderFault, ProviderFaultMode } from './fault-modes.js';
export type { SettlementReport, SimulatedProviderStats } from './simulated-provider.js';
export type { ServingContractAddresses } from './deploy-serving-contracts.js';
export { findAnvilBinary } from './anvil-process.js';
export { gatewayOptionsForDevnet } from './gateway-options-for-devnet.js';
export type { SessionToken, TokenRejection } from './session-token.js';
