/**
 * zg-gateway: a session-affine, multi-provider, OpenAI-compatible inference gateway for the
 * 0G compute network. The local devnet used by its example and tests is the separate package `zg-devnet`.
 */
export { runMultiProviderInferenceServer } from './run-multi-provider-inference-server.js';
export type { FleetHandle, FleetMember, GatewayHandle, ProviderToAdd } from './gateway-handle.js';
export { createGateway, type GatewayParts } from './create-gateway.js';
export { createStores, type GatewayStores } from './create-stores.js';
export {
  gatewayConfigSchema,
  isLoopbackHost,
  locateConfigError,
  MAX_CONFIG_FILE_BYTES,
  optionsFromEnvironment,
  parseConfigText,
  parseGatewayConfig,
  parseGatewayOptions,
  readConfigFile,
  readConfigFileText,
  readEnvironment,
  storeConfigSchema,
  type GatewayConfig,
  type GatewayDependencies,
  type GatewayOptions,
  type InjectedProvider,
  type StoreConfig,
  billingConfigSchema,
  type BillingConfig,
  tracingConfigSchema,
  type TracingConfig,
  requestLogConfigSchema,
  type RequestLogConfig,
} from './config/index.js';
export { GatewayError, ERROR_CODES, toGatewayError, type ErrorCode, type GatewayErrorOptions, type OpenAIErrorBody } from './errors/index.js';
export type {
  AnswerFacts,
  ChatCallOptions,
  ChatCompletionRequest,
  ChatMessage,
  CompletionRoute,
  EmbeddingRequest,
  InferenceProvider,
  ModelOffer,
  PriceTier,
  ProviderChatResult,
  ProviderDescriptor,
  ProviderJsonResult,
  ProviderStreamResult,
  ResponseLimits,
  SseEvent,
  TextCompletionRequest,
  TokenUsage,
  ServiceType,
  UpstreamCall,
  Verifiability,
  BilledUnits,
  MediaRequest,
  MediaRoute,
  MultipartUpload,
} from './providers/inference-provider.js';
export { isMediaRoute, serviceTypeOf, serviceTypeOfRoute, SERVICE_TYPES } from './providers/inference-provider.js';
export { billableSeconds, billedImages, billedSpeech, costOfBilled, sdkImageCount } from './providers/media-billing.js';
export { wavSeconds } from './providers/wav-duration.js';
export { AUDIO_HEAD_BYTES, uploadedWavSeconds } from './providers/http/upload-audio.js';
export { chunkHasSubstance, readUsage } from './providers/openai-wire.js';
export { sendChatOverHttp, DEFAULT_RESPONSE_LIMITS } from './providers/http/chat-over-http.js';
export { SseEventSplitter } from './providers/http/sse-event-splitter.js';
export { OpenAICompatibleProvider, type OpenAICompatibleModel, type OpenAICompatibleProviderOptions } from './providers/openai-compatible/openai-compatible-provider.js';
export { UpstreamHttpClient, type UpstreamHttpClientOptions } from './providers/http/upstream-http-client.js';
export { ZgNetwork, type ZgNetworkOptions } from './providers/zg/zg-network.js';
export { listChainServices, type ChainServiceListing, type ListChainServicesOptions } from './providers/zg/list-chain-services.js';
export { ZgProvider } from './providers/zg/zg-provider.js';
export { SessionHeaderCache, tokenExpiry } from './providers/zg/session-header-cache.js';
export {
  BackendLoadPoller,
  CircuitBreaker,
  parsePrometheusText,
  parsePrometheusValue,
  sumOfSamples,
  type BackendLoadPollerOptions,
  type BackendLoadReading,
  type BreakerState,
  type CircuitBreakerOptions,
  type LoadTarget,
  type OpenReason,
  type PrometheusSample,
  type PrometheusText,
} from './health/index.js';
export { RetryBudget } from './dispatch/retry-budget.js';
export { PeriodicTask } from './internal/periodic-task.js';
export { SlidingCounts } from './internal/sliding-counts.js';
export { SlidingTotal } from './internal/sliding-total.js';
export { RedisKeyDirectory, type RedisKeyDirectoryOptions, type StoredApiKey, type StoredApiKeys } from './keys/redis-key-directory.js';
export { createLogger, REDACTED_PATHS } from './logging/create-logger.js';
export { Gateway, type CompletionRequest, type GatewayCompanion, type GatewayCoreOptions } from './gateway/gateway.js';
export {
  AdmissionQueue,
  DEFAULT_PRIORITY,
  DEFAULT_QUEUE_SETTINGS,
  MAX_PRIORITY,
  MIN_PRIORITY,
  type AdmissionClock,
  type AdmissionQueueSettings,
  type AdmissionQueueStats,
  type AdmissionResult,
  type AdmissionTicket,
} from './admission/admission-queue.js';
export { ProviderRegistry, type Lease, type LeaseOutcome, type ProviderRegistryOptions } from './fleet/provider-registry.js';
export { ProviderEntry, type ProviderMembershipOptions } from './fleet/provider-entry.js';
export { MissingCapabilities } from './fleet/missing-capabilities.js';
export { RetryPolicy, DEFAULT_RETRY_POLICY, FAILURE_CLASSES, backoffDelay, failureClassOf, type Backoff, type ClassPolicy, type FailureClass, type RetryPolicyOptions } from './dispatch/retry-policy.js';
export { requestNeeds, requestFeatures, fitsContext, learnedContextLimit, type RequestNeeds } from './routing/request-needs.js';
export { REQUEST_FEATURES, capabilityTable, catalogCapabilities } from './providers/capability-table.js';
export type { RequestFeature, DeclaredCapabilities } from './providers/inference-provider.js';
export {
  ProviderUrlPolicy,
  headerSafe,
  isHeaderSafe,
  providerUrlProblem,
  redactUrlCredentials,
  unmapAddress,
  urlHasCredentials,
  withoutCredentials,
  type ProviderUrlPolicyOptions,
} from './providers/http/provider-url.js';
export { RoutePlanner, type PoolOptions, type ProviderFilter, type RoutePlan, type RoutePlannerOptions, type RouteTarget } from './routing/route-planner.js';
export type { ResponseSink } from './dispatch/answer-relay.js';
export type { CompletionReport, ServedAnswerFacts } from './dispatch/complete-request.js';
export type { FailedProvider, FleetControl, FleetSource, NodeChange, UpstreamNode } from './fleet/fleet-source.js';
export { describeProvider, describeProviders, type ProviderView } from './fleet/describe-providers.js';
export { describeModels, type ModelView } from './routing/describe-models.js';
export { ModelListCache } from './routing/model-list-cache.js';
export { ASSUMED_COMPLETION_TOKENS, estimateRequestCost } from './dispatch/estimate-request-cost.js';
export { costOfUsage, estimateInputTokens, estimatePromptTokens } from './providers/model-pricing.js';
export * from './billing/index.js';
export { ZgWalletAccounts, type ChainAccount, type ChainRefund, type ChainSettlement, type ZgWalletAccountsOptions } from './providers/zg/zg-wallet-accounts.js';
export { WalletTransactions, isNonceClash } from './providers/zg/wallet-transactions.js';
export { ConfiguredFleet, type ConfiguredFleetOptions, type OpenAICompatibleSpec } from './fleet/configured-fleet.js';
export { startHttpServer, type HttpServerHandle, type HttpServerOptions } from './server/index.js';
export { requestBoundary, isJsonContentType, type RequestBoundary, type RequestBoundaryOptions } from './server/request-boundary.js';
export { resolveAdminToken, generateAdminToken, type ResolvedAdminToken } from './server/admin-token.js';
export {
  chatCompletionRequestSchema,
  textCompletionRequestSchema,
  embeddingRequestSchema,
  verifyRequestSchema,
  validateChatRequest,
  validateEmbeddingRequest,
  MAX_EMBEDDING_INPUTS,
  validateTextCompletionRequest,
  validateVerifyRequest,
  MAX_JSON_DEPTH,
} from './server/validate-request.js';
export { imageGenerationRequestSchema, validateImageGenerationRequest, validateImageEditForm, validateTranscriptionForm, MAX_IMAGES } from './server/validate-media-request.js';
export { readMultipartForm, DEFAULT_MAX_UPLOAD_BYTES, type FormFile, type MultipartForm } from './server/read-multipart-form.js';
export type { ServedRoute } from './server/admin-app.js';
export { buildOpenApiDocument, type OpenApiOptions } from './server/openapi/openapi-document.js';
export { API_ROUTES, type ApiRouteDoc } from './server/openapi/api-routes.js';
export * from './server/openapi/response-schemas.js';
export * from './server/openapi/fleet-schemas.js';
export { adminBillingSchema, billingProviderSchema } from './server/openapi/admin-billing-schema.js';
export { adminRequestsSchema, adminUsageSchema } from './server/openapi/request-log-docs.js';
export { GatewayTelemetry, type GatewayTelemetryOptions } from './telemetry/gateway-telemetry.js';
export { GatewayMetrics, type MetricsSource } from './telemetry/gateway-metrics.js';
export { BoundedLabel, ModelLabel, reasonKind, routeLabel } from './telemetry/metric-labels.js';
export * from './observability/index.js';
export * from './observability/stats/index.js';
export * from './strategies/index.js';
export * from './stores/index.js';
export * from './keys/index.js';
export * from './reload/index.js';
export * from './affinity/index.js';
export * from './request-log/index.js';
