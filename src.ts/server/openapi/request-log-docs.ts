import { z } from 'zod';
import type { ApiRouteDoc } from './route-doc.js';

const neuron = z.string().regex(/^\d+$/).describe('neuron, decimal (exact)');
const time = z.string().describe('ISO 8601');

/** One row of `GET /admin/requests`. */
const loggedRequestSchema = z.object({
  id: z.string().describe('The request id (`X-Request-Id`).'),
  time: time.describe('When it started.'),
  instanceId: z.string().describe('The gateway instance that served it.'),
  keyId: z.string().nullable(),
  modelRequested: z.string().nullable().describe('The model the client asked for.'),
  model: z.string().nullable().describe('The model group that served it (after aliases and fallbacks).'),
  provider: z.string().nullable().describe('The provider that served it.'),
  route: z.string(),
  outcome: z.string().describe('`ok`, `error`, `stream_error`, `client_closed`.'),
  status: z.number().int(),
  errorCode: z.string().nullable(),
  attempts: z.number().int(),
  ttftMs: z.number().nullable().describe('Time to the first byte of substance from the provider.'),
  durationMs: z.number(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  costNeuron: neuron.nullable().describe("What the client key was charged (the answer's usage × price; a stream that ended early: what it produced)."),
  costEstimated: z.boolean().describe("The cost is an estimate (a stream that ended early without the provider's usage)."),
  stream: z.boolean().nullable(),
  fallbackFor: z.string().nullable(),
  pool: z.string().nullable(),
  priority: z.number().int().nullable(),
  traceId: z.string().nullable(),
});

export const adminRequestsSchema = z.object({
  requests: z.array(loggedRequestSchema).describe('Newest first.'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});

export const adminUsageSchema = z.object({
  groupBy: z.enum(['key', 'model', 'provider']),
  interval: z.enum(['hour', 'day']),
  from: time,
  to: time.nullable(),
  usage: z.array(
    z.object({
      bucket: time.describe('Start of the hour or day (UTC).'),
      group: z.string().nullable().describe('The key id, model or provider (null: none, e.g. refused before any provider).'),
      requests: z.number().int(),
      errors: z.number().int().describe('Requests whose outcome is neither `ok` nor `client_closed`.'),
      promptTokens: z.number().int(),
      completionTokens: z.number().int(),
      spendNeuron: neuron,
      p50Ms: z.number().nullable().describe('Median whole duration (percentile_cont).'),
      p95Ms: z.number().nullable(),
    }),
  ),
});

const query = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });

/** The query parameters of the request log routes (components.parameters, keys prefixed `query.`). */
export const REQUEST_LOG_PARAMETERS: Record<string, object> = {
  'query.key': query('key', 'Only this client key id.'),
  'query.model': query('model', 'Only this served model group.'),
  'query.provider': query('provider', 'Only this provider.'),
  'query.outcome': query('outcome', 'Only this outcome (`ok`, `error`, `stream_error`, `client_closed`).'),
  'query.from': query('from', 'Start, inclusive: ISO 8601 or epoch ms. `/admin/usage` default: a day ago (hour) or 30 days ago (day).'),
  'query.to': query('to', 'End, exclusive: ISO 8601 or epoch ms.'),
  'query.limit': query('limit', 'Rows per page, 1-1000. Default 100.', { type: 'integer', minimum: 1, maximum: 1000 }),
  'query.cursor': query('cursor', "The previous page's `nextCursor` (CSV: its `X-Next-Cursor` header)."),
  'query.format': query('format', '`json` (default) or `csv`.', { type: 'string', enum: ['json', 'csv'] }),
  'query.group_by': query('group_by', 'Group by `key`, `model` (default) or `provider`.', { type: 'string', enum: ['key', 'model', 'provider'] }),
  'query.interval': query('interval', 'Buckets of an `hour` or a `day` (default), UTC.', { type: 'string', enum: ['hour', 'day'] }),
};

const FILTERS = ['query.key', 'query.model', 'query.provider', 'query.outcome', 'query.from', 'query.to'];

/** `GET /admin/requests` and `GET /admin/usage`, as the document lists them. */
export const REQUEST_LOG_ROUTES: readonly ApiRouteDoc[] = [
  {
    method: 'get',
    path: '/admin/requests',
    operationId: 'listRequests',
    tag: 'Admin',
    summary: 'The request log: one row per API request, newest first',
    description: 'From the durable request log (`requestLog`): id, time, key, model requested and served, provider, outcome, status, error code, attempts, TTFT, duration, tokens, cost (exact neuron), fallback, pool, priority, trace id. Filtered, a page at a time (`cursor`); `format=csv` for CSV. 404 without a request log; 503 `request_log_unavailable` while its database cannot be reached.',
    auth: 'admin',
    parameters: [...FILTERS, 'query.limit', 'query.cursor', 'query.format'],
    success: [{ status: 200, description: 'A page of requests.', json: 'AdminRequests', other: { mediaType: 'text/csv', description: 'The same page as CSV (`format=csv`); `X-Next-Cursor` names the next page.' } }],
    errors: [400, 401, 404, 503],
  },
  {
    method: 'get',
    path: '/admin/usage',
    operationId: 'getUsage',
    tag: 'Admin',
    summary: 'Requests, tokens, spend, errors and latency per key, model or provider, per hour or day',
    description: 'Aggregated from the durable request log: per bucket (`interval`, UTC) and group (`group_by`) the requests, errors, prompt and completion tokens, spend (exact neuron) and the p50/p95 duration (percentile_cont). Same filters as `/admin/requests`; `format=csv` for CSV. At most 10000 rows.',
    auth: 'admin',
    parameters: ['query.group_by', 'query.interval', ...FILTERS, 'query.format'],
    success: [{ status: 200, description: 'The usage rows.', json: 'AdminUsage', other: { mediaType: 'text/csv', description: 'The same rows as CSV (`format=csv`).' } }],
    errors: [400, 401, 404, 503],
  },
];
