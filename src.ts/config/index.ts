export { gatewayConfigSchema, membershipShape, openAICompatibleProviderSchema, upstreamModelSchema, type GatewayConfig, type GatewayOptions } from './gateway-config-schema.js';
export { isLoopbackHost, parseGatewayConfig, parseGatewayOptions } from './parse-gateway-config.js';
export { optionsFromEnvironment, readEnvironment } from './read-environment.js';
export type { GatewayDependencies, InjectedProvider } from './gateway-dependencies.js';
