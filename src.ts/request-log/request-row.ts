import type { RequestDoneEvent } from '../observability/index.js';

/** The request-done event as the request log reads it (its `traceId` is set when tracing is on). */
export type LoggedEvent = RequestDoneEvent;

/** The columns of `request_log` written per row, in INSERT order. */
export const ROW_COLUMNS = [
  'request_id', 'instance_id', 'time_ms', 'key_id', 'model_requested', 'model', 'provider', 'route', 'method', 'outcome', 'status', 'error_code', 'attempts',
  'ttft_ms', 'duration_ms', 'prompt_tokens', 'completion_tokens', 'cost_neuron', 'cost_estimated', 'stream', 'fallback_for', 'pool', 'priority', 'trace_id',
] as const;

/** Only API requests are logged (POST under `/v1/`): not health checks, scrapes, pages or admin calls. */
export function isLoggedRequest(event: RequestDoneEvent): boolean {
  return event.method === 'POST' && event.route.startsWith('/v1/');
}

/** Bounds a text from the client (a model name) to what a row keeps. */
function bounded(text: string | undefined, max = 200): string | null {
  if (text === undefined) return null;
  return text.length > max ? text.slice(0, max) : text;
}

const rounded = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * 1000) / 1000);

/**
 * The INSERT parameters of one event, in {@link ROW_COLUMNS} order. The cost is what the client
 * key was charged: the answer's price, or what a stream that ended early produced; `cost_estimated`
 * says whether the usage it is priced by was estimated (a stream ended early without usage, a
 * transcription without usage billed by its WAV's duration).
 */
export function rowValues(event: LoggedEvent): unknown[] {
  const cost = event.costNeuron ?? event.chargedNeuron;
  return [
    event.requestId,
    event.gatewayId,
    Math.round(event.startedAtMs),
    event.keyId ?? null,
    bounded(event.requestedModel),
    bounded(event.model),
    event.providerId ?? null,
    bounded(event.route),
    event.method,
    event.outcome,
    event.status,
    event.errorCode ?? null,
    event.attempts,
    rounded(event.ttfbMs),
    rounded(event.durationMs),
    event.promptTokens ?? null,
    event.completionTokens ?? null,
    cost === undefined ? null : cost.toString(),
    cost !== undefined && event.usageEstimated === true,
    event.stream ?? null,
    event.fallbackFor ?? null,
    event.pool ?? null,
    event.priority ?? null,
    typeof event.traceId === 'string' ? bounded(event.traceId, 64) : null,
  ];
}

/** The SQL type of each column of {@link ROW_COLUMNS}, for the arrays of {@link INSERT_ROWS}. */
const COLUMN_TYPES: Record<(typeof ROW_COLUMNS)[number], string> = {
  request_id: 'text', instance_id: 'text', time_ms: 'bigint', key_id: 'text', model_requested: 'text', model: 'text', provider: 'text', route: 'text', method: 'text',
  outcome: 'text', status: 'integer', error_code: 'text', attempts: 'integer', ttft_ms: 'double precision', duration_ms: 'double precision', prompt_tokens: 'integer',
  completion_tokens: 'integer', cost_neuron: 'numeric', cost_estimated: 'boolean', stream: 'boolean', fallback_for: 'text', pool: 'text', priority: 'integer', trace_id: 'text',
};

/**
 * One INSERT for a whole batch, whatever its size: each column is one array parameter, unnested
 * into rows (one statement, 24 parameters; faster than a row of placeholders per request).
 */
export const INSERT_ROWS = `INSERT INTO request_log (${ROW_COLUMNS.join(', ')}) SELECT * FROM unnest(${ROW_COLUMNS.map((column, index) => `$${index + 1}::${COLUMN_TYPES[column]}[]`).join(', ')})`;

/** The array parameters of {@link INSERT_ROWS} for `events`: one array per column. */
export function columnArrays(events: readonly LoggedEvent[]): unknown[][] {
  const columns: unknown[][] = ROW_COLUMNS.map(() => new Array<unknown>(events.length));
  events.forEach((event, row) => rowValues(event).forEach((value, column) => ((columns[column] as unknown[])[row] = value)));
  return columns;
}
