import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlidingTotal, UsageBasedStrategy } from 'zg-gateway';
import { decided, fakeClock, scriptedContext, snapshotsOf, usage, type FakeClock, type TestSnapshot } from '../helpers/fakes.js';

function picks(strategy: UsageBasedStrategy, fleet: readonly TestSnapshot[], clock: FakeClock, times: number, promptTokens = 10): string[] {
  const context = scriptedContext(clock, [], promptTokens);
  return Array.from({ length: times }, () => decided(strategy.pick(fleet, context)).join(' '));
}

function served(strategy: UsageBasedStrategy, providerId: string, tokens: number): void {
  strategy.observe({ providerId, ok: true, durationMs: 10, stream: false, usage: { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens } });
}

describe('UsageBasedStrategy', () => {
  it('sends each request to the lowest share of rpm, skips a provider at its cap, and picks the first to free when all are', () => {
    // The fake clock starts 40 s into a minute window.
    const clock = fakeClock();
    const strategy = new UsageBasedStrategy({ now: clock.now });
    assert.equal(strategy.name, 'usage-based');
    const fleet = snapshotsOf([{ rpm: 2 }, { rpm: 4 }]);
    assert.deepEqual(picks(strategy, fleet, clock, 7), [
      'p0 usage-based: 0',
      'p1 usage-based: 0',
      'p1 usage-based: 0.25',
      'p0 usage-based: 0.5',
      'p1 usage-based: 0.5',
      'p1 usage-based: 0.75',
      // p0 (2 of 2) frees 30 s into the next window; p1 (4 of 4) once a quarter of its 4 has faded, 15 s in.
      'p1 usage-based: all at cap, frees in 35000 ms',
    ]);
    clock.advance(50_000);
    // Half of the last window still counts: p0 2 × 0.5 = 1 of 2, p1 5 × 0.5 = 2.5 of 4.
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p0 usage-based: 0.5']);
  });

  it('counts tokens from outcomes against tpm, with the prompt estimate of the request being placed', () => {
    const clock = fakeClock();
    const strategy = new UsageBasedStrategy({ now: clock.now });
    const fleet = snapshotsOf([{ tpm: 1000 }, { tpm: 1000 }]);
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p0 usage-based: 0']);
    served(strategy, 'p0', 995);
    // p0: 995 + 10 prompt tokens would pass 1000.
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p1 usage-based: 0']);
    served(strategy, 'p1', 400);
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p1 usage-based: 0.4']);
    served(strategy, 'p1', 600);
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p0 usage-based: all at cap, frees in 20302 ms']);
    strategy.observe({ providerId: 'p0', ok: false, errorCode: 'upstream_error', durationMs: 1, stream: false });
    strategy.observe({ providerId: 'p0', ok: true, durationMs: 1, stream: false, usage: usage(0, 0) });
    assert.deepEqual(picks(strategy, fleet, clock, 1), ['p0 usage-based: all at cap, frees in 20302 ms'], 'no usage, nothing counted');
  });

  it('counts a provider without limits as unused, and rotates among equals', () => {
    const clock = fakeClock();
    const strategy = new UsageBasedStrategy({ now: clock.now });
    assert.deepEqual(
      picks(strategy, snapshotsOf([{}, {}, { rpm: 10 }]), clock, 6).map((line) => line.split(' ')[0]),
      ['p0', 'p1', 'p2', 'p0', 'p1', 'p0'],
    );
  });
});

describe('SlidingTotal', () => {
  it('counts the current minute fully and the previous one by the share still inside the window', () => {
    const total = new SlidingTotal(60_000);
    total.add(0, 10);
    assert.equal(total.read(30_000), 10);
    assert.equal(total.read(60_000), 10);
    assert.equal(total.read(90_000), 5);
    assert.equal(total.read(119_999), 10 / 60_000);
    assert.equal(total.read(120_000), 0);
    const later = new SlidingTotal(60_000);
    later.add(0, 10);
    assert.equal(later.read(180_000), 0, 'a window two lengths back counts nothing');
  });

  it('says when one more fits', () => {
    const total = new SlidingTotal(60_000);
    total.add(40_000, 2);
    assert.equal(total.msUntilFits(40_000, 2, 1), 50_000);
    assert.equal(total.msUntilFits(90_000, 2, 1), 0);
    assert.equal(total.msUntilFits(40_000, 2, 3), Infinity);
    const carried = new SlidingTotal(60_000);
    carried.add(10_000, 4);
    carried.add(75_000, 1);
    // 1 + 4 × (60 − e) / 60 ≤ 3 once e ≥ 30 s, i.e. 15 s after 75 s.
    assert.equal(carried.msUntilFits(75_000, 4, 1), 15_000);
    assert.throws(() => new SlidingTotal(0), RangeError);
  });
});
