import { GatewayError } from '../errors/index.js';
import type { DatabaseRow, LogDatabase } from './log-database.js';

/** Filters common to both queries (all optional; times epoch ms, `to` exclusive). */
export interface RequestFilters {
  keyId?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
  outcome?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** One logged request, as `GET /admin/requests` lists it. */
export interface LoggedRequest {
  id: string;
  time: string;
  instanceId: string;
  keyId: string | null;
  modelRequested: string | null;
  model: string | null;
  provider: string | null;
  route: string;
  outcome: string;
  status: number;
  errorCode: string | null;
  attempts: number;
  ttftMs: number | null;
  durationMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Neuron, exact (a decimal string). */
  costNeuron: string | null;
  costEstimated: boolean;
  stream: boolean | null;
  fallbackFor: string | null;
  pool: string | null;
  priority: number | null;
  traceId: string | null;
}

/** One bucket of `GET /admin/usage`. */
export interface UsageRow {
  /** Start of the hour or day (UTC), ISO 8601. */
  bucket: string;
  /** The key id, model or provider (null: none, e.g. a request refused before any provider). */
  group: string | null;
  requests: number;
  /** Requests that failed (outcome neither `ok` nor `client_closed`). */
  errors: number;
  promptTokens: number;
  completionTokens: number;
  spendNeuron: string;
  p50Ms: number | null;
  p95Ms: number | null;
}

export const GROUP_COLUMNS = { key: 'key_id', model: 'model', provider: 'provider' } as const;
export type UsageGroup = keyof typeof GROUP_COLUMNS;
export const INTERVAL_MS = { hour: 3_600_000, day: 86_400_000 } as const;
export type UsageInterval = keyof typeof INTERVAL_MS;

/** Most rows `GET /admin/usage` returns. */
export const MAX_USAGE_ROWS = 10_000;

const SELECT_COLUMNS = `seq::text AS seq, request_id, instance_id, time_ms::text AS time_ms, key_id, model_requested, model, provider, route, outcome, status, error_code, attempts,
  ttft_ms, duration_ms, prompt_tokens, completion_tokens, cost_neuron::text AS cost_neuron, cost_estimated, stream, fallback_for, pool, priority, trace_id`;

/** WHERE clauses and parameters for `filters` (parameters numbered from `$1`). */
function where(filters: RequestFilters, params: unknown[]): string[] {
  const clauses: string[] = [];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    clauses.push(clause.replace('?', `$${params.length}`));
  };
  if (filters.keyId !== undefined) add('key_id = ?', filters.keyId);
  if (filters.model !== undefined) add('model = ?', filters.model);
  if (filters.provider !== undefined) add('provider = ?', filters.provider);
  if (filters.outcome !== undefined) add('outcome = ?', filters.outcome);
  if (filters.from !== undefined) add('time_ms >= ?', Math.floor(filters.from));
  if (filters.to !== undefined) add('time_ms < ?', Math.floor(filters.to));
  return clauses;
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function loggedRequest(row: DatabaseRow): LoggedRequest {
  return {
    id: String(row.request_id),
    time: new Date(Number(row.time_ms)).toISOString(),
    instanceId: String(row.instance_id),
    keyId: text(row.key_id),
    modelRequested: text(row.model_requested),
    model: text(row.model),
    provider: text(row.provider),
    route: String(row.route),
    outcome: String(row.outcome),
    status: Number(row.status),
    errorCode: text(row.error_code),
    attempts: Number(row.attempts),
    ttftMs: num(row.ttft_ms),
    durationMs: Number(row.duration_ms),
    promptTokens: num(row.prompt_tokens),
    completionTokens: num(row.completion_tokens),
    costNeuron: text(row.cost_neuron),
    costEstimated: row.cost_estimated === true,
    stream: row.stream === null || row.stream === undefined ? null : row.stream === true,
    fallbackFor: text(row.fallback_for),
    pool: text(row.pool),
    priority: num(row.priority),
    traceId: text(row.trace_id),
  };
}

/** The opaque cursor of the row after which the next page starts. */
function encodeCursor(row: DatabaseRow): string {
  return Buffer.from(`${String(row.time_ms)}.${String(row.seq)}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const match = /^(\d{1,16})\.(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new GatewayError('invalid_request', 'cursor is not one this server gave', { param: 'cursor' });
  return [match[1] as string, match[2] as string];
}

/**
 * Requests, newest first, `limit` at a time; `cursor` (from the previous page's `nextCursor`)
 * continues after that page. Pages are stable while rows are added (rows are ordered by start
 * time, then insertion).
 */
export async function listRequests(db: LogDatabase, filters: RequestFilters, limit: number, cursor?: string): Promise<{ requests: LoggedRequest[]; nextCursor: string | null }> {
  const params: unknown[] = [];
  const clauses = where(filters, params);
  if (cursor !== undefined) {
    const [timeMs, seq] = decodeCursor(cursor);
    params.push(timeMs, seq);
    clauses.push(`(time_ms, seq) < ($${params.length - 1}::bigint, $${params.length}::bigint)`);
  }
  params.push(limit + 1);
  const rows = await db.query(
    `SELECT ${SELECT_COLUMNS} FROM request_log ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY time_ms DESC, seq DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { requests: page.map(loggedRequest), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/**
 * Per bucket (hour or day, UTC) and group (key, model or provider): requests, errors, tokens, spend
 * (exact) and the p50/p95 of the whole duration. At most {@link MAX_USAGE_ROWS} rows.
 */
export async function usage(db: LogDatabase, groupBy: UsageGroup, interval: UsageInterval, filters: RequestFilters): Promise<UsageRow[]> {
  const params: unknown[] = [INTERVAL_MS[interval]];
  const clauses = where(filters, params);
  const column = GROUP_COLUMNS[groupBy];
  const rows = await db.query(
    `SELECT (time_ms - time_ms % $1)::text AS bucket, ${column} AS grp, count(*)::int AS requests,
       count(*) FILTER (WHERE outcome NOT IN ('ok', 'client_closed'))::int AS errors,
       coalesce(sum(prompt_tokens), 0)::text AS prompt_tokens, coalesce(sum(completion_tokens), 0)::text AS completion_tokens,
       coalesce(sum(cost_neuron), 0)::text AS spend,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
     FROM request_log ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''}
     GROUP BY 1, 2 ORDER BY 1, ${column} COLLATE "C" NULLS FIRST LIMIT ${MAX_USAGE_ROWS}`,
    params,
  );
  return rows.map((row) => ({
    bucket: new Date(Number(row.bucket)).toISOString(),
    group: text(row.grp),
    requests: Number(row.requests),
    errors: Number(row.errors),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    spendNeuron: String(row.spend),
    p50Ms: row.p50 === null ? null : Math.round(Number(row.p50) * 1000) / 1000,
    p95Ms: row.p95 === null ? null : Math.round(Number(row.p95) * 1000) / 1000,
  }));
}
