import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createStrategy,
  isStrategyName,
  LeastConnectionsStrategy,
  LeastLoadStrategy,
  MinExpectedLatencyStrategy,
  MinObservedLatencyStrategy,
  RandomStrategy,
  RoundRobinStrategy,
  STRATEGY_NAMES,
  UsageBasedStrategy,
  WeightedRoundRobinStrategy,
  type BalancingStrategy,
  type ProviderSnapshot,
} from 'zg-gateway';
import { fakeClock, pickContext, PickingFleet, pickedId, snapshots } from '../helpers/fakes.js';

function pickMany(strategy: BalancingStrategy, candidates: readonly ProviderSnapshot[], times: number): string[] {
  const picked: string[] = [];
  for (let pick = 0; pick < times; pick += 1) picked.push(pickedId(strategy, candidates));
  return picked;
}

function longestRun(sequence: readonly string[], id: string): number {
  let longest = 0;
  let current = 0;
  for (const item of sequence) {
    current = item === id ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}

describe('RoundRobinStrategy', () => {
  it('rotates over three providers in configured order', () => {
    const balancer = new PickingFleet(new RoundRobinStrategy(), [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    assert.equal(balancer.strategyName, 'round-robin');
    const picked = Array.from({ length: 7 }, () => balancer.pick());
    assert.deepEqual(picked, ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('skips an excluded provider and takes it back at its place when it returns', () => {
    const balancer = new PickingFleet(new RoundRobinStrategy(), [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const withoutB = { exclude: new Set(['b']) };
    const whileExcluded = Array.from({ length: 5 }, () => balancer.pick(withoutB));
    assert.deepEqual(whileExcluded, ['a', 'c', 'a', 'c', 'a']);
    // b is back: the rotation continues after a, with b at its place and nobody picked twice.
    const afterReturn = Array.from({ length: 6 }, () => balancer.pick());
    assert.deepEqual(afterReturn, ['b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('treats unavailable providers like excluded ones', () => {
    const balancer = new PickingFleet(new RoundRobinStrategy(), [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const onlyC = { isAvailable: (id: string) => id === 'c' };
    assert.deepEqual([balancer.pick(onlyC), balancer.pick(onlyC), balancer.pick()], ['c', 'c', 'a']);
  });

  it('does not depend on the candidates being sorted', () => {
    const strategy = new RoundRobinStrategy();
    const shuffled = [snapshots([0, 0, 0])[2]!, snapshots([0, 0, 0])[0]!, snapshots([0, 0, 0])[1]!];
    assert.deepEqual(pickMany(strategy, shuffled, 4), ['p0', 'p1', 'p2', 'p0']);
  });
});

describe('LeastConnectionsStrategy', () => {
  it('prefers the provider with the fewest requests in flight', () => {
    const strategy: BalancingStrategy = new LeastConnectionsStrategy();
    assert.equal(strategy.name, 'least-connections');
    assert.equal(pickedId(strategy, snapshots([3, 1, 2])), 'p1');
    assert.equal(pickedId(strategy, snapshots([0, 5, 2])), 'p0');
    assert.equal(pickedId(strategy, snapshots([4, 4, 0])), 'p2');
  });

  it('shares ties by rotation', () => {
    const strategy = new LeastConnectionsStrategy();
    assert.deepEqual(pickMany(strategy, snapshots([0, 0, 0]), 6), ['p0', 'p1', 'p2', 'p0', 'p1', 'p2']);
    // p0 is busy: the two idle ones alternate.
    assert.deepEqual(pickMany(strategy, snapshots([1, 0, 0]), 4), ['p1', 'p2', 'p1', 'p2']);
  });

  it('spreads concurrent requests evenly through the balancer', () => {
    const balancer = new PickingFleet(new LeastConnectionsStrategy(), [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const leases = [];
    for (let request = 0; request < 9; request += 1) {
      const id = balancer.pick();
      assert.ok(id !== undefined);
      leases.push(balancer.acquire(id));
    }
    assert.deepEqual(
      balancer.allStats().map((stats) => stats.inFlight),
      [3, 3, 3],
    );
    // Free two slots on b: the next two requests go to b.
    leases.find((lease) => lease.providerId === 'b')?.release({ ok: true });
    leases.filter((lease) => lease.providerId === 'b' && !lease.released)[0]?.release({ ok: true });
    assert.equal(balancer.inFlight('b'), 1);
    const next = balancer.pick();
    assert.equal(next, 'b');
    balancer.acquire('b');
    assert.equal(balancer.pick(), 'b');
  });
});

describe('WeightedRoundRobinStrategy', () => {
  it('gives weights 3:1 as the smooth sequence A A B A', () => {
    const strategy = new WeightedRoundRobinStrategy();
    assert.equal(strategy.name, 'weighted-round-robin');
    assert.deepEqual(pickMany(strategy, snapshots([0, 0], [3, 1]), 8), ['p0', 'p0', 'p1', 'p0', 'p0', 'p0', 'p1', 'p0']);
  });

  it('gives weights 3:1:1 exactly over 500 picks, interleaved', () => {
    const balancer = new PickingFleet(
      new WeightedRoundRobinStrategy(),
      [
        { id: 'a', weight: 3 },
        { id: 'b', weight: 1 },
        { id: 'c', weight: 1 },
      ],
    );
    const picked = Array.from({ length: 500 }, () => balancer.pick() ?? 'none');
    const counts = new Map<string, number>();
    for (const id of picked) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { a: 300, b: 100, c: 100 });
    // Exact within every cycle of 5, not only overall.
    for (let start = 0; start < 500; start += 5) {
      const cycle = picked.slice(start, start + 5);
      assert.deepEqual(
        [cycle.filter((id) => id === 'a').length, cycle.filter((id) => id === 'b').length, cycle.filter((id) => id === 'c').length],
        [3, 1, 1],
      );
    }
    assert.deepEqual(picked.slice(0, 5), ['a', 'b', 'a', 'c', 'a']);
    assert.ok(longestRun(picked, 'a') <= 2, 'a is interleaved, never three in a row');
    assert.equal(longestRun(picked, 'b'), 1);
    assert.equal(longestRun(picked, 'c'), 1);
  });

  it('does not accumulate for a provider while it is absent', () => {
    const strategy = new WeightedRoundRobinStrategy();
    const all = snapshots([0, 0], [1, 1]);
    const onlyFirst = [all[0]!];
    assert.deepEqual(pickMany(strategy, onlyFirst, 10), Array(10).fill('p0'));
    // p1 built up no credit while absent: the two alternate again, no burst of p1.
    const picked = pickMany(strategy, all, 6);
    assert.equal(picked.filter((id) => id === 'p1').length, 3);
    assert.equal(longestRun(picked, 'p1'), 1);
  });
});

describe('createStrategy', () => {
  it('creates each named strategy', () => {
    assert.deepEqual([...STRATEGY_NAMES], [
      'round-robin',
      'least-connections',
      'weighted-round-robin',
      'random',
      'min-expected-latency',
      'min-observed-latency',
      'least-load',
      'usage-based',
      'lowest-price',
    ]);
    for (const name of STRATEGY_NAMES) assert.equal(createStrategy(name).name, name);
    assert.ok(createStrategy('random') instanceof RandomStrategy);
    assert.ok(createStrategy('min-expected-latency') instanceof MinExpectedLatencyStrategy);
    assert.ok(createStrategy('min-observed-latency', { explore: 0, staleAfterMs: 1000 }) instanceof MinObservedLatencyStrategy);
    assert.ok(createStrategy('usage-based') instanceof UsageBasedStrategy);
    assert.ok(createStrategy('round-robin') instanceof RoundRobinStrategy);
    assert.ok(createStrategy('least-connections') instanceof LeastConnectionsStrategy);
    assert.ok(createStrategy('weighted-round-robin') instanceof WeightedRoundRobinStrategy);
    assert.notEqual(createStrategy('round-robin'), createStrategy('round-robin'));
  });

  it('rejects unknown names', () => {
    assert.equal(isStrategyName('round-robin'), true);
    assert.equal(isStrategyName('random'), true);
    assert.equal(isStrategyName('fastest-first'), false);
    assert.equal(isStrategyName(3), false);
    assert.throws(() => createStrategy('fastest-first' as never), { name: 'GatewayError', code: 'invalid_config' });
  });

  it('passes each strategy its options', () => {
    const loadOf = (id: string): number | undefined => (id === 'p1' ? 0.1 : 0.9);
    const leastLoad = createStrategy('least-load', { loadOf, loadThreshold: 0.2 });
    assert.ok(leastLoad instanceof LeastLoadStrategy);
    assert.equal(pickedId(leastLoad, snapshots([0, 0, 0])), 'p1');
    // explore 1: with a fastest known, every draw explores.
    const clock = fakeClock();
    const observed = createStrategy('min-observed-latency', { explore: 1, now: clock.now });
    const fleet = snapshots([0, 0]).map((snapshot, index) => ({ ...snapshot, stats: { ...snapshot.stats, ewmaTtfbMs: 10 * (index + 1) } }));
    for (const snapshot of fleet) observed.observe?.({ providerId: snapshot.id, ok: true, durationMs: 1, stream: false });
    assert.equal(pickedId(observed, fleet, pickContext(0.99, clock.now())), 'p1');
  });
});
