import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { GatewayError, type AttemptOutcome, type Lease } from 'zg-gateway';
import { FakeProvider, fakeClock, testRegistry } from '../helpers/fakes.js';

function threeProviders(clock = fakeClock()) {
  const registry = testRegistry(clock);
  const a = registry.add(new FakeProvider('a'));
  const b = registry.add(new FakeProvider('b'), { weight: 2 });
  const c = registry.add(new FakeProvider('c'));
  return { registry, a, b, c, clock };
}

describe('ProviderRegistry membership', () => {
  it('adds providers in joining order with their options, and refuses duplicates and bad weights', () => {
    const { registry } = threeProviders();
    assert.deepEqual(
      registry.list().map((entry) => [entry.id, entry.index, entry.weight]),
      [
        ['a', 0, 1],
        ['b', 1, 2],
        ['c', 2, 1],
      ],
    );
    assert.throws(() => registry.add(new FakeProvider('a')), { code: 'invalid_config' });
    assert.throws(() => registry.add(new FakeProvider('A')), { code: 'invalid_config' }, 'ids are compared case-insensitively');
    assert.throws(() => registry.add(new FakeProvider('d'), { weight: 0 }), { code: 'invalid_config' });
    assert.throws(() => registry.add(new FakeProvider('d'), { weight: Number.NaN }), { code: 'invalid_config' });
    assert.equal(registry.size, 3);
    assert.equal(registry.get('B')?.id, 'b');
  });

  it('remove() drains: no new picks at once, the provider leaves when its last request ends, and is closed', async () => {
    const { registry, b } = threeProviders();
    const first = registry.acquire(b);
    const second = registry.acquire(b);
    let left = false;
    const removal = registry.remove('b', 'test').then((removed) => {
      left = removed;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(b.membership.state, 'draining');
    assert.equal(b.isAvailable(), false, 'a draining provider takes no new request');
    assert.equal(left, false);
    first.release({ ok: true, stream: false });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(left, false, 'one request still in flight');
    second.release({ ok: true, stream: false });
    await removal;
    assert.equal(left, true);
    assert.equal(registry.get('b'), undefined);
    assert.equal((b.provider as FakeProvider).closed, true);
    assert.equal(registry.totalInFlight(), 0);
    assert.equal(await registry.remove('b'), false, 'removing an unknown id says false');
  });

  it('publishes joins and departures on diagnostics_channel', async () => {
    const seen: string[] = [];
    const onAdded = (message: unknown): void => void seen.push(`+${(message as { providerId: string }).providerId}`);
    const onRemoved = (message: unknown): void => void seen.push(`-${(message as { providerId: string }).providerId}`);
    subscribe('zg-gateway:provider:added', onAdded);
    subscribe('zg-gateway:provider:removed', onRemoved);
    try {
      const registry = testRegistry();
      registry.add(new FakeProvider('x'));
      await registry.remove('x');
    } finally {
      unsubscribe('zg-gateway:provider:added', onAdded);
      unsubscribe('zg-gateway:provider:removed', onRemoved);
    }
    assert.deepEqual(seen, ['+x', '-x']);
  });
});

describe('Lease', () => {
  it('releases exactly once', () => {
    const { registry, a } = threeProviders();
    const lease = registry.acquire(a);
    assert.equal(lease.entry, a);
    assert.equal(lease.released, false);
    assert.equal(a.inFlight, 1);
    assert.equal(lease.release({ ok: true, stream: false }), true);
    assert.equal(lease.released, true);
    assert.equal(lease.release({ ok: true, stream: false }), false);
    assert.equal(lease.release({ ok: false, errorCode: 'upstream_error', errorMessage: 'late', stream: false }), false);
    assert.equal(a.inFlight, 0);
    assert.deepEqual({ served: a.stats.served, failures: a.stats.failures, lastError: a.stats.lastError }, { served: 1, failures: 0, lastError: null });
  });

  it('brings every count back to 0 after a mix of ok, failed and duplicate releases in any order', () => {
    const { registry, a, b, c } = threeProviders();
    const entries = [a, b, c];
    const leases: Lease[] = [];
    for (let request = 0; request < 30; request += 1) leases.push(registry.acquire(entries[request % 3]!));
    assert.equal(registry.totalInFlight(), 30);
    assert.deepEqual(entries.map((entry) => entry.inFlight), [10, 10, 10]);
    // Release in a scrambled order (7 is coprime with 30, so each lease comes up exactly once per pass),
    // every third one failing, and each lease released three times.
    let accepted = 0;
    for (let pass = 0; pass < 3; pass += 1) {
      for (let step = 0; step < 30; step += 1) {
        const position = (step * 7 + pass * 11) % 30;
        const lease = leases[position]!;
        const outcome = position % 3 === 0 ? { ok: false, errorCode: 'upstream_timeout', errorMessage: `attempt ${position}`, stream: false } : { ok: true, stream: false };
        if (lease.release(outcome)) accepted += 1;
        assert.ok(registry.totalInFlight() >= 0);
      }
    }
    assert.equal(accepted, 30);
    assert.equal(registry.totalInFlight(), 0);
    assert.deepEqual(
      entries.map((entry) => [entry.id, entry.inFlight, entry.stats.served, entry.stats.failures]),
      [
        ['a', 0, 0, 10],
        ['b', 0, 10, 0],
        ['c', 0, 10, 0],
      ],
    );
    assert.ok(leases.every((lease) => lease.released));
  });

  it('tells listeners about each outcome once, and survives a listener that throws', () => {
    const { registry, a, c, clock } = threeProviders();
    const observed: AttemptOutcome[] = [];
    registry.onOutcome((outcome) => {
      observed.push(outcome);
      throw new Error('listener bug');
    });
    const first = registry.acquire(a);
    const second = registry.acquire(c);
    clock.advance(40);
    assert.equal(first.release({ ok: true, stream: false }), true);
    clock.advance(10);
    assert.equal(second.release({ ok: false, errorCode: 'upstream_error', stream: false }), true);
    assert.equal(first.release({ ok: true, stream: false }), false);
    assert.deepEqual(
      observed.map(({ providerId, ok, durationMs }) => ({ providerId, ok, durationMs })),
      [
        { providerId: 'a', ok: true, durationMs: 40 },
        { providerId: 'c', ok: false, durationMs: 50 },
      ],
    );
    assert.equal(registry.totalInFlight(), 0);
  });

  it('whenIdle() resolves once the last lease is released', async () => {
    const { registry, a } = threeProviders();
    await registry.whenIdle();
    const lease = registry.acquire(a);
    let idle = false;
    const waiting = registry.whenIdle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    lease.release({ ok: true, stream: false });
    await waiting;
    assert.equal(idle, true);
  });
});

describe('ProviderRegistry health feeding', () => {
  it('counts provider faults against the breaker, but not client errors, client aborts or funding', () => {
    const { registry, a } = threeProviders();
    for (const code of ['client_closed_request', 'upstream_client_error', 'shutting_down', 'upstream_model_unavailable']) {
      for (let index = 0; index < 5; index++) registry.acquire(a).release({ ok: false, errorCode: code, stream: false });
    }
    assert.equal(a.breaker.state, 'closed', 'neutral outcomes never open the breaker');
    for (let index = 0; index < 3; index++) registry.acquire(a).release({ ok: false, errorCode: 'upstream_error', stream: false });
    assert.equal(a.breaker.state, 'open');
    assert.equal(a.isAvailable(), false);
    assert.match(a.outOfRotationReason() ?? '', /breaker open/);
  });

  it('a 402 puts the provider in needs-funds (out of rotation, breaker untouched) until funded again', () => {
    const { registry, b } = threeProviders();
    registry.acquire(b).release({ ok: false, errorCode: 'insufficient_funds', errorMessage: 'sub-account empty', stream: false });
    assert.equal(b.funding.state, 'needs-funds');
    assert.equal(b.funding.reason, 'sub-account empty');
    assert.equal(b.breaker.state, 'closed');
    assert.equal(b.isAvailable(), false);
    assert.match(b.outOfRotationReason() ?? '', /^funding/);
    registry.setFunding(b, 'ok', 'topped up');
    assert.equal(b.isAvailable(), true);
  });

  it('a 429 rests the provider for its Retry-After', () => {
    const { registry, c, clock } = threeProviders();
    registry.acquire(c).release({ ok: false, errorCode: 'upstream_rate_limited', retryAfterMs: 2000, stream: false });
    assert.equal(c.isAvailable(), false);
    clock.advance(2000);
    assert.equal(c.breaker.state, 'half-open');
  });

  it('remembers for a while that a provider does not serve a model', () => {
    const { registry, a, clock } = threeProviders();
    assert.equal(a.serves('m', clock.now()), true);
    assert.equal(a.serves('other', clock.now()), false);
    registry.markModelUnserved(a, 'm');
    assert.equal(a.serves('m', clock.now()), false);
    clock.advance(60_000);
    assert.equal(a.serves('m', clock.now()), true);
  });
});

describe('ProviderStats through leases', () => {
  it('reports served, failures, last error, latency percentiles, and streams by time to first byte', () => {
    const { registry, a, clock } = threeProviders();
    // Ten JSON successes taking 100, 90, …, 10 ms (out of order on purpose).
    for (let step = 10; step >= 1; step -= 1) {
      const lease = registry.acquire(a);
      clock.advance(step * 10);
      lease.release({ ok: true, stream: false, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });
    }
    const failed = registry.acquire(a);
    clock.advance(5000);
    failed.release({ ok: false, errorCode: 'upstream_timeout', errorMessage: 'no answer in 30000 ms', stream: false });
    assert.deepEqual(a.stats.latency(), { count: 10, mean: 55, p50: 50, p95: 100, max: 100 });
    assert.deepEqual(a.stats.lastError, { code: 'upstream_timeout', message: 'no answer in 30000 ms', at: new Date(clock.now()).toISOString() });
    assert.deepEqual([a.stats.served, a.stats.failures, a.stats.promptTokens, a.stats.completionTokens], [10, 1, 10, 20]);
    // A 20-second stream whose first byte came after 30 ms counts as 30 ms, not 20 s.
    const stream = registry.acquire(a);
    clock.advance(20_000);
    stream.release({ ok: true, stream: true, ttfbMs: 30, usage: { prompt_tokens: 1, completion_tokens: 400, total_tokens: 401 } });
    assert.equal(a.stats.latency().max, 100);
    assert.ok((a.stats.outputTokensPerSecond ?? 0) > 19 && (a.stats.outputTokensPerSecond ?? 0) < 21, 'about 400 tokens over 19.97 s');
  });

  it('never records a negative duration when the clock goes backwards', () => {
    const { registry, a, clock } = threeProviders();
    const lease = registry.acquire(a);
    clock.advance(-50);
    const seen: number[] = [];
    registry.onOutcome((outcome) => seen.push(outcome.durationMs));
    lease.release({ ok: true, stream: false });
    assert.deepEqual(seen, [0]);
  });
});

describe('GatewayError for registry misuse', () => {
  it('configure() on an unknown id throws provider_not_found', () => {
    const { registry } = threeProviders();
    assert.throws(() => registry.configure('zzz', { weight: 3 }), (error: unknown) => GatewayError.isInstance(error) && error.code === 'provider_not_found');
    registry.configure('a', { weight: 5, maxConcurrent: 2 });
    assert.deepEqual([registry.get('a')?.weight, registry.get('a')?.maxConcurrent], [5, 2]);
  });
});
