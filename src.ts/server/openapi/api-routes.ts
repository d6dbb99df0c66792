/**
 * Every route the HTTP server serves, as the OpenAPI document describes it. A test checks this
 * table against the routes the server actually registers, both ways.
 */

/** Who may call a route: client keys (`/v1/*`), the admin token, the metrics token (or admin), anyone. */
export type RouteAuth = 'client' | 'admin' | 'metrics' | 'none';

/** Names of the schemas in `components.schemas` (see `openapi-document.ts`). */
export type SchemaName =
  | 'ChatCompletionRequest'
  | 'TextCompletionRequest'
  | 'VerifyRequest'
  | 'ChatCompletion'
  | 'ChatCompletionChunk'
  | 'TextCompletion'
  | 'VerifyResult'
  | 'ModelList'
  | 'Model'
  | 'CatalogRefresh'
  | 'Readmit'
  | 'Health'
  | 'AdminProviders'
  | 'AdminKeys'
  | 'AdminBilling'
  | 'StatusView'
  | 'Error';

/** A successful answer of a route. */
export interface SuccessDoc {
  status: number;
  description: string;
  /** JSON body schema. */
  json?: SchemaName;
  /** A non-JSON body: its media type and what it holds. */
  other?: { mediaType: string; description: string };
  /** Response headers (names in `components.headers`). */
  headers?: string[];
}

/** One route of the document. */
export interface ApiRouteDoc {
  method: 'get' | 'post';
  /** OpenAPI path template, e.g. `/docs/{asset}`. */
  path: string;
  operationId: string;
  tag: 'Inference' | 'Operations' | 'Admin' | 'Documentation';
  summary: string;
  description: string;
  auth: RouteAuth;
  /** JSON request body schema. */
  request?: SchemaName;
  /** Request headers (names in `components.parameters`). */
  parameters?: string[];
  success: SuccessDoc[];
  /** Error statuses (each answered with the Error body). */
  errors: number[];
}

const ANSWER_HEADERS = ['X-Request-Id', 'X-Provider-Address', 'X-Request-Cost', 'X-Route-Reason', 'X-Model-Fallback', 'X-Session-Repinned', 'X-Session-Previous-Provider'];
const COMPLETION_ERRORS = [400, 401, 402, 403, 404, 413, 415, 429, 500, 502, 503, 504];
const COMPLETION_PARAMETERS = ['X-Session-Id', 'X-Request-Id'];

/** The routes, in the order the document lists them. */
export const API_ROUTES: readonly ApiRouteDoc[] = [
  {
    method: 'post',
    path: '/v1/chat/completions',
    operationId: 'createChatCompletion',
    tag: 'Inference',
    summary: 'Chat completion (JSON or server-sent events)',
    description:
      'Placed on a provider serving the model (session pin first, else the balancing strategy), retried on another while nothing reached the client, and relayed byte for byte. With `stream: true` the answer is `text/event-stream`: one `data:` event per ChatCompletionChunk, then `data: [DONE]`; a failure after the stream started ends it with an in-band `data: {"error": ...}` event and no `[DONE]`.',
    auth: 'client',
    request: 'ChatCompletionRequest',
    parameters: COMPLETION_PARAMETERS,
    success: [
      {
        status: 200,
        description: 'The completion (JSON), or its stream of ChatCompletionChunk events.',
        json: 'ChatCompletion',
        other: { mediaType: 'text/event-stream', description: 'Server-sent events: `data: <ChatCompletionChunk JSON>` ... `data: [DONE]`.' },
        headers: ANSWER_HEADERS,
      },
    ],
    errors: COMPLETION_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/completions',
    operationId: 'createCompletion',
    tag: 'Inference',
    summary: 'Legacy text completion (JSON or server-sent events)',
    description: 'Like chat completions, for a `prompt`.',
    auth: 'client',
    request: 'TextCompletionRequest',
    parameters: COMPLETION_PARAMETERS,
    success: [
      {
        status: 200,
        description: 'The completion (JSON), or its stream of events.',
        json: 'TextCompletion',
        other: { mediaType: 'text/event-stream', description: 'Server-sent events, then `data: [DONE]`.' },
        headers: ANSWER_HEADERS,
      },
    ],
    errors: COMPLETION_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/verify',
    operationId: 'verifyResponse',
    tag: 'Inference',
    summary: 'Prove a response came from its provider',
    description: "Asks the provider that served `id` for its TEE signature, checked against the signer registered on chain. 404 `response_not_found` for unknown or expired ids.",
    auth: 'client',
    request: 'VerifyRequest',
    success: [{ status: 200, description: 'The verdict.', json: 'VerifyResult', headers: ['X-Request-Id', 'X-Provider-Address'] }],
    errors: [400, 401, 404, 413, 415, 500, 503, 504],
  },
  {
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    tag: 'Inference',
    summary: 'The models the fleet serves',
    description: 'OpenAI list shape, plus per model: provider counts, price range per million tokens, verifiability, context length. Aliases appear unless hidden.',
    auth: 'client',
    success: [{ status: 200, description: 'The model groups.', json: 'ModelList' }],
    errors: [401],
  },
  {
    method: 'get',
    path: '/v1/models/{id}',
    operationId: 'getModel',
    tag: 'Inference',
    summary: 'One model group',
    description: 'The same entry as in the list; 404 `model_not_found` for a model no provider serves. Ids may contain slashes.',
    auth: 'client',
    success: [{ status: 200, description: 'The model group.', json: 'Model' }],
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tag: 'Operations',
    summary: 'Health of the gateway and its providers',
    description: '200 while at least one provider is in rotation; 503 (same body) when none is, or while shutting down.',
    auth: 'none',
    success: [
      { status: 200, description: 'Healthy or degraded.', json: 'Health' },
      { status: 503, description: 'Unhealthy or shutting down.', json: 'Health' },
    ],
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    description: 'Prometheus text exposition (the README lists every series and its labels). Needs the metrics or admin token when one is set; without one, open on a loopback listener only.',
    auth: 'metrics',
    success: [{ status: 200, description: 'The series.', other: { mediaType: 'text/plain', description: 'Prometheus text format 0.0.4.' } }],
    errors: [401],
  },
  {
    method: 'get',
    path: '/status',
    operationId: 'getStatusPage',
    tag: 'Operations',
    summary: 'Status page (HTML)',
    description: 'A self-contained page (no outside assets) showing the fleet, refreshing itself from `GET /admin/status`. It holds no data itself; it asks for the admin token when that route needs one.',
    auth: 'none',
    success: [{ status: 200, description: 'The page.', other: { mediaType: 'text/html', description: 'HTML with inline CSS and script.' } }],
    errors: [],
  },
  {
    method: 'get',
    path: '/admin/status',
    operationId: 'getStatus',
    tag: 'Admin',
    summary: 'What the status page shows',
    description: 'Per provider: health, breaker, funding, trust, in flight, latency, traffic share and spend.',
    auth: 'admin',
    success: [{ status: 200, description: 'The fleet now.', json: 'StatusView' }],
    errors: [401],
  },
  {
    method: 'get',
    path: '/admin/providers',
    operationId: 'getAdminProviders',
    tag: 'Admin',
    summary: 'Every provider in full',
    description: "Configuration, health, load and figures of each provider (the gateway's one provider view).",
    auth: 'admin',
    success: [{ status: 200, description: 'The fleet.', json: 'AdminProviders' }],
    errors: [401],
  },
  {
    method: 'post',
    path: '/admin/catalog/refresh',
    operationId: 'refreshCatalog',
    tag: 'Admin',
    summary: 'Read the chain\'s catalog now',
    description: 'With `providers: \'auto\'` or `{ discover }`: reads every service, applies joins, departures and changes; answers what changed. 409 `not_discovering` when the gateway serves a fixed list.',
    auth: 'admin',
    success: [{ status: 200, description: 'What changed.', json: 'CatalogRefresh' }],
    errors: [401, 409, 502],
  },
  {
    method: 'post',
    path: '/admin/providers/{address}/readmit',
    operationId: 'readmitProvider',
    tag: 'Admin',
    summary: 'Put an untrusted provider back in rotation',
    description: 'For a provider ejected after a failed verification (or an unacknowledged signer change), or flagged overcharging by billing (its excess so far is then accepted).',
    auth: 'admin',
    success: [{ status: 200, description: 'Trusted again.', json: 'Readmit' }],
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/admin/keys',
    operationId: 'getAdminKeys',
    tag: 'Admin',
    summary: 'Client keys with their limits, usage and spend',
    description: 'Never a key or its hash.',
    auth: 'admin',
    success: [{ status: 200, description: 'The keys.', json: 'AdminKeys' }],
    errors: [401],
  },
  {
    method: 'get',
    path: '/admin/billing',
    operationId: 'getAdminBilling',
    tag: 'Admin',
    summary: 'Fees served vs settled on chain, per provider; balances and refunds',
    description:
      'Per provider of the wallet: fees served (usage × price of every answer, counted once), settled on chain, pending, the last settlement (block, transaction, time) and the status (`overcharging` when settlements exceed what was served beyond the tolerance; such a provider is out of rotation). Also the chain cursor, the last reconciliation, sub-account balances with refunds and their unlock times, and the ledger. 404 when the server was started without billing.',
    auth: 'admin',
    success: [{ status: 200, description: 'The billing state now.', json: 'AdminBilling' }],
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Documentation',
    summary: 'This document',
    description: 'OpenAPI 3.1; request schemas are generated from the zod schemas that validate requests.',
    auth: 'none',
    success: [{ status: 200, description: 'The document.', other: { mediaType: 'application/json', description: 'OpenAPI 3.1 document.' } }],
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getApiDocs',
    tag: 'Documentation',
    summary: 'Swagger UI for this document',
    description: 'Served from the swagger-ui-dist package: works offline, loads nothing from outside.',
    auth: 'none',
    success: [{ status: 200, description: 'The page.', other: { mediaType: 'text/html', description: 'Swagger UI.' } }],
    errors: [],
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'getApiDocsAsset',
    tag: 'Documentation',
    summary: "Swagger UI's scripts and styles",
    description: 'The files of `/docs` (swagger-ui-bundle.js, swagger-ui.css, the initialiser); anything else is 404.',
    auth: 'none',
    success: [{ status: 200, description: 'The file.', other: { mediaType: 'application/octet-stream', description: 'JavaScript or CSS.' } }],
    errors: [404],
  },
];
