import { responseObjectSchema, responsesRequestSchema } from './responses-api-schemas.js';
import { z } from 'zod';
import { ERROR_CODES } from '../../errors/index.js';
import { packageRequire } from '../../internal/package-require.js';
import { imageGenerationRequestSchema } from '../validate-media-request.js';
import { chatCompletionRequestSchema, embeddingRequestSchema, textCompletionRequestSchema, verifyRequestSchema } from '../validate-request.js';
import { API_ROUTES, type ApiRouteDoc, type RouteAuth, type SchemaName } from './api-routes.js';
import {
  embeddingListSchema,
  imagesAnswerSchema,
  transcriptionSchema,
  adminKeysSchema,
  adminProvidersSchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  errorBodySchema,
  healthSchema,
  modelListSchema,
  modelSchema,
  catalogRefreshSchema,
  readmitSchema,
  statusViewSchema,
  textCompletionSchema,
  verifyResultSchema,
} from './response-schemas.js';
import { adminBillingSchema } from './admin-billing-schema.js';
import { adminRequestsSchema, adminUsageSchema, REQUEST_LOG_PARAMETERS } from './request-log-docs.js';
import { adminProviderAddSchema, adminProviderPatchSchema, adminQueueSchema, memberChangeSchema, nodeAddRequestSchema, nodesStatusSchema } from './fleet-schemas.js';

/** A JSON object (the document is plain JSON). */
export type JsonObject = { [key: string]: unknown };

/** What the document says about authentication (it depends on the configuration, never shows a secret). */
export interface OpenApiOptions {
  /** Client keys are configured: `/v1/*` needs one. Default false. */
  clientKeys?: boolean;
  /** An admin token is configured. Default false (admin routes are then open on loopback only). */
  adminToken?: boolean;
  /** A metrics token is configured. Default false. */
  metricsToken?: boolean;
}

/** The zod schema behind each component, requests first: the same objects that validate requests. */
const SCHEMAS: Record<SchemaName, z.ZodType> = {
  ChatCompletionRequest: chatCompletionRequestSchema,
  TextCompletionRequest: textCompletionRequestSchema,
  EmbeddingRequest: embeddingRequestSchema,
  EmbeddingList: embeddingListSchema,
  ImageGenerationRequest: imageGenerationRequestSchema,
  ImagesAnswer: imagesAnswerSchema,
  Transcription: transcriptionSchema,
  VerifyRequest: verifyRequestSchema,
  ResponsesRequest: responsesRequestSchema,
  ResponseObject: responseObjectSchema,
  ChatCompletion: chatCompletionSchema,
  ChatCompletionChunk: chatCompletionChunkSchema,
  TextCompletion: textCompletionSchema,
  VerifyResult: verifyResultSchema,
  ModelList: modelListSchema,
  Model: modelSchema,
  CatalogRefresh: catalogRefreshSchema,
  Readmit: readmitSchema,
  Health: healthSchema,
  AdminProviders: adminProvidersSchema,
  AdminKeys: adminKeysSchema,
  AdminBilling: adminBillingSchema,
  AdminRequests: adminRequestsSchema,
  AdminUsage: adminUsageSchema,
  StatusView: statusViewSchema,
  NodeAddRequest: nodeAddRequestSchema,
  AdminProviderAdd: adminProviderAddSchema,
  AdminProviderPatch: adminProviderPatchSchema,
  MemberChange: memberChangeSchema,
  NodesStatus: nodesStatusSchema,
  AdminQueue: adminQueueSchema,
  Error: errorBodySchema,
};

const HEADERS: Record<string, string> = {
  'X-Request-Id': "The request's id (the client's, when it sent a sane one).",
  'X-Provider-Address': 'The provider that served the answer.',
  'X-Request-Cost': 'What the answer cost, neuron (answers with usage; images: n × the price per image; transcriptions: billable seconds × the price per second).',
  'X-Response-Id': 'The id `/v1/verify` takes for an image or transcription answer (they carry none in their body): the provider\'s `ZG-Res-Key`.',
  'X-Route-Reason': "Why this provider was chosen (the strategy's reason, `session` for a pin).",
  'X-Model-Fallback': 'The fallback model that served, when the requested one could not.',
  'X-Session-Repinned': '`true` when the session moved to another provider.',
  'X-Session-Previous-Provider': 'The provider the session was pinned to before.',
  'X-Pool': 'The pool of the provider that served the answer, when it is in one (another than asked for: the request overflowed).',
  'X-Priority-Capped': "The priority the request was given, when it asked for more than its client key's `maxPriority` (default: the queue's default priority).",
  'Retry-After': 'Seconds to wait (429, 503, 402).',
};

const PARAMETERS: Record<string, JsonObject> = {
  'X-Session-Id': { name: 'X-Session-Id', in: 'header', required: false, description: 'Pins a conversation to one provider (1-200 of [A-Za-z0-9._:-]).', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,200}$' } },
  'X-Priority': { name: 'X-Priority', in: 'header', required: false, description: 'Admission priority 0-10, higher first, when every provider is at its concurrency cap (wins over the body\'s `user_level`). Default 5. Capped at the client key\'s `maxPriority`.', schema: { type: 'string', pattern: '^([0-9]|10)$' } },
  'X-Pool': { name: 'X-Pool', in: 'header', required: false, description: 'The pool to serve the request from (a configured pool; it overflows as that pool says). Default: the pool its model maps to, else any provider.', schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' } },
  'X-Request-Id': { name: 'X-Request-Id', in: 'header', required: false, description: 'Your id for the request, echoed back and logged (1-128 of [A-Za-z0-9._:-]).', schema: { type: 'string' } },
};

const ref = (name: SchemaName): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** The schema of a multipart form: its files as binary strings, its fields as strings. */
function formSchema(form: NonNullable<ApiRouteDoc['form']>): JsonObject {
  const properties: JsonObject = {};
  for (const [name, description] of Object.entries(form.files)) properties[name] = { type: 'string', format: 'binary', description };
  for (const [name, description] of Object.entries(form.fields)) properties[name] = { type: 'string', description };
  return { type: 'object', required: form.required, properties };
}

function security(auth: RouteAuth, options: OpenApiOptions): JsonObject[] {
  if (auth === 'client') return options.clientKeys ? [{ clientKey: [] }] : [];
  if (auth === 'admin') return options.adminToken ? [{ adminToken: [] }] : [];
  if (auth === 'metrics') return [...(options.adminToken ? [{ adminToken: [] }] : []), ...(options.metricsToken ? [{ metricsToken: [] }] : [])];
  return [];
}

/** The error codes answered with `status`, for its description. */
function codesOf(status: number): string {
  const codes = Object.entries(ERROR_CODES)
    .filter(([, entry]) => entry.status === status)
    .map(([code]) => `\`${code}\``);
  return codes.length > 0 ? `Error: ${codes.join(', ')}.` : 'Error.';
}

function operation(route: ApiRouteDoc, options: OpenApiOptions): JsonObject {
  const responses: JsonObject = {};
  for (const success of route.success) {
    const content: JsonObject = {};
    if (success.json) content['application/json'] = { schema: ref(success.json) };
    if (success.other) content[success.other.mediaType] = { schema: { type: 'string', description: success.other.description } };
    responses[String(success.status)] = {
      description: success.description,
      content,
      ...(success.headers ? { headers: Object.fromEntries(success.headers.map((name) => [name, { $ref: `#/components/headers/${name}` }])) } : {}),
    };
  }
  for (const status of route.errors) {
    responses[String(status)] = { description: codesOf(status), content: { 'application/json': { schema: ref('Error') } }, headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } };
  }
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
  const parameters = [...pathParameters, ...(route.parameters ?? []).map((name) => ({ $ref: `#/components/parameters/${name}` }))];
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: route.description,
    security: security(route.auth, options),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.request ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.request) } } } } : {}),
    ...(route.form ? { requestBody: { required: true, content: { 'multipart/form-data': { schema: formSchema(route.form) } } } } : {}),
    responses,
  };
}

function packageVersion(): string {
  try {
    return (packageRequire('../../package.json') as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The OpenAPI 3.1 document of every route ({@link API_ROUTES}): request bodies are
 * `z.toJSONSchema()` of the very schemas that validate them, so the docs cannot drift from the
 * validation; responses and the error body come from `response-schemas.ts`.
 */
export function buildOpenApiDocument(options: OpenApiOptions = {}): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of API_ROUTES) (paths[route.path] ??= {})[route.method] = operation(route, options);
  return {
    openapi: '3.1.0',
    info: {
      title: 'zg-gateway',
      version: packageVersion(),
      description: 'OpenAI-compatible inference gateway for the 0G compute network: one URL in front of many providers, load-balanced, session-affine, and able to prove every answer.',
    },
    tags: [
      { name: 'Inference', description: 'The OpenAI-compatible API.' },
      { name: 'Operations', description: 'Health, metrics and the status page.' },
      { name: 'Admin', description: 'The fleet in detail (admin token).' },
      { name: 'Documentation', description: 'This document and its viewer.' },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, z.toJSONSchema(schema)])),
      securitySchemes: {
        clientKey: { type: 'http', scheme: 'bearer', description: 'A client API key (`apiKeys` / `keysFile`), on `/v1/*` when keys are configured.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The `adminToken` (configured, or generated at start: `handle.adminToken`, `adminTokenFile`), on `/admin/*` and `/nodes/*` (and accepted on `/metrics`). Admin routes are never open without it.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'The `metricsToken`, on `/metrics` only (for scrapers).' },
      },
      headers: Object.fromEntries(Object.entries(HEADERS).map(([name, description]) => [name, { description, schema: { type: 'string' } }])),
      parameters: { ...PARAMETERS, ...REQUEST_LOG_PARAMETERS },
    },
  };
}
