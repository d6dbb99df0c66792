import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { GROUP_COLUMNS, INTERVAL_MS, listRequests, toCsv, usage, type LogDatabase, type RequestFilters, type RequestLog, type UsageGroup, type UsageInterval } from '../../request-log/index.js';
import { writeJson } from '../write-error.js';

/** Most requests one page of `GET /admin/requests` holds (default 100). */
export const MAX_REQUESTS_PAGE = 1000;
const DEFAULT_REQUESTS_PAGE = 100;
/** `GET /admin/usage` without `from`: the last day (hourly) or the last 30 days (daily). */
const DEFAULT_USAGE_SPAN_MS: Record<UsageInterval, number> = { hour: 86_400_000, day: 30 * 86_400_000 };

const REQUEST_CSV_COLUMNS = ['id', 'time', 'instanceId', 'keyId', 'modelRequested', 'model', 'provider', 'route', 'outcome', 'status', 'errorCode', 'attempts', 'ttftMs', 'durationMs', 'promptTokens', 'completionTokens', 'costNeuron', 'costEstimated', 'stream', 'fallbackFor', 'pool', 'priority', 'traceId'];
const USAGE_CSV_COLUMNS = ['bucket', 'group', 'requests', 'errors', 'promptTokens', 'completionTokens', 'spendNeuron', 'p50Ms', 'p95Ms'];

/** A single query parameter as a string (a repeated one is refused). */
function param(request: Request, name: string): string | undefined {
  const value = request.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new GatewayError('invalid_request', `${name} must be given once`, { param: name });
  return value;
}

/** A time parameter: ISO 8601 or epoch milliseconds. */
function time(request: Request, name: string): number | undefined {
  const value = param(request, name);
  if (value === undefined) return undefined;
  const parsed = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(parsed)) throw new GatewayError('invalid_request', `${name} must be an ISO 8601 time or epoch milliseconds`, { param: name });
  return parsed;
}

function oneOf<T extends string>(request: Request, name: string, allowed: readonly T[], fallback: T): T {
  const value = param(request, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new GatewayError('invalid_request', `${name} must be one of ${allowed.join(', ')}`, { param: name });
  return value as T;
}

function filtersOf(request: Request): RequestFilters {
  return { keyId: param(request, 'key'), model: param(request, 'model'), provider: param(request, 'provider'), outcome: param(request, 'outcome'), from: time(request, 'from'), to: time(request, 'to') };
}

/** Runs a query; a database that fails is `request_log_unavailable`, not an internal error. */
async function query<T>(requestLog: RequestLog | undefined, run: (db: LogDatabase) => Promise<T>): Promise<T> {
  if (!requestLog) throw new GatewayError('request_log_not_configured', 'This gateway keeps no request log (configure requestLog: { path } or { url })');
  const db = await requestLog.database();
  try {
    return await run(db);
  } catch (error) {
    if (GatewayError.isInstance(error)) throw error;
    throw new GatewayError('request_log_unavailable', 'The request log database could not answer', { cause: error });
  }
}

function sendCsv(response: Response, name: string, columns: readonly string[], rows: readonly object[]): void {
  const body = toCsv(columns, rows as Record<string, unknown>[]);
  response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"`, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** `GET /admin/requests`: logged requests, newest first, filtered, a page at a time (`cursor`); `format=csv` for a CSV page. */
export function adminRequestsRoute(requestLog: RequestLog | undefined) {
  return async (request: Request, response: Response): Promise<void> => {
    const filters = filtersOf(request);
    const limitText = param(request, 'limit');
    const limit = limitText === undefined ? DEFAULT_REQUESTS_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REQUESTS_PAGE) throw new GatewayError('invalid_request', `limit must be a whole number from 1 to ${MAX_REQUESTS_PAGE}`, { param: 'limit' });
    const cursor = param(request, 'cursor');
    const format = oneOf(request, 'format', ['json', 'csv'], 'json');
    const page = await query(requestLog, (db) => listRequests(db, filters, limit, cursor));
    if (format === 'csv') {
      if (page.nextCursor) response.setHeader('x-next-cursor', page.nextCursor);
      return sendCsv(response, 'requests', REQUEST_CSV_COLUMNS, page.requests);
    }
    writeJson(response, page);
  };
}

/** `GET /admin/usage?group_by=key|model|provider&interval=hour|day`: requests, errors, tokens, spend and latency per bucket and group. */
export function adminUsageRoute(requestLog: RequestLog | undefined, now: () => number = Date.now) {
  return async (request: Request, response: Response): Promise<void> => {
    const groupBy = oneOf(request, 'group_by', Object.keys(GROUP_COLUMNS) as UsageGroup[], 'model');
    const interval = oneOf(request, 'interval', Object.keys(INTERVAL_MS) as UsageInterval[], 'day');
    const filters = filtersOf(request);
    filters.from ??= now() - DEFAULT_USAGE_SPAN_MS[interval];
    const format = oneOf(request, 'format', ['json', 'csv'], 'json');
    const rows = await query(requestLog, (db) => usage(db, groupBy, interval, filters));
    if (format === 'csv') return sendCsv(response, 'usage', USAGE_CSV_COLUMNS, rows);
    writeJson(response, { groupBy, interval, from: new Date(filters.from).toISOString(), to: filters.to === undefined ? null : new Date(filters.to).toISOString(), usage: rows });
  };
}
