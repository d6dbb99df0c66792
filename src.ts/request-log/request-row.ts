import type { RequestDoneEvent } from '../observability/index.js';

/** The request-done event as the request log reads it (a `traceId` when tracing adds one). */
export type LoggedEvent = RequestDoneEvent & { traceId?: string | undefined };

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
 * key was charged: the answer's price, or what a stream that ended early produced (then
 * `cost_estimated` says whether its usage was estimated).
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
    event.costNeuron === undefined && event.chargedNeuron !== undefined && event.usageEstimated === true,
    event.stream ?? null,
    event.fallbackFor ?? null,
    event.pool ?? null,
    event.priority ?? null,
    typeof event.traceId === 'string' ? bounded(event.traceId, 64) : null,
  ];
}

/** `INSERT ... VALUES ($1, ...), (...)` for `count` rows. */
export function insertStatement(count: number): string {
  const width = ROW_COLUMNS.length;
  const tuples: string[] = [];
  for (let row = 0; row < count; row += 1) {
    const slots: string[] = [];
    for (let column = 1; column <= width; column += 1) slots.push(`$${row * width + column}`);
    tuples.push(`(${slots.join(', ')})`);
  }
  return `INSERT INTO request_log (${ROW_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
}
