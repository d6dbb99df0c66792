import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MinObservedLatencyStrategy } from 'zg-gateway';
import { decided, fakeClock, scriptedContext, snapshotsOf, type FakeClock, type TestSnapshot } from '../helpers/fakes.js';

/** A provider answered: its EWMA time to first byte is now `ttfbMs`, and the strategy is told. */
function answered(strategy: MinObservedLatencyStrategy, snapshot: TestSnapshot, ttfbMs: number): void {
  snapshot.stats.ewmaTtfbMs = ttfbMs;
  strategy.observe({ providerId: snapshot.id, ok: true, ttfbMs, durationMs: ttfbMs, stream: true });
}

function setup(options: { explore?: number; staleAfterMs?: number } = {}): { clock: FakeClock; strategy: MinObservedLatencyStrategy; fleet: TestSnapshot[] } {
  const clock = fakeClock();
  return { clock, strategy: new MinObservedLatencyStrategy({ ...options, now: clock.now }), fleet: snapshotsOf([{}, {}, {}]) };
}

function picks(strategy: MinObservedLatencyStrategy, fleet: readonly TestSnapshot[], clock: FakeClock, draws: readonly number[], times = draws.length): string[] {
  const context = scriptedContext(clock, draws);
  return Array.from({ length: times }, () => decided(strategy.pick(fleet, context)).join(' '));
}

describe('MinObservedLatencyStrategy', () => {
  it('measures every provider first, then sends to the lowest time to first byte', () => {
    const { clock, strategy, fleet } = setup();
    assert.equal(strategy.name, 'min-observed-latency');
    // Unmeasured providers are measured first, one each; no draw is made for them.
    assert.deepEqual(picks(strategy, fleet, clock, [], 4), [
      'p0 min-observed-latency: explore (no sample)',
      'p1 min-observed-latency: explore (no sample)',
      'p2 min-observed-latency: explore (no sample)',
      'p0 min-observed-latency: no sample yet, in flight 0',
    ]);
    answered(strategy, fleet[0]!, 80);
    answered(strategy, fleet[1]!, 40);
    answered(strategy, fleet[2]!, 120);
    assert.deepEqual(picks(strategy, fleet, clock, [0.5, 0.9, 0.05]), [
      'p1 min-observed-latency: ttfb 40 ms',
      'p1 min-observed-latency: ttfb 40 ms',
      'p1 min-observed-latency: ttfb 40 ms',
    ]);
  });

  it('re-measures a slow provider with probability explore, the least recently measured first', () => {
    const { clock, strategy, fleet } = setup({ explore: 0.05 });
    answered(strategy, fleet[0]!, 50);
    clock.advance(10);
    answered(strategy, fleet[2]!, 900);
    clock.advance(10);
    answered(strategy, fleet[1]!, 500);
    clock.advance(10);
    // Draws below 0.05 explore: p2 was measured longest ago among the slower ones, then p1; then
    // both were looked at at the same time, and the joining order decides.
    assert.deepEqual(picks(strategy, fleet, clock, [0.5, 0.049, 0.2, 0.01, 0.0, 0.06]), [
      'p0 min-observed-latency: ttfb 50 ms',
      'p2 min-observed-latency: explore (draw 0.049)',
      'p0 min-observed-latency: ttfb 50 ms',
      'p1 min-observed-latency: explore (draw 0.01)',
      'p1 min-observed-latency: explore (draw 0)',
      'p0 min-observed-latency: ttfb 50 ms',
    ]);
    // The slow one got faster: once measured again, it takes the traffic.
    answered(strategy, fleet[2]!, 30);
    assert.deepEqual(picks(strategy, fleet, clock, [0.5]), ['p2 min-observed-latency: ttfb 30 ms']);
  });

  it('treats a figure older than staleAfterMs as unknown and measures it again', () => {
    const { clock, strategy, fleet } = setup({ staleAfterMs: 60_000 });
    answered(strategy, fleet[0]!, 50);
    answered(strategy, fleet[1]!, 70);
    answered(strategy, fleet[2]!, 90);
    clock.advance(30_000);
    answered(strategy, fleet[0]!, 50);
    clock.advance(30_001);
    // p1 and p2 are stale: each is measured once, then the fresh p0 serves while their samples are awaited.
    assert.deepEqual(picks(strategy, fleet, clock, [0.5], 3), [
      'p1 min-observed-latency: explore (stale)',
      'p2 min-observed-latency: explore (stale)',
      'p0 min-observed-latency: ttfb 50 ms',
    ]);
    answered(strategy, fleet[1]!, 20);
    assert.deepEqual(picks(strategy, fleet, clock, [0.5]), ['p1 min-observed-latency: ttfb 20 ms']);
  });

  it('does not hammer a provider whose measurement failed: it is tried again after staleAfterMs', () => {
    const { clock, strategy, fleet } = setup({ staleAfterMs: 1000, explore: 0 });
    answered(strategy, fleet[0]!, 50);
    answered(strategy, fleet[1]!, 60);
    assert.deepEqual(picks(strategy, fleet, clock, [], 1), ['p2 min-observed-latency: explore (no sample)']);
    strategy.observe({ providerId: 'p2', ok: false, errorCode: 'upstream_error', durationMs: 5, stream: false });
    assert.deepEqual(picks(strategy, fleet, clock, [], 2), ['p0 min-observed-latency: ttfb 50 ms', 'p0 min-observed-latency: ttfb 50 ms']);
    clock.advance(1001);
    // Now everything is stale: the never-measured p2 goes first, then the others by age.
    assert.deepEqual(picks(strategy, fleet, clock, [], 3), [
      'p2 min-observed-latency: explore (no sample)',
      'p0 min-observed-latency: explore (stale)',
      'p1 min-observed-latency: explore (stale)',
    ]);
  });

  it('shares equal figures by rotation and never draws with explore 0 or a single candidate', () => {
    const { clock, strategy, fleet } = setup({ explore: 0 });
    for (const snapshot of fleet) answered(strategy, snapshot, 40);
    assert.deepEqual(picks(strategy, fleet, clock, [], 4).map((line) => line.split(' ')[0]), ['p0', 'p1', 'p2', 'p0']);
    const single = new MinObservedLatencyStrategy({ now: clock.now });
    answered(single, fleet[0]!, 40);
    assert.deepEqual(picks(single, fleet.slice(0, 1), clock, [], 2), ['p0 min-observed-latency: ttfb 40 ms', 'p0 min-observed-latency: ttfb 40 ms']);
  });

  it('rejects explore outside [0, 1] and a non-positive staleAfterMs', () => {
    assert.throws(() => new MinObservedLatencyStrategy({ explore: 1.5 }), RangeError);
    assert.throws(() => new MinObservedLatencyStrategy({ staleAfterMs: 0 }), RangeError);
  });
});
