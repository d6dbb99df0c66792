export { discoverSchema, gatewayConfigSchema, membershipShape, openAICompatibleProviderSchema, upstreamModelSchema, type GatewayConfig, type GatewayOptions } from './gateway-config-schema.js';
export { aliasTable, isLoopbackHost, parseGatewayConfig, parseGatewayOptions, providerSelection, type DiscoverSelection } from './parse-gateway-config.js';
export { optionsFromEnvironment, readEnvironment } from './read-environment.js';
export type { GatewayDependencies, InjectedProvider } from './gateway-dependencies.js';
