/**
 * zg-devnet: a local 0G compute devnet for tests, examples and benchmarks — anvil, the real 0G
 * serving contracts deployed from the SDK's bytecode, and simulated providers speaking the
 * provider side of the 0G protocol.
 */
export { startLocalDevnet } from './devnet/start-local-devnet.js';
export type { DevnetProvider, LeaveOptions, LocalDevnet, LocalDevnetOptions, ProviderSpec, ServiceUpdate } from './devnet/devnet-types.js';
export { gatewayOptionsForDevnet, type DevnetGatewayOptions } from './devnet/gateway-options-for-devnet.js';
export type { ProviderFault, ProviderFaultMode } from './provider/fault-modes.js';
export type { ModelSpec, ServedModel, ModelListEntry } from './provider/model-catalog.js';
export type { SettlementRecord, SettlementReport } from './provider/fees-and-settlement.js';
export type { SimulatedProviderStats } from './provider/provider-stats.js';
export { SERVICE_TYPES, SERVICE_ROUTES, type ServiceType } from './provider/service-types.js';
export type { SessionToken, TokenRejection } from './provider/session-token.js';
export { CODE_POINTS_PER_PIECE } from './provider/chat-reply.js';
export { KvPrefixCache, KV_CACHE_DEFAULTS, type KvCacheLookup, type KvCacheSpec, type KvCacheStats } from './provider/kv-prefix-cache.js';
export { promptTokens, type PromptMessage } from './provider/prompt-tokens.js';
export type { ServingContractAddresses } from './chain/deploy-serving-contracts.js';
export { findAnvilBinary } from './chain/anvil-process.js';
export { DevnetError, type DevnetErrorCode, type DevnetErrorOptions } from './devnet-error.js';
