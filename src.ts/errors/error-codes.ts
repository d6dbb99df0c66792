/**
 * Every error the gateway can return, with its HTTP status and OpenAI-style `type`.
 * One table: the status a code maps to is decided here and nowhere else.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error', description: 'The request body or a parameter is invalid.' },
  invalid_json: { status: 400, type: 'invalid_request_error', description: 'The request body is not valid JSON.' },
  body_too_large: { status: 413, type: 'invalid_request_error', description: 'The request body exceeds the configured limit.' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', description: 'The request body is not in a supported encoding (UTF-8 JSON).' },
  not_found: { status: 404, type: 'invalid_request_error', description: 'No such route.' },
  model_not_found: { status: 404, type: 'invalid_request_error', description: 'No provider of this gateway serves the requested model (GET /v1/models lists them).' },
  no_matching_provider: { status: 404, type: 'invalid_request_error', description: 'Providers serve the model, but none matches the request\'s provider preferences (only, ignore, require_verifiable, max_price).' },
  not_discovering: { status: 409, type: 'invalid_request_error', description: 'The gateway serves a fixed list of providers, so there is no chain catalog to refresh.' },
  provider_not_found: { status: 404, type: 'invalid_request_error', description: 'No provider with this id is in the fleet.' },
  response_not_found: { status: 404, type: 'invalid_request_error', description: 'The response id is unknown or its session expired.' },
  unauthorized: { status: 401, type: 'authentication_error', description: 'A valid admin bearer token is required.' },
  no_healthy_provider: { status: 503, type: 'service_unavailable', description: 'No provider is available to serve the request.' },
  all_providers_failed: { status: 502, type: 'upstream_error', description: 'Every attempted provider failed.' },
  upstream_error: { status: 502, type: 'upstream_error', description: 'The provider answered with an error or an unreadable response.' },
  upstream_unreachable: { status: 502, type: 'upstream_error', description: 'The provider could not be reached.' },
  upstream_timeout: { status: 504, type: 'upstream_error', description: 'The provider did not answer within the configured time.' },
  upstream_auth_rejected: { status: 502, type: 'upstream_error', description: 'The provider rejected the gateway\'s signed request headers.' },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error', description: 'The provider asked to slow down (HTTP 429).' },
  upstream_model_unavailable: { status: 502, type: 'upstream_error', description: 'The provider does not serve the requested model (it is excluded for that model and another is tried).' },
  upstream_response_too_large: { status: 502, type: 'upstream_error', description: 'The provider sent an answer or stream event larger than the configured limit.' },
  upstream_client_error: { status: 400, type: 'invalid_request_error', description: 'Two providers rejected the request as invalid (or the only one that could serve did).' },
  insufficient_funds: { status: 402, type: 'insufficient_funds', description: 'The gateway wallet cannot pay the provider.' },
  verify_unavailable: { status: 503, type: 'service_unavailable', description: 'The response could not be checked now: its provider did not answer in time or is gone, or the response store is unreachable.' },
  stream_interrupted: { status: 502, type: 'upstream_error', description: 'The provider failed after the stream had started.' },
  client_closed_request: { status: 499, type: 'client_error', description: 'The client went away before the response was complete.' },
  shutting_down: { status: 503, type: 'service_unavailable', description: 'The gateway is shutting down.' },
  invalid_config: { status: 500, type: 'configuration_error', description: 'The gateway options are invalid.' },
  provider_init_failed: { status: 500, type: 'configuration_error', description: 'A provider could not be initialised.' },
  no_provider_initialised: { status: 500, type: 'configuration_error', description: 'No configured provider could be initialised.' },
  listen_failed: { status: 500, type: 'configuration_error', description: 'The server could not listen on the configured address.' },
  chain_error: { status: 502, type: 'upstream_error', description: 'A call to the chain failed.' },
  invalid_api_key: { status: 401, type: 'authentication_error', description: 'The client API key is missing, unknown, expired or disabled.' },
  model_not_allowed: { status: 403, type: 'permission_error', description: 'The client API key may not use the requested model.' },
  key_concurrency_exceeded: { status: 429, type: 'rate_limit_error', description: 'The client API key has as many requests in flight as it may.' },
  key_rate_limited: { status: 429, type: 'rate_limit_error', description: 'The client API key exceeded its requests or tokens per minute.' },
  budget_exceeded: { status: 402, type: 'insufficient_quota', description: 'The client API key has spent its budget for the current period.' },
  queue_full: { status: 429, type: 'rate_limit_error', description: 'Every provider that could serve the request is at its concurrency cap and the admission queue is full (see Retry-After).' },
  queue_timeout: { status: 503, type: 'service_unavailable', description: 'The request waited in the admission queue for its whole `queue.timeoutMs` and no provider became free (see Retry-After).' },
  store_unavailable: { status: 503, type: 'service_unavailable', description: 'The shared state store (Redis) cannot be reached now.' },
  internal_error: { status: 500, type: 'server_error', description: 'An unexpected error inside the gateway.' },
} as const satisfies Record<string, { status: number; type: string; description: string }>;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
