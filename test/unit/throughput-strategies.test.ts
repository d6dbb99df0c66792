import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MinExpectedLatencyStrategy, RandomStrategy, type BalancingStrategy, type PickContext } from 'zg-gateway';
import { decided, fakeClock, scriptedContext, seededRandom, snapshotsOf, type TestSnapshot } from '../helpers/fakes.js';

/** Picks once per draw and returns `id reason` strings. */
function pickWithDraws(strategy: BalancingStrategy, candidates: readonly TestSnapshot[], draws: readonly number[]): string[] {
  const context = scriptedContext(fakeClock(), draws);
  return draws.map(() => decided(strategy.pick(candidates, context)).join(' '));
}

describe('RandomStrategy', () => {
  it('selects along the cumulative throughput shares, one draw per pick', () => {
    const strategy = new RandomStrategy();
    assert.equal(strategy.name, 'random');
    const fleet = snapshotsOf([{ throughput: 3 }, { throughput: 1 }]);
    assert.deepEqual(pickWithDraws(strategy, fleet, [0, 0.5, 0.74, 0.75, 0.99]), [
      'p0 random: share 0.75',
      'p0 random: share 0.75',
      'p0 random: share 0.75',
      'p1 random: share 0.25',
      'p1 random: share 0.25',
    ]);
  });

  it('counts a provider without a declared throughput as the average of those declared', () => {
    // Shares 4, 3 (the average of 4 and 2), 2: boundaries at 4/9 and 7/9.
    const fleet = snapshotsOf([{ throughput: 4 }, {}, { throughput: 2 }]);
    assert.deepEqual(pickWithDraws(new RandomStrategy(), fleet, [0.4, 0.45, 0.77, 0.78]), [
      'p0 random: share 0.444',
      'p1 random: share 0.333',
      'p1 random: share 0.333',
      'p2 random: share 0.222',
    ]);
  });

  it('is uniform when no throughput is declared, and multiplies weights in', () => {
    const even = snapshotsOf([{}, {}, {}]);
    assert.deepEqual(pickWithDraws(new RandomStrategy(), even, [0, 0.34, 0.67]), ['p0 random: share 0.333', 'p1 random: share 0.333', 'p2 random: share 0.333']);
    const weighted = snapshotsOf([{ weight: 2 }, {}, { throughput: 1, weight: 1 }]);
    assert.deepEqual(pickWithDraws(new RandomStrategy(), weighted, [0.49, 0.5, 0.75]), ['p0 random: share 0.5', 'p1 random: share 0.25', 'p2 random: share 0.25']);
  });

  it('gives each provider its share over many draws', () => {
    const fleet = snapshotsOf([{ throughput: 6 }, { throughput: 3 }, { throughput: 1 }]);
    const random = seededRandom(42);
    const context: PickContext = { now: () => 0, random, request: { model: 'm', promptTokens: 1, maxTokens: undefined } };
    const counts = [0, 0, 0];
    const strategy = new RandomStrategy();
    for (let pick = 0; pick < 10_000; pick += 1) {
      const [id] = decided(strategy.pick(fleet, context));
      counts[Number(id.slice(1))] += 1;
    }
    for (const [position, expected] of [6000, 3000, 1000].entries()) {
      assert.ok(Math.abs((counts[position] ?? 0) - expected) < 250, `p${position}: ${counts[position]} picks, expected about ${expected}`);
    }
  });
});

/** Picks `times` times, counting each pick in flight on the chosen snapshot (as leases would). */
function pickAndHold(strategy: BalancingStrategy, fleet: readonly TestSnapshot[], times: number): string[] {
  const context = scriptedContext(fakeClock());
  const picked: string[] = [];
  for (let pick = 0; pick < times; pick += 1) {
    const [id, reason] = decided(strategy.pick(fleet, context));
    const chosen = fleet.find((snapshot) => snapshot.id === id);
    if (chosen) chosen.inFlight += 1;
    picked.push(`${id} ${reason ?? ''}`);
  }
  return picked;
}

describe('MinExpectedLatencyStrategy', () => {
  it('fills a provider twice as fast twice as deep: (in flight + 1) / throughput, ties rotating', () => {
    const strategy = new MinExpectedLatencyStrategy();
    assert.equal(strategy.name, 'min-expected-latency');
    const fleet = snapshotsOf([{ throughput: 2 }, { throughput: 1 }]);
    assert.deepEqual(pickAndHold(strategy, fleet, 6), [
      'p0 min-expected-latency: 0.5',
      'p1 min-expected-latency: 1',
      'p0 min-expected-latency: 1',
      'p0 min-expected-latency: 1.5',
      'p1 min-expected-latency: 2',
      'p0 min-expected-latency: 2',
    ]);
    assert.deepEqual(fleet.map((snapshot) => snapshot.inFlight), [4, 2]);
  });

  it('takes the average for an undeclared throughput, and is least-connections when none is declared', () => {
    const partly = snapshotsOf([{ throughput: 30 }, {}]);
    assert.deepEqual(pickAndHold(new MinExpectedLatencyStrategy(), partly, 3), [
      'p0 min-expected-latency: 0.0333',
      'p1 min-expected-latency: 0.0333',
      'p0 min-expected-latency: 0.0667',
    ]);
    const none = snapshotsOf([{ inFlight: 2 }, {}, { inFlight: 1 }]);
    assert.deepEqual(pickAndHold(new MinExpectedLatencyStrategy(), none, 4), [
      'p1 min-expected-latency: 1',
      'p2 min-expected-latency: 2',
      'p1 min-expected-latency: 2',
      'p2 min-expected-latency: 3',
    ]);
  });

  it('does not draw randomness', () => {
    const context = scriptedContext(fakeClock());
    const strategy: BalancingStrategy = new MinExpectedLatencyStrategy();
    strategy.pick(snapshotsOf([{}, {}]), context);
    new RandomStrategy().pick(snapshotsOf([{}]), scriptedContext(fakeClock(), [0.5]));
    assert.equal(context.drawn, 0);
  });
});
