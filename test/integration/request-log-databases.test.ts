import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { listRequests, migrate, MIGRATIONS, openLogDatabase, requestDoneChannel, RequestLogWriter, toCsv, usage, type LogDatabase, type RequestDoneEvent } from 'zg-gateway';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres-server.js';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const HOUR = 3_600_000;

/** A request-done event as the HTTP layer publishes it, with `overrides`. */
function event(index: number, overrides: Partial<RequestDoneEvent> = {}): RequestDoneEvent {
  return {
    gatewayId: 'db-test',
    requestId: `req-${index}`,
    route: '/v1/chat/completions',
    method: 'POST',
    status: 200,
    outcome: 'ok',
    model: index % 3 === 0 ? 'model-b' : 'model-a',
    providerId: index % 2 === 0 ? '0xaaa' : '0xbbb',
    attempts: 1,
    errorCode: undefined,
    durationMs: 10 + index * 1.5,
    overheadMs: 1,
    ttfbMs: 5 + index,
    costNeuron: 10n ** 20n + BigInt(index) * 123_456_789_012_345n,
    routeReason: 'weighted',
    startedAtMs: T0 + index * 10 * 60_000,
    keyId: index % 4 === 0 ? 'alice' : 'bob',
    requestedModel: 'alias',
    promptTokens: 10 + index,
    completionTokens: 20 + index,
    chargedNeuron: undefined,
    usageEstimated: undefined,
    fallbackFor: undefined,
    pool: undefined,
    priority: 5,
    stream: index % 2 === 1,
    traceId: undefined,
    span: undefined,
    ...overrides,
  };
}

/** 30 requests over five hours: mostly served, some failures, one aborted stream charged an estimate, one with a trace id. */
const EVENTS: RequestDoneEvent[] = Array.from({ length: 30 }, (_, index) => {
  if (index === 7) return event(index, { status: 502, outcome: 'error', errorCode: 'upstream_error', costNeuron: undefined, promptTokens: undefined, completionTokens: undefined, attempts: 3 });
  if (index === 8) return event(index, { outcome: 'client_closed', costNeuron: undefined, chargedNeuron: 777n, usageEstimated: true });
  if (index === 9) return event(index, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', model: '=cmd|evil', fallbackFor: 'model-a', pool: 'fast' });
  if (index === 10) return event(index, { status: 404, outcome: 'error', errorCode: 'model_not_found', model: undefined, providerId: undefined, costNeuron: undefined, attempts: 0, keyId: undefined });
  return event(index);
});

/** Publishes `events` once, each writer (one per database) logging them, and writes them out. */
async function writeEvents(opens: ReadonlyArray<() => Promise<LogDatabase>>, events: readonly RequestDoneEvent[]): Promise<RequestLogWriter[]> {
  const writers = opens.map((open) => new RequestLogWriter({ gatewayId: 'db-test', open, logger: silent, maxBuffered: 1000, batchSize: 7, flushIntervalMs: 60_000, retentionDays: 36_500, maxRows: 1_000_000, pruneIntervalMs: 3_600_000 }));
  for (const writer of writers) writer.start();
  for (const entry of events) requestDoneChannel.publish(entry);
  // Events of other gateways and non-API routes are not logged.
  requestDoneChannel.publish({ ...event(99), gatewayId: 'another-gateway' });
  requestDoneChannel.publish({ ...event(98), method: 'GET', route: '/health' });
  await Promise.all(writers.map((writer) => writer.flush()));
  return writers;
}

describe('the request log on PGlite and on PostgreSQL: same schema, same rows, same answers', () => {
  const directory = mkdtempSync(join(tmpdir(), 'zg-reqlog-db-'));
  let postgres: TestPostgres;
  let pglite: LogDatabase;
  let pgdb: LogDatabase;
  let pgliteWriter: RequestLogWriter;
  let pgWriter: RequestLogWriter;

  before(async () => {
    postgres = await startTestPostgres();
    const url = await postgres.createDatabase('reqlog');
    [pgliteWriter, pgWriter] = (await writeEvents([() => openLogDatabase({ path: join(directory, 'pglite') }), () => openLogDatabase({ url })], EVENTS)) as [RequestLogWriter, RequestLogWriter];
    pglite = await pgliteWriter.database();
    pgdb = await pgWriter.database();
  });
  after(async () => {
    await pgliteWriter?.close();
    await pgWriter?.close();
    await postgres?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  test('every event of this gateway on a /v1 POST is one row, in batches; others are not logged', () => {
    for (const writer of [pgliteWriter, pgWriter]) assert.deepEqual(writer.snapshot(), { written: 30, dropped: 0, failedWrites: 0, buffered: 0 });
  });

  test('migrations are versioned and idempotent: schema_migrations holds each step once', async () => {
    for (const db of [pglite, pgdb]) {
      assert.equal(await migrate(db), MIGRATIONS.length);
      assert.equal(await migrate(db), MIGRATIONS.length);
      const rows = await db.query('SELECT version, name FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((row) => [Number(row.version), row.name]), MIGRATIONS.map((step) => [step.version, step.name]));
    }
  });

  test('a row keeps every field; the cost is exact beyond 64 bits; an aborted stream keeps its estimated charge; the trace id is kept', async () => {
    const { requests } = await listRequests(pglite, {}, 1000);
    assert.equal(requests.length, 30);
    const served = requests.find((row) => row.id === 'req-29');
    assert.deepEqual(served, {
      id: 'req-29', time: new Date(T0 + 29 * 600_000).toISOString(), instanceId: 'db-test', keyId: 'bob', modelRequested: 'alias', model: 'model-a', provider: '0xbbb',
      route: '/v1/chat/completions', outcome: 'ok', status: 200, errorCode: null, attempts: 1, ttftMs: 34, durationMs: 53.5, promptTokens: 39, completionTokens: 49,
      costNeuron: (10n ** 20n + 29n * 123_456_789_012_345n).toString(), costEstimated: false, stream: true, fallbackFor: null, pool: null, priority: 5, traceId: null,
    });
    const aborted = requests.find((row) => row.id === 'req-8');
    assert.equal(aborted?.costNeuron, '777');
    assert.equal(aborted?.costEstimated, true);
    const traced = requests.find((row) => row.id === 'req-9');
    assert.equal(traced?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(traced?.fallbackFor, 'model-a');
  });

  test('identical answers from both databases: every filter, every page, every grouping', async () => {
    const filters = [{}, { keyId: 'alice' }, { model: 'model-b' }, { provider: '0xaaa' }, { outcome: 'error' }, { from: T0 + HOUR, to: T0 + 3 * HOUR }, { keyId: 'bob', provider: '0xbbb', from: T0 + HOUR }];
    for (const filter of filters) {
      assert.deepEqual(await listRequests(pglite, filter, 1000), await listRequests(pgdb, filter, 1000), JSON.stringify(filter));
      for (const groupBy of ['key', 'model', 'provider'] as const) {
        for (const interval of ['hour', 'day'] as const) {
          const left = await usage(pglite, groupBy, interval, filter);
          assert.deepEqual(left, await usage(pgdb, groupBy, interval, filter), `${groupBy} ${interval} ${JSON.stringify(filter)}`);
        }
      }
    }
  });

  test('pages: a cursor walks every row once, newest first, on both; a forged cursor is refused', async () => {
    for (const db of [pglite, pgdb]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listRequests(db, {}, 4, cursor);
        assert.ok(page.requests.length <= 4);
        seen.push(...page.requests.map((row) => row.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, EVENTS.map((entry) => entry.requestId).reverse());
      await assert.rejects(listRequests(db, {}, 4, 'bm90LWEtY3Vyc29y'), /cursor/);
    }
  });

  test('usage adds up: requests, errors, tokens and exact spend per model per day, and p50/p95 from percentile_cont', async () => {
    const rows = await usage(pgdb, 'model', 'day', {});
    const byModel = (model: string | undefined) => EVENTS.filter((entry) => entry.model === model);
    for (const model of ['model-a', 'model-b']) {
      const row = rows.find((entry) => entry.group === model);
      const events = byModel(model);
      assert.equal(row?.requests, events.length);
      assert.equal(row?.errors, events.filter((entry) => entry.outcome === 'error' || entry.outcome === 'stream_error').length);
      assert.equal(row?.promptTokens, events.reduce((sum, entry) => sum + (entry.promptTokens ?? 0), 0));
      assert.equal(row?.spendNeuron, events.reduce((sum, entry) => sum + (entry.costNeuron ?? entry.chargedNeuron ?? 0n), 0n).toString());
      const durations = events.map((entry) => entry.durationMs).sort((a, b) => a - b);
      const at = (fraction: number): number => {
        const position = fraction * (durations.length - 1);
        const low = Math.floor(position);
        const high = Math.ceil(position);
        return (durations[low] as number) + ((durations[high] as number) - (durations[low] as number)) * (position - low);
      };
      assert.ok(Math.abs((row?.p50Ms ?? 0) - at(0.5)) < 0.001, `p50 of ${model}`);
      assert.ok(Math.abs((row?.p95Ms ?? 0) - at(0.95)) < 0.001, `p95 of ${model}`);
    }
    assert.equal(rows.find((entry) => entry.group === null)?.requests, 1, 'the request refused before any model has its own group');
    const hourly = await usage(pglite, 'key', 'hour', {});
    assert.equal(hourly.reduce((sum, row) => sum + row.requests, 0), 30);
    assert.ok(hourly.every((row) => new Date(row.bucket).getUTCMinutes() === 0));
  });

  test('CSV: a header, one line per row, quoting, and no formula for a spreadsheet to run', async () => {
    const { requests } = await listRequests(pglite, { model: '=cmd|evil' }, 10);
    const csv = toCsv(['id', 'model', 'costNeuron'], requests as unknown as Record<string, unknown>[]);
    assert.equal(csv, `id,model,costNeuron\r\nreq-9,'=cmd|evil,${(10n ** 20n + 9n * 123_456_789_012_345n).toString()}\r\n`);
    assert.equal(toCsv(['a'], [{ a: 'x,"y"\nz' }]), 'a\r\n"x,""y""\nz"\r\n');
  });

  test('retention and the size bound: old rows go first, then the oldest beyond maxRows', async () => {
    for (const open of [() => Promise.resolve(pglite), () => Promise.resolve(pgdb)]) {
      const writer = new RequestLogWriter({ gatewayId: 'db-test', open, logger: silent, maxBuffered: 10, batchSize: 10, flushIntervalMs: 60_000, retentionDays: 1, maxRows: 20, pruneIntervalMs: 3_600_000, now: () => T0 + 86_400_000 + 2 * HOUR });
      // Older than a day at that time: the first 12 rows (two hours).
      assert.equal(await writer.prune(), 12);
      const left = await listRequests(await writer.database(), {}, 1000);
      assert.equal(left.requests.length, 18);
      assert.equal(left.requests.at(-1)?.id, 'req-12');
      const bounded = new RequestLogWriter({ gatewayId: 'db-test', open, logger: silent, maxBuffered: 10, batchSize: 10, flushIntervalMs: 60_000, retentionDays: 36_500, maxRows: 5, pruneIntervalMs: 3_600_000 });
      assert.equal(await bounded.prune(), 13);
      assert.deepEqual((await listRequests(await bounded.database(), {}, 1000)).requests.map((row) => row.id), ['req-29', 'req-28', 'req-27', 'req-26', 'req-25']);
    }
  });
});
