export { gatewayOptionsSchema, parseGatewayOptions, readEnvironment, type GatewayOptions, type GatewayConfig } from './gateway-options.js';
