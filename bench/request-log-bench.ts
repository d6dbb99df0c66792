/**
 * The request log's figures: write throughput (rows/s into PGlite and into PostgreSQL, in batches
 * of `batchSize`) and its cost on the request path (the subscriber of one request-done event: a
 * gateway id check, a route check and an array push).
 *
 *   npm run build && node build/bench/request-log-bench.js [rows=20000] [postgres-url]
 *
 * Without a URL the PostgreSQL part starts its own server (test/helpers/postgres-server.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openLogDatabase, requestDoneChannel, RequestLogWriter, type LogDatabase, type RequestDoneEvent } from 'zg-gateway';
import { startTestPostgres, type TestPostgres } from '../test/helpers/postgres-server.js';

const ROWS = Number(process.argv[2] ?? 20_000);
const silent = pino({ level: 'silent' });

function event(index: number, gatewayId: string): RequestDoneEvent {
  return {
    gatewayId, requestId: `bench-${index}`, route: '/v1/chat/completions', method: 'POST', status: 200, outcome: 'ok', model: 'm', providerId: '0xabc', attempts: 1, errorCode: undefined,
    durationMs: 12.5, overheadMs: 0.4, ttfbMs: 3.2, costNeuron: 123_456_789_012_345n, routeReason: 'weighted', startedAtMs: Date.now(), keyId: 'alice', requestedModel: 'm',
    promptTokens: 12, completionTokens: 34, chargedNeuron: undefined, usageEstimated: undefined, fallbackFor: undefined, pool: undefined, priority: 5, stream: false, traceId: undefined, span: undefined,
  };
}

function writer(gatewayId: string, open: () => Promise<LogDatabase>): RequestLogWriter {
  return new RequestLogWriter({ gatewayId, open, logger: silent, maxBuffered: ROWS, batchSize: 500, flushIntervalMs: 3_600_000, retentionDays: 30, maxRows: 10_000_000, pruneIntervalMs: 3_600_000 });
}

async function throughput(name: string, open: () => Promise<LogDatabase>): Promise<void> {
  const log = writer(name, open);
  log.start();
  await log.database();
  for (let index = 0; index < ROWS; index++) requestDoneChannel.publish(event(index, name));
  const started = performance.now();
  await log.flush();
  const seconds = (performance.now() - started) / 1000;
  const counts = log.snapshot();
  const size = await (await log.database()).query("SELECT pg_total_relation_size('request_log')::bigint AS bytes");
  process.stdout.write(`${name}: ${counts.written} rows in ${seconds.toFixed(2)} s = ${Math.round(counts.written / seconds)} rows/s (batches of 500); ${Math.round(Number(size[0]?.bytes) / counts.written)} bytes/row with indexes\n`);
  await log.close();
}

async function hotPath(): Promise<void> {
  const events = Array.from({ length: 200_000 }, (_, index) => event(index, 'hot'));
  const measure = (): number => {
    const started = process.hrtime.bigint();
    for (const entry of events) requestDoneChannel.publish(entry);
    return Number(process.hrtime.bigint() - started) / events.length;
  };
  // Another subscriber stands for the metrics, which always listen: the event is built either way.
  const other = (): void => undefined;
  requestDoneChannel.subscribe(other);
  measure();
  const without = Math.min(measure(), measure(), measure());
  const log = new RequestLogWriter({ gatewayId: 'hot', open: () => Promise.reject(new Error('no database')), logger: silent, maxBuffered: 10_000_000, batchSize: 500, flushIntervalMs: 3_600_000, retentionDays: 30, maxRows: 1, pruneIntervalMs: 3_600_000 });
  log.start();
  measure();
  const withLog = Math.min(measure(), measure(), measure());
  process.stdout.write(`hot path: publish ${without.toFixed(0)} ns/event without the request log, ${withLog.toFixed(0)} ns/event with it (+${(withLog - without).toFixed(0)} ns: the subscriber's checks and one array push)\n`);
  requestDoneChannel.unsubscribe(other);
  await log.close();
}

async function main(): Promise<void> {
  await hotPath();
  const directory = mkdtempSync(join(tmpdir(), 'zg-reqlog-bench-'));
  let postgres: TestPostgres | undefined;
  try {
    await throughput('pglite', () => openLogDatabase({ path: join(directory, 'pglite') }));
    let url = process.argv[3];
    if (url === undefined) {
      postgres = await startTestPostgres();
      url = await postgres.createDatabase('bench');
    }
    const target = url;
    await throughput('postgres', () => openLogDatabase({ url: target }));
  } finally {
    await postgres?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

void main();
