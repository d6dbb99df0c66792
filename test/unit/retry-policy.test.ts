import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, RetryPolicy, backoffDelay, type RetryPolicyOptions } from 'zg-gateway';
import { coreHarness, FakeProvider, type CoreHarness } from '../helpers/core-harness.js';

const chat = (text = 'hi'): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content: text }] });
const failure = (code: 'upstream_error' | 'upstream_unreachable' | 'upstream_rate_limited' | 'upstream_client_error', provider: string, retryAfterMs?: number): GatewayError =>
  new GatewayError(code, `Provider ${provider} failed (${code})`, {
    retryable: code !== 'upstream_client_error',
    ...(code === 'upstream_error' ? { upstreamStatus: 503 } : code === 'upstream_rate_limited' ? { upstreamStatus: 429 } : code === 'upstream_client_error' ? { upstreamStatus: 400 } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

/** A core whose waits are recorded and pass on its fake clock at once. */
async function withFakeWaits(providers: FakeProvider[], retryPolicy?: RetryPolicyOptions, random = (): number => 0.5): Promise<{ core: CoreHarness; waits: number[] }> {
  const waits: number[] = [];
  let core: CoreHarness | undefined;
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
    core?.clock.advance(ms);
  };
  core = await coreHarness(providers, { maxAttempts: 5, sleep, random, ...(retryPolicy ? { retryPolicy } : {}) });
  return { core, waits };
}

describe('backoff arithmetic', () => {
  test('initialMs × multiplier^(n-1), capped at maxMs, less up to `jitter` of it at random', () => {
    const backoff = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(backoff, n, () => 0.9)), [100, 200, 400, 800, 1000, 1000]);
    const jittered = { ...backoff, jitter: 0.5 };
    assert.equal(backoffDelay(jittered, 3, () => 0), 400, 'random 0: the whole wait');
    assert.equal(backoffDelay(jittered, 3, () => 0.999999), 200, 'random → 1: half of it');
    assert.equal(backoffDelay({ ...backoff, jitter: 1 }, 2, () => 0.25), 150, 'full jitter');
  });

  test('defaults: today (at once; a 400 confirmed once) plus jittered backoff for 429 and 5xx', () => {
    const policy = new RetryPolicy({}, () => 0);
    const count = policy.counter();
    assert.deepEqual(policy.after('upstream_unreachable', count), { retry: true, delayMs: 0, failureClass: 'connect' });
    assert.deepEqual(policy.after('upstream_timeout', count), { retry: true, delayMs: 0, failureClass: 'timeout' });
    assert.deepEqual(policy.after('insufficient_funds', count), { retry: true, delayMs: 0, failureClass: 'funds' });
    assert.deepEqual(policy.after('upstream_error', count), { retry: true, delayMs: 50, failureClass: 'server_error' });
    assert.deepEqual(policy.after('upstream_error', count), { retry: true, delayMs: 100, failureClass: 'server_error' });
    assert.deepEqual(policy.after('upstream_rate_limited', count), { retry: true, delayMs: 100, failureClass: 'rate_limited' });
    assert.deepEqual(policy.after('upstream_client_error', count), { retry: true, delayMs: 0, failureClass: 'client_error' });
    assert.deepEqual(policy.after('upstream_client_error', count), { retry: false, failureClass: 'client_error' });
    assert.deepEqual(policy.after('context_length_exceeded', count), { retry: true, delayMs: 0 }, 'a learned fact, not a failure: at once, unlimited');
  });
});

describe('the dispatcher follows the configured retry policy', () => {
  test('5xx: the waits between attempts follow the configured backoff (fake clock) and are reported per attempt', async () => {
    const failing = ['a', 'b', 'c'].map((id) => new FakeProvider(id).then({ kind: 'error', error: failure('upstream_error', id) }));
    const d = new FakeProvider('d');
    const { core, waits } = await withFakeWaits([...failing, d], { server_error: { backoff: { initialMs: 100, maxMs: 250, multiplier: 2, jitter: 0 } } });
    const started = core.clock.now();
    const { report } = await core.complete(chat());
    assert.equal(report?.provider, 'd');
    assert.equal(report?.attempts, 4);
    assert.deepEqual(waits, [100, 200, 250]);
    assert.deepEqual(report?.retryDelaysMs, [100, 200, 250], 'each failed attempt with the wait after it');
    assert.equal(core.clock.now() - started, 550);
  });

  test('retries bounds a class: with server_error.retries 1 the third provider is never asked', async () => {
    const providers = ['a', 'b', 'c'].map((id) => new FakeProvider(id).then({ kind: 'error', error: failure('upstream_error', id) }));
    const { core, waits } = await withFakeWaits(providers, { server_error: { retries: 1, backoff: { initialMs: 10, maxMs: 10, multiplier: 1, jitter: 0 } } });
    const { error } = await core.complete(chat());
    assert.equal(error?.code, 'all_providers_failed');
    assert.equal((error?.details as { attempts: Array<{ delayMs?: number }> }).attempts.length, 2);
    assert.deepEqual((error?.details as { attempts: Array<{ delayMs?: number }> }).attempts.map((attempt) => attempt.delayMs), [10, undefined]);
    assert.deepEqual(waits, [10], 'no wait after the last failure');
    assert.equal(providers.reduce((sum, provider) => sum + provider.calls.length, 0), 2);
  });

  test('connection failures move on at once by default; no wait when nothing is left to try', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: failure('upstream_unreachable', 'a') });
    const b = new FakeProvider('b');
    const { core, waits } = await withFakeWaits([a, b]);
    assert.equal((await core.complete(chat())).report?.provider, 'b');
    assert.deepEqual(waits, []);
    const only = new FakeProvider('only').then({ kind: 'error', error: failure('upstream_error', 'only') });
    const single = await withFakeWaits([only]);
    assert.equal((await single.core.complete(chat())).error?.code, 'all_providers_failed');
    assert.deepEqual(single.waits, [], 'the last provider failed: the client gets the error without a useless wait');
  });

  test('client_error.retries 0: a provider 400 goes to the client without a confirming attempt', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: failure('upstream_client_error', 'a') });
    const b = new FakeProvider('b');
    const { core } = await withFakeWaits([a, b], { client_error: { retries: 0 } });
    const { error } = await core.complete(chat());
    assert.equal(error?.code, 'upstream_client_error');
    assert.equal(b.calls.length, 0);
    // The default confirms on a second provider.
    const c = new FakeProvider('c').then({ kind: 'error', error: failure('upstream_client_error', 'c') });
    const e = new FakeProvider('e');
    const defaults = await withFakeWaits([c, e]);
    assert.equal((await defaults.core.complete(chat())).report?.provider, 'e');
  });

  test('429 with Retry-After: retried elsewhere after the jittered backoff; the provider is not asked again before its Retry-After', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: failure('upstream_rate_limited', 'a', 2000) });
    const b = new FakeProvider('b');
    const { core, waits } = await withFakeWaits([a, b], {}, () => 0.5);
    const first = await core.complete(chat());
    assert.equal(first.report?.provider, 'b');
    assert.deepEqual(waits, [75], 'the default 429 backoff: 100 ms less half of its 50 % jitter');
    for (let index = 0; index < 4; index++) assert.equal((await core.complete(chat())).report?.provider, 'b');
    assert.equal(a.calls.length, 1, 'resting for its Retry-After');
    core.clock.advance(2000);
    const after = new Set<string | undefined>();
    for (let index = 0; index < 3; index++) after.add((await core.complete(chat())).report?.provider);
    assert.ok(after.has('a'), 'asked again once its Retry-After passed');
  });

  test('every provider 429: the client gets 429 with the soonest Retry-After', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: failure('upstream_rate_limited', 'a', 3000) });
    const b = new FakeProvider('b').then({ kind: 'error', error: failure('upstream_rate_limited', 'b', 5000) });
    const { core } = await withFakeWaits([a, b]);
    const { error } = await core.complete(chat());
    assert.equal(error?.code, 'upstream_rate_limited');
    assert.equal(error?.status, 429);
    assert.equal((error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 3000, 3000);
  });

  test("the request's deadline bounds a wait: a 5 s backoff ends with the deadline (real timer)", async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: failure('upstream_error', 'a') });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b], { timeouts: { total: 150 }, retryPolicy: { server_error: { backoff: { initialMs: 5000, maxMs: 5000, multiplier: 1, jitter: 0 } } } });
    const started = performance.now();
    const { error } = await core.complete(chat());
    assert.equal(error?.code, 'upstream_timeout');
    assert.ok(performance.now() - started < 2000, 'cut at the deadline, not after the wait');
    assert.equal(b.calls.length, 0);
  });
});
