/**
 * The status page's data, fast: the bounded time series (injected clock), the history fed by
 * channel events (recent failures, recovery), the cached reads, and the units people read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { migrate, openLogDatabase, parseGatewayConfig } from 'zg-gateway';

/** Internal modules, not exported by the package: loaded from the build by path. */
const internal = (path: string): unknown => require(join(__dirname, '..', '..', '..', 'lib.commonjs', path)) as unknown;
const { RequestSeries, binOf, binValue } = internal('observability/request-series.js') as typeof import('../../lib.commonjs/observability/request-series.js');
const { StatusHistory } = internal('observability/status-history.js') as typeof import('../../lib.commonjs/observability/status-history.js');
const { attemptFinishChannel, breakerChannel, requestDoneChannel } = internal('observability/channels.js') as typeof import('../../lib.commonjs/observability/channels.js');
const { formatZeroG, formatDuration, formatMs } = internal('server/status/status-format.js') as typeof import('../../lib.commonjs/server/status/status-format.js');
const { CachedRead } = internal('server/status/cached-read.js') as typeof import('../../lib.commonjs/server/status/cached-read.js');
const { billingSummary, StatusSources } = internal('server/status/status-sources.js') as typeof import('../../lib.commonjs/server/status/status-sources.js');
const { requestLogUsage } = internal('server/status/request-log-usage.js') as typeof import('../../lib.commonjs/server/status/request-log-usage.js');
const { providerMembership } = internal('create-gateway.js') as typeof import('../../lib.commonjs/create-gateway.js');
const { currentError, zeroGToNeuron } = internal('server/status/status-view.js') as typeof import('../../lib.commonjs/server/status/status-view.js');

type RequestDone = import('../../lib.commonjs/observability/channels.js').RequestDoneEvent;

function done(overrides: Partial<RequestDone> = {}): RequestDone {
  return {
    gatewayId: 'g1', requestId: 'r', route: '/v1/chat/completions', method: 'POST', status: 200, outcome: 'ok', model: 'm', providerId: 'alpha',
    attempts: 1, errorCode: undefined, durationMs: 100, overheadMs: 1, ttfbMs: 40, costNeuron: undefined, routeReason: undefined,
    startedAtMs: 0, keyId: undefined, requestedModel: 'm', promptTokens: undefined, completionTokens: undefined, chargedNeuron: undefined, usageEstimated: undefined,
    fallbackFor: undefined, pool: undefined, priority: undefined, stream: false, traceId: undefined, span: undefined, ...overrides,
  };
}

describe('RequestSeries: a bounded ring of buckets', () => {
  test('counts per bucket, overall and per key; rates, error rate and quantiles', () => {
    let now = 1_000_000_000_000;
    const series = new RequestSeries({ bucketMs: 10_000, buckets: 6, now: () => now });
    for (let index = 0; index < 9; index++) series.record('alpha', { error: false, ttftMs: 50, durationMs: 200 });
    series.record('beta', { error: true, durationMs: 2000 });
    now += 10_000;
    const overall = series.snapshot();
    assert.equal(overall.time.length, 6, 'always the whole window');
    assert.equal(overall.time[5] as number, Math.floor(now / 10_000) * 10, 'the last bucket is the current one (epoch seconds)');
    // The full bucket before: 10 requests over 10 s.
    assert.equal(overall.requestsPerSecond[4], 1);
    assert.equal(overall.errorRate[4], 0.1);
    assert.equal(overall.requestsPerSecond[5], 0, 'nothing yet in the current bucket');
    assert.equal(overall.errorRate[5], null);
    const alpha = series.snapshot('alpha');
    assert.equal(alpha.requestsPerSecond[4], 0.9);
    assert.equal(alpha.errorRate[4], 0);
    // Quantiles come from log bins: within ±12 % of the sample.
    assert.ok(Math.abs((alpha.ttftP50Ms[4] as number) - 50) / 50 < 0.12, `ttft p50 ${alpha.ttftP50Ms[4]}`);
    assert.ok(Math.abs((alpha.latencyP95Ms[4] as number) - 200) / 200 < 0.12, `latency p95 ${alpha.latencyP95Ms[4]}`);
    const beta = series.snapshot('beta');
    assert.equal(beta.ttftP50Ms[4], null, 'no TTFT sample: null, not 0');
    assert.ok((beta.latencyP50Ms[4] as number) > 1700);
    // p95 of the overall sees the slow one (1 in 10 → rank 10 of 10).
    assert.ok((overall.latencyP95Ms[4] as number) > 1700, `overall p95 ${overall.latencyP95Ms[4]}`);
    assert.ok((overall.latencyP50Ms[4] as number) < 230);
    assert.deepEqual(series.snapshot('unknown').requestsPerSecond, [0, 0, 0, 0, 0, 0]);
  });

  test('the current bucket is a rate over the time it has run; old buckets fall out after a lap', () => {
    let now = 5_000_000_000_000; // a multiple of 10 s
    const series = new RequestSeries({ bucketMs: 10_000, buckets: 3, now: () => now });
    now += 4000;
    for (let index = 0; index < 8; index++) series.record(undefined, { error: false, durationMs: 10 });
    assert.equal(series.snapshot().requestsPerSecond[2], 2, '8 requests in 4 s');
    now += 30_000; // a whole lap later: the slot is reused for a new bucket
    series.record(undefined, { error: true, durationMs: 10 });
    const snapshot = series.snapshot();
    assert.deepEqual(snapshot.errorRate, [null, null, 1], 'the old bucket is gone, the new one counts alone');
    assert.equal(snapshot.requestsPerSecond[2], 0.25);
  });

  test('keys are bounded: later ones count in the overall only; forget drops one', () => {
    const series = new RequestSeries({ maxKeys: 2, now: () => 0 });
    for (const key of ['a', 'b', 'c']) series.record(key, { error: false, durationMs: 1 });
    assert.deepEqual(series.keys(), ['a', 'b']);
    assert.equal(series.snapshot().requestsPerSecond.at(-1), 3);
    series.forget('a');
    assert.deepEqual(series.keys(), ['b']);
  });

  test('bins are monotonic and cover sub-ms to minutes', () => {
    assert.equal(binOf(0), 0);
    assert.equal(binOf(0.5), 0);
    let previous = 0;
    for (const ms of [1, 2, 10, 100, 1000, 10_000, 60_000]) {
      const bin = binOf(ms);
      assert.ok(bin > previous, `${ms} ms in bin ${bin}`);
      assert.ok(Math.abs(binValue(bin) - ms) / ms < 0.12, `${ms} ms ≈ ${binValue(bin)}`);
      previous = bin;
    }
    assert.equal(binOf(1e9), binOf(1e12), 'the last bin is open');
  });
});

describe('StatusHistory: fed by the channels', () => {
  test('keeps its own gateway\'s requests and failures, bounded, newest first; counts only API requests', () => {
    // Within the first second of a bucket: its rate is a count per second.
    let now = 100;
    const history = new StatusHistory({ gatewayId: 'g1', maxFailures: 3, now: () => now });
    try {
      requestDoneChannel.publish(done());
      requestDoneChannel.publish(done({ gatewayId: 'other' }));
      requestDoneChannel.publish(done({ route: '/admin/status', method: 'GET', status: 401 }));
      assert.equal(history.series.snapshot().requestsPerSecond.at(-1), 1, 'one API request of this gateway (the page\'s own polls do not count)');
      for (let index = 0; index < 4; index++) {
        now += 1;
        attemptFinishChannel.publish({ gatewayId: 'g1', requestId: `r${index}`, model: 'm', outcome: { providerId: 'alpha', ok: false, errorCode: 'upstream_error', errorMessage: `boom ${index}`, durationMs: 5, stream: false } });
      }
      attemptFinishChannel.publish({ gatewayId: 'g1', requestId: 'gone', model: 'm', outcome: { providerId: 'alpha', ok: false, errorCode: 'client_closed_request', durationMs: 5, stream: false } });
      const failures = history.failures();
      assert.equal(failures.length, 3, 'bounded');
      assert.deepEqual(failures.map((failure) => failure.message), ['boom 3', 'boom 2', 'boom 1'], 'newest first; a client that left is no failure');
      now += 1;
      requestDoneChannel.publish(done({ status: 502, errorCode: 'upstream_error', attempts: 2 }));
      assert.equal(history.failures()[0]?.kind, 'request');
      assert.equal(history.failures()[0]?.status, 502);
      assert.equal(history.series.snapshot('alpha').errorRate.at(-1), 0.5);
    } finally {
      history.close();
    }
    requestDoneChannel.publish(done());
    assert.equal(history.series.snapshot().requestsPerSecond.at(-1), 2, 'closed: no longer listening');
  });

  test('a provider recovers when an attempt succeeds or its breaker closes; the last error then clears', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const history = new StatusHistory({ gatewayId: 'g1', now: () => now });
    try {
      const error = { code: 'upstream_error', message: 'x'.repeat(2000), at: new Date(now).toISOString() };
      assert.deepEqual(currentError({ lastError: error }, history.recoveredAt('alpha')), error, 'shown whole while not recovered');
      now += 1000;
      attemptFinishChannel.publish({ gatewayId: 'g1', requestId: 'r', model: 'm', outcome: { providerId: 'alpha', ok: true, durationMs: 5, stream: false } });
      assert.equal(currentError({ lastError: error }, history.recoveredAt('alpha')), null, 'cleared after a success');
      breakerChannel.publish({ gatewayId: 'g1', providerId: 'beta', from: 'half-open', to: 'closed', reason: 'trial succeeded' });
      assert.equal(history.recoveredAt('beta'), now);
      const later = { ...error, at: new Date(now + 5000).toISOString() };
      assert.deepEqual(currentError({ lastError: later }, history.recoveredAt('alpha')), later, 'a newer error shows again');
    } finally {
      history.close();
    }
  });
});

describe('units people read', () => {
  test('0G with sensible precision (1 0G = 1e18 neuron)', () => {
    const cases: Array<[string, string]> = [
      ['0', '0 0G'],
      ['1000000000000000000', '1 0G'],
      ['1234567800000000000000', '1,234.5678 0G'],
      ['1500049999999999999', '1.5 0G'],
      ['1999950000000000000', '2 0G'],
      ['310000000000', '0.00000031 0G'],
      ['310123456789', '0.00000031 0G'],
      ['123456789012345678', '0.123 0G'],
      ['999999999999999999', '1 0G'],
      ['1', '0.000000000000000001 0G'],
      ['-2500000000000000000', '-2.5 0G'],
      ['100000000000000000000000', '100,000 0G'],
    ];
    for (const [neuron, shown] of cases) assert.equal(formatZeroG(neuron), shown, neuron);
    assert.doesNotMatch(formatZeroG('310000000000'), /B|neuron/, 'never "310B neuron"');
  });

  test('the funding keeper\'s 0G amounts become neuron like every other amount', () => {
    assert.equal(zeroGToNeuron('96.0'), '96000000000000000000');
    assert.equal(zeroGToNeuron('0.000000000000000001'), '1');
    assert.equal(zeroGToNeuron('2'), '2000000000000000000');
    assert.equal(zeroGToNeuron('-1.5'), '-1500000000000000000');
    assert.equal(zeroGToNeuron('not a number'), '0');
    assert.equal(formatZeroG(zeroGToNeuron('96.0')), '96 0G');
  });

  test('durations and milliseconds', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(45_400), '45 s');
    assert.equal(formatDuration(192_000), '3 min 12 s');
    assert.equal(formatDuration(3_600_000), '1 h');
    assert.equal(formatDuration(7_500_000), '2 h 5 min');
    assert.equal(formatDuration(273_600_000), '3 d 4 h');
    assert.equal(formatMs(null), '-');
    assert.equal(formatMs(0.84), '0.8 ms');
    assert.equal(formatMs(42.4), '42 ms');
    assert.equal(formatMs(1349), '1.35 s');
  });
});

describe('the page\'s slower reads', () => {
  test('CachedRead reads at most once per period, shares a read in progress, keeps an error for the period', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const cached = new CachedRead(async () => {
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('chain down');
      return reads;
    }, 30_000, () => now);
    const [first, second] = await Promise.all([cached.get(), cached.get()]);
    assert.equal(reads, 1, 'one read for two callers');
    assert.equal(first.value, 1);
    assert.equal(second.value, 1);
    now += 29_999;
    assert.equal((await cached.get()).value, 1);
    assert.equal(reads, 1);
    now += 1;
    fail = true;
    const failed = await cached.get();
    assert.equal(reads, 2);
    assert.equal(failed.error, 'chain down');
    await cached.get();
    assert.equal(reads, 2, 'an error is not retried at every poll');
  });

  test('billing status: overcharging beats pending beats ok', () => {
    const provider = (status: 'ok' | 'overcharging', pending: string) => ({ provider: `p-${status}-${pending}`, status, pending }) as never;
    const at = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(billingSummary({ providers: [provider('ok', '0')] }, at, null).status, 'ok');
    assert.equal(billingSummary({ providers: [provider('ok', '0'), provider('ok', '12')] }, at, null).status, 'pending');
    const flagged = billingSummary({ providers: [provider('ok', '12'), provider('overcharging', '-5')], totals: { served: '10', settled: '3', pending: '7', locked: '0', refundsPending: '0' } }, at, null);
    assert.equal(flagged.status, 'overcharging');
    assert.deepEqual(flagged.providers.map((entry) => entry.status), ['pending', 'overcharging']);
    assert.equal(flagged.pending, '7');
    assert.equal(billingSummary({}, at, 'rpc down').status, 'unknown');
  });

  test('per-key usage from the request log: the last 24 h per key, summed over day buckets, keyless requests left out', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'status-usage-'));
    const db = await openLogDatabase({ path: join(directory, 'pglite') });
    try {
      await migrate(db);
      const now = Date.parse('2026-03-02T06:00:00Z');
      const row = async (minutesAgo: number, key: string | null, prompt: number, completion: number, cost: string): Promise<void> => {
        await db.query(
          `INSERT INTO request_log (request_id, instance_id, time_ms, key_id, route, method, outcome, status, attempts, duration_ms, prompt_tokens, completion_tokens, cost_neuron)
           VALUES ($1, 'i', $2, $3, 'chat', 'POST', 'ok', 200, 1, 12, $4, $5, $6)`,
          [`r${minutesAgo}-${key}`, now - minutesAgo * 60_000, key, prompt, completion, cost],
        );
      };
      await row(10, 'alice', 5, 7, '1000000000000000000000'); // today (UTC)
      await row(600, 'alice', 1, 2, '3'); // yesterday: another day bucket, same 24 h
      await row(30, 'bob', 4, 4, '8');
      await row(20, null, 9, 9, '9'); // no key
      await row(25 * 60, 'bob', 100, 100, '100'); // older than 24 h
      const usage = requestLogUsage({ database: async () => db }, undefined, () => now);
      const sources = new StatusSources({ usage, now: () => now });
      const keys = await sources.keys();
      assert.equal(keys?.source, 'request-log');
      assert.deepEqual(keys?.keys, [
        { id: 'alice', requests: 2, promptTokens: 6, completionTokens: 9, spendNeuron: '1000000000000000000003', inFlight: null, disabled: false },
        { id: 'bob', requests: 1, promptTokens: 4, completionTokens: 4, spendNeuron: '8', inFlight: null, disabled: false },
      ]);
    } finally {
      await db.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('named 0G providers', () => {
  const address = '0x' + 'ab'.repeat(20);
  test('`providers` takes `{ address, name }` beside addresses; the name reaches the provider\'s membership', () => {
    const config = parseGatewayConfig({ key: '0x' + '11'.repeat(32), rpc: 'http://127.0.0.1:8545', providers: [{ address, name: 'Frankfurt GPU' }, '0x' + 'cd'.repeat(20)] });
    assert.equal(providerMembership(config, address.toUpperCase().replace('0X', '0x')).name, 'Frankfurt GPU', 'matched case-insensitively');
    assert.equal(providerMembership(config, '0x' + 'cd'.repeat(20)).name, undefined);
  });

  test('a name that is empty, longer than 64 characters or has a control character is a config error', () => {
    for (const name of ['', 'x'.repeat(65), 'bad\nname', 'tab\there', 'bidi\u202eoverride']) {
      assert.throws(() => parseGatewayConfig({ key: '0x' + '11'.repeat(32), rpc: 'http://127.0.0.1:8545', providers: [{ address, name }] }), { code: 'invalid_config', message: /providers\.0\.name/ }, JSON.stringify(name));
    }
    assert.deepEqual(parseGatewayConfig({ key: '0x' + '11'.repeat(32), rpc: 'http://127.0.0.1:8545', providers: [{ address, name: 'é'.repeat(64) }] }).providers, [{ address, name: 'é'.repeat(64) }], '64 printable characters are fine');
  });
});
