import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { GatewayError, parseGatewayConfig, requestDoneChannel, RequestLogWriter, type DatabaseRow, type LogDatabase, type RequestDoneEvent } from 'zg-gateway';

/** A database that records INSERTs (rows per batch) and fails while `down`. */
class FakeDatabase implements LogDatabase {
  readonly kind = 'postgres' as const;
  down = false;
  readonly batches: string[][] = [];
  async query(sql: string, params: readonly unknown[] = []): Promise<DatabaseRow[]> {
    if (this.down) throw new Error('connection refused');
    if (sql.startsWith('INSERT INTO request_log')) this.batches.push(params[0] as string[]);
    if (sql.startsWith('SELECT 1 FROM schema_migrations')) return [{ '?column?': 1 }];
    if (sql.startsWith('SELECT max(version)')) return [{ version: 1 }];
    return [];
  }
  async exec(): Promise<void> {
    if (this.down) throw new Error('connection refused');
  }
  async close(): Promise<void> {}
}

function event(id: string, overrides: Partial<RequestDoneEvent> = {}): RequestDoneEvent {
  return {
    gatewayId: 'unit', requestId: id, route: '/v1/chat/completions', method: 'POST', status: 200, outcome: 'ok', model: 'm', providerId: 'p', attempts: 1, errorCode: undefined, durationMs: 1,
    overheadMs: undefined, ttfbMs: undefined, costNeuron: 5n, routeReason: undefined, startedAtMs: 0, keyId: undefined, requestedModel: 'm', promptTokens: 1, completionTokens: 1,
    chargedNeuron: undefined, usageEstimated: undefined, fallbackFor: undefined, pool: undefined, priority: undefined, stream: false, traceId: undefined, span: undefined, ...overrides,
  };
}

function capture(): { logger: pino.Logger; warnings: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) }));
  return { logger, warnings: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('bounded buffer: a database that is down fails nothing, keeps maxBuffered rows, drops and counts the rest, warns once a minute, and catches up', async () => {
  const db = new FakeDatabase();
  let now = 1_000_000;
  const { logger, warnings } = capture();
  const writer = new RequestLogWriter({ gatewayId: 'unit', open: async () => db, logger, maxBuffered: 4, batchSize: 3, flushIntervalMs: 3_600_000, retentionDays: 30, maxRows: 100, pruneIntervalMs: 3_600_000, now: () => now });
  writer.start();
  try {
    requestDoneChannel.publish(event('a'));
    await writer.flush();
    assert.deepEqual(db.batches, [['a']]);
    db.down = true;
    for (const id of ['b', 'c', 'd', 'e', 'f', 'g']) requestDoneChannel.publish(event(id));
    assert.deepEqual(writer.snapshot(), { written: 1, dropped: 2, failedWrites: 0, buffered: 4 }, 'publishing never waits: the newest beyond the bound are dropped');
    await writer.flush();
    await writer.flush();
    assert.equal(writer.snapshot().failedWrites, 2);
    assert.equal(writer.snapshot().buffered, 4, 'a failed batch is put back');
    now += 30_000;
    requestDoneChannel.publish(event('h'));
    assert.equal(writer.snapshot().dropped, 3);
    assert.equal(warnings().length, 1, 'one warning within the minute');
    assert.equal(warnings()[0]?.event, 'request_log_rows_dropped');
    now += 31_000;
    requestDoneChannel.publish(event('i'));
    assert.equal(warnings().length, 2);
    assert.equal(warnings()[1]?.droppedRows, 3, 'the next warning carries the drops since the last one (g, h and i)');
    db.down = false;
    await writer.flush();
    assert.deepEqual(db.batches, [['a'], ['b', 'c', 'd'], ['e']], 'the kept rows are written in order once it is back, in batches of batchSize');
    assert.deepEqual(writer.snapshot(), { written: 5, dropped: 4, failedWrites: 2, buffered: 0 });
  } finally {
    await writer.close();
  }
  requestDoneChannel.publish(event('after-close'));
  assert.equal(writer.snapshot().buffered, 0, 'no longer listening after close');
});

test('only API requests of its own gateway are kept: not other gateways, not GETs, not pages', async () => {
  const db = new FakeDatabase();
  const writer = new RequestLogWriter({ gatewayId: 'unit', open: async () => db, logger: pino({ level: 'silent' }), maxBuffered: 10, batchSize: 10, flushIntervalMs: 3_600_000, retentionDays: 30, maxRows: 100, pruneIntervalMs: 3_600_000 });
  writer.start();
  requestDoneChannel.publish(event('kept'));
  requestDoneChannel.publish(event('other', { gatewayId: 'elsewhere' }));
  requestDoneChannel.publish(event('get', { method: 'GET', route: '/v1/models' }));
  requestDoneChannel.publish(event('admin', { route: '/admin/providers' }));
  await writer.close();
  assert.deepEqual(db.batches, [['kept']]);
});

test('requestLog options: exactly one of path and url, a postgres:// URL, defaults filled in', () => {
  const base = { openAICompatibleProviders: [{ name: 'u', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' }] };
  const config = parseGatewayConfig({ ...base, requestLog: { path: '/tmp/log' } });
  assert.deepEqual(config.requestLog, { path: '/tmp/log', retentionDays: 30, maxRows: 1_000_000, maxBuffered: 10_000, batchSize: 500, flushInterval: 1000, pruneInterval: 600_000 });
  for (const bad of [{}, { path: '/tmp/a', url: 'postgres://h/db' }, { url: 'mysql://h/db' }, { path: '/tmp/a', retentionDays: 0 }]) {
    assert.throws(() => parseGatewayConfig({ ...base, requestLog: bad as never }), (error: unknown) => GatewayError.isInstance(error) && error.code === 'invalid_config', JSON.stringify(bad));
  }
});
