import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoadBalancer, RoundRobinStrategy, type AttemptOutcome, type BalancingStrategy, type Lease } from 'zg-gateway';

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

const threeProviders = [{ id: 'a' }, { id: 'b', weight: 2 }, { id: 'c' }];

describe('LoadBalancer.pick', () => {
  it('returns undefined when every provider is excluded or unavailable', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders });
    assert.equal(balancer.pick({ exclude: new Set(['a', 'b', 'c']) }), undefined);
    assert.equal(balancer.pick({ isAvailable: () => false }), undefined);
    assert.equal(balancer.pick({ exclude: new Set(['a']), isAvailable: (id) => id === 'a' }), undefined);
    assert.equal(balancer.pick({ exclude: new Set(['a', 'c']) }), 'b');
  });

  it('returns undefined with no providers at all', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: [] });
    assert.equal(balancer.pick(), undefined);
    assert.deepEqual(balancer.allStats(), []);
    assert.equal(balancer.totalInFlight(), 0);
  });

  it('gives the strategy snapshots with index, weight and in-flight counts, and its context', () => {
    const seen: unknown[] = [];
    const recording: BalancingStrategy = {
      name: 'recording',
      pick(candidates, context) {
        seen.push({ candidates: candidates.map((candidate) => ({ ...candidate })), now: context.now(), random: context.random() });
        return candidates[candidates.length - 1]!;
      },
    };
    const balancer = new LoadBalancer({ strategy: recording, providers: threeProviders, now: () => 42, random: () => 0.25 });
    balancer.acquire('b');
    assert.equal(balancer.pick({ exclude: new Set(['c']) }), 'b');
    assert.deepEqual(seen, [
      {
        candidates: [
          { id: 'a', index: 0, inFlight: 0, weight: 1 },
          { id: 'b', index: 1, inFlight: 1, weight: 2 },
        ],
        now: 42,
        random: 0.25,
      },
    ]);
  });

  it('refuses a strategy answer that is not a candidate', () => {
    const rogue: BalancingStrategy = { name: 'rogue', pick: () => ({ id: 'a', index: 0, inFlight: 0, weight: 1 }) };
    const balancer = new LoadBalancer({ strategy: rogue, providers: threeProviders });
    assert.throws(() => balancer.pick({ exclude: new Set(['a']) }), { name: 'GatewayError', code: 'internal_error' });
  });
});

describe('LoadBalancer configuration', () => {
  it('rejects duplicate ids, bad weights and bad latency windows', () => {
    const strategy = new RoundRobinStrategy();
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: 'a' }, { id: 'a' }] }), { code: 'invalid_config' });
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: '' }] }), { code: 'invalid_config' });
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: 'a', weight: 0 }] }), { code: 'invalid_config' });
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: 'a', weight: Number.NaN }] }), { code: 'invalid_config' });
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: 'a' }], latencyWindow: 0 }), { code: 'invalid_config' });
    assert.throws(() => new LoadBalancer({ strategy, providers: [{ id: 'a' }], latencyWindow: 1.5 }), { code: 'invalid_config' });
  });

  it('throws internal_error for an unknown provider id', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders });
    assert.throws(() => balancer.acquire('nope'), { name: 'GatewayError', code: 'internal_error' });
    assert.throws(() => balancer.stats('nope'), { code: 'internal_error' });
    assert.throws(() => balancer.inFlight('nope'), { code: 'internal_error' });
    assert.equal(balancer.totalInFlight(), 0);
  });
});

describe('Lease', () => {
  it('releases exactly once', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders });
    const lease = balancer.acquire('a');
    assert.equal(lease.providerId, 'a');
    assert.equal(lease.released, false);
    assert.equal(balancer.inFlight('a'), 1);
    assert.equal(lease.release({ ok: true }), true);
    assert.equal(lease.released, true);
    assert.equal(lease.release({ ok: true }), false);
    assert.equal(lease.release({ ok: false, error: { code: 'upstream_error', message: 'late' } }), false);
    assert.equal(balancer.inFlight('a'), 0);
    assert.deepEqual(
      { served: balancer.stats('a').served, failures: balancer.stats('a').failures, lastError: balancer.stats('a').lastError },
      { served: 1, failures: 0, lastError: null },
    );
  });

  it('brings every count back to 0 after a mix of ok, failed and duplicate releases in any order', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders });
    const leases: Lease[] = [];
    for (let request = 0; request < 30; request += 1) {
      const id = balancer.pick();
      assert.ok(id !== undefined);
      leases.push(balancer.acquire(id));
    }
    assert.equal(balancer.totalInFlight(), 30);
    assert.deepEqual(
      balancer.allStats().map((stats) => stats.inFlight),
      [10, 10, 10],
    );
    // Release in a scrambled order (7 is coprime with 30, so each lease comes up exactly once per pass),
    // every third one failing, and each lease released three times.
    let accepted = 0;
    for (let pass = 0; pass < 3; pass += 1) {
      for (let step = 0; step < 30; step += 1) {
        const position = (step * 7 + pass * 11) % 30;
        const lease = leases[position]!;
        const outcome = position % 3 === 0 ? { ok: false, error: { code: 'upstream_timeout', message: `attempt ${position}` } } : { ok: true };
        if (lease.release(outcome)) accepted += 1;
        assert.ok(balancer.totalInFlight() >= 0);
      }
    }
    assert.equal(accepted, 30);
    assert.equal(balancer.totalInFlight(), 0);
    for (const stats of balancer.allStats()) {
      assert.equal(stats.inFlight, 0);
      assert.equal(stats.served + stats.failures, 10);
    }
    // Positions 0, 3, 6, … failed; round-robin put positions 0, 3, 6, … on a.
    assert.deepEqual(
      balancer.allStats().map((stats) => [stats.id, stats.served, stats.failures]),
      [
        ['a', 0, 10],
        ['b', 10, 0],
        ['c', 10, 0],
      ],
    );
    assert.ok(leases.every((lease) => lease.released));
  });

  it('tells the strategy about each outcome once, and survives a strategy that throws on it', () => {
    const clock = fakeClock();
    const observed: AttemptOutcome[] = [];
    const learning: BalancingStrategy = {
      name: 'learning',
      pick: (candidates) => candidates[0]!,
      observe(outcome) {
        observed.push(outcome);
        throw new Error('strategy bug');
      },
    };
    const balancer = new LoadBalancer({ strategy: learning, providers: threeProviders, now: clock.now });
    const first = balancer.acquire('a');
    const second = balancer.acquire('c');
    clock.advance(40);
    assert.equal(first.release({ ok: true }), true);
    clock.advance(10);
    assert.equal(second.release({ ok: false }), true);
    assert.equal(first.release({ ok: true }), false);
    assert.deepEqual(observed, [
      { providerId: 'a', ok: true, latencyMs: 40 },
      { providerId: 'c', ok: false, latencyMs: 50 },
    ]);
    assert.equal(balancer.totalInFlight(), 0);
  });
});

describe('LoadBalancer.stats', () => {
  it('reports served, failures, last error and latency percentiles from the injected clock', () => {
    const clock = fakeClock();
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders, now: clock.now });
    assert.deepEqual(balancer.stats('a'), {
      id: 'a',
      weight: 1,
      inFlight: 0,
      served: 0,
      failures: 0,
      lastError: null,
      latencyMs: { count: 0, mean: null, p50: null, p95: null, max: null },
    });
    // Ten successes taking 100, 90, …, 10 ms (out of order on purpose).
    for (let step = 10; step >= 1; step -= 1) {
      const lease = balancer.acquire('a');
      clock.advance(step * 10);
      lease.release({ ok: true });
    }
    // Two failures; their latency is not recorded.
    const failed = balancer.acquire('a');
    clock.advance(5000);
    failed.release({ ok: false, error: { code: 'upstream_unreachable', message: 'connect ECONNREFUSED' } });
    const failedAt = clock.now();
    const pending = balancer.acquire('a');
    const timedOut = balancer.acquire('a');
    clock.advance(3);
    timedOut.release({ ok: false, error: { code: 'upstream_timeout', message: 'no answer in 30000 ms' } });

    assert.deepEqual(balancer.stats('a'), {
      id: 'a',
      weight: 1,
      inFlight: 1,
      served: 10,
      failures: 2,
      lastError: { code: 'upstream_timeout', message: 'no answer in 30000 ms', at: new Date(failedAt + 3).toISOString() },
      latencyMs: { count: 10, mean: 55, p50: 50, p95: 100, max: 100 },
    });
    assert.equal(balancer.stats('b').weight, 2);
    assert.equal(balancer.stats('b').served, 0);
    pending.release({ ok: true });
    assert.equal(balancer.stats('a').latencyMs.count, 11);
    assert.equal(balancer.stats('a').inFlight, 0);
  });

  it('records a failure without an error description', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders, now: () => 0 });
    balancer.acquire('c').release({ ok: false });
    assert.deepEqual(balancer.stats('c').lastError, {
      code: 'unknown_error',
      message: 'The attempt failed without an error description.',
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('keeps only the last latencyWindow samples', () => {
    const clock = fakeClock();
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders, now: clock.now, latencyWindow: 4 });
    for (const latency of [1000, 2000, 10, 20, 30, 40]) {
      const lease = balancer.acquire('b');
      clock.advance(latency);
      lease.release({ ok: true });
    }
    assert.deepEqual(balancer.stats('b').latencyMs, { count: 4, mean: 25, p50: 20, p95: 40, max: 40 });
    assert.equal(balancer.stats('b').served, 6);
  });

  it('never records a negative latency when the clock goes backwards', () => {
    const clock = fakeClock();
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders, now: clock.now });
    const lease = balancer.acquire('a');
    clock.advance(-50);
    lease.release({ ok: true });
    assert.equal(balancer.stats('a').latencyMs.max, 0);
  });

  it('lists every provider in configured order, as copies', () => {
    const balancer = new LoadBalancer({ strategy: new RoundRobinStrategy(), providers: threeProviders });
    const all = balancer.allStats();
    assert.deepEqual(
      all.map((stats) => [stats.id, stats.weight]),
      [
        ['a', 1],
        ['b', 2],
        ['c', 1],
      ],
    );
    all[0]!.served = 99;
    assert.equal(balancer.stats('a').served, 0);
  });
});
