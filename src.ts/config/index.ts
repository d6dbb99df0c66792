export { discoverSchema, gatewayConfigSchema, membershipShape, openAICompatibleProviderSchema, storeConfigSchema, upstreamModelSchema, type GatewayConfig, type GatewayOptions, type StoreConfig } from './gateway-config-schema.js';
export { aliasTable, configuredProviderName, isLoopbackHost, parseGatewayConfig, parseGatewayOptions, providerAddress, providerSelection, type DiscoverSelection } from './parse-gateway-config.js';
export { optionsFromEnvironment, readEnvironment } from './read-environment.js';
export type { GatewayDependencies, InjectedProvider } from './gateway-dependencies.js';
export { billingConfigSchema, type BillingConfig } from './billing-config-schema.js';
export { locateConfigError, MAX_CONFIG_FILE_BYTES, parseConfigText, readConfigFile, readConfigFileText } from './read-config-file.js';
export { poolConfigSchema, poolsConfigSchema, queueConfigSchema, type PoolConfig, type QueueConfig } from './admission-config-schema.js';
export { tracingConfigSchema, type TracingConfig } from './tracing-config-schema.js';
export { requestLogConfigSchema, type RequestLogConfig } from './request-log-config-schema.js';
