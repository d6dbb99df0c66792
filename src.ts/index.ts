/**
 * zg-gateway: a session-affine, multi-provider, OpenAI-compatible inference gateway for the
 * 0G compute network. The local devnet used by its example and tests is the separate package `zg-devnet`.
 */
export { runMultiProviderInferenceServer, type GatewayHandle } from './gateway/run-multi-provider-inference-server.js';
export { parseGatewayOptions, gatewayOptionsSchema, type GatewayOptions, type GatewayConfig } from './config/index.js';
export { GatewayError, ERROR_CODES, toGatewayError, type ErrorCode, type GatewayErrorOptions, type OpenAIErrorBody } from './errors/index.js';
export type {
  InferenceProvider,
  ProviderDescriptor,
  ChatCompletionRequest,
  ChatMessage,
  ChatCallOptions,
  ProviderChatResult,
  ProviderJsonResult,
  ProviderStreamResult,
  TokenUsage,
} from './providers/inference-provider.js';
export { OpenAICompatibleProvider, type OpenAICompatibleProviderOptions } from './providers/openai-compatible/openai-compatible-provider.js';
export { UpstreamHttpClient, type UpstreamHttpClientOptions } from './providers/http/upstream-http-client.js';
export { ZgNetwork, type ZgNetworkOptions } from './providers/zg/zg-network.js';
export { ZgProvider } from './providers/zg/zg-provider.js';
export { CircuitBreaker, RetryBudget, type BreakerState, type CircuitBreakerOptions, type OpenReason } from './health/index.js';
export { createLogger, REDACTED_PATHS } from './logging/create-logger.js';
export * from './balancer/index.js';
export * from './sessions/index.js';
