import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, type CircuitBreakerOptions } from 'zg-gateway';

interface FakeClock {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
}

function fakeClock(start = 1_000_000): FakeClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
    set: (ms) => {
      time = ms;
    },
  };
}

const COOL_DOWN = 1000;

function breakerWith(clock: FakeClock, options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker({ windowMs: 30_000, minimumRequests: 5, failureRateThreshold: 0.5, consecutiveFailureThreshold: 3, coolDownMs: COOL_DOWN, maxRetryAfterMs: 60_000, now: clock.now, ...options });
}

/** Opens the breaker with three consecutive failures; returns the time it opened. */
function tripByFailures(breaker: CircuitBreaker, clock: FakeClock): number {
  breaker.recordFailure();
  breaker.recordFailure();
  const transition = breaker.recordFailure();
  assert.deepEqual(transition, { from: 'closed', to: 'open', reason: 'failures' });
  return clock.now();
}

describe('CircuitBreaker', () => {
  it('starts closed and available with an empty snapshot', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.isAvailable(), true);
    assert.equal(breaker.reason, null);
    assert.equal(breaker.retryAt, null);
    assert.deepEqual(breaker.snapshot(), { state: 'closed', reason: null, retryAt: null, windowRequests: 0, windowFailures: 0, consecutiveFailures: 0 });
  });

  it('opens after 3 consecutive failures, not before', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.isAvailable(), true);
    assert.deepEqual(breaker.recordFailure(), { from: 'closed', to: 'open', reason: 'failures' });
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.reason, 'failures');
    assert.equal(breaker.isAvailable(), false);
    assert.equal(breaker.retryAt, clock.now() + COOL_DOWN);
  });

  it('a success resets the consecutive-failure count', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock, { minimumRequests: 100 });
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
    breaker.recordFailure();
    breaker.recordFailure();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.recordFailure()?.to, 'open');
  });

  it('trips on failure rate >= 50% over >= 5 requests with successes interleaved', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    // F S F S: 2/4 failed, but below the minimum volume of 5.
    assert.equal(breaker.recordFailure(), null);
    clock.advance(10);
    breaker.recordSuccess();
    clock.advance(10);
    assert.equal(breaker.recordFailure(), null);
    clock.advance(10);
    breaker.recordSuccess();
    clock.advance(10);
    assert.equal(breaker.state, 'closed');
    // S: 2/5 = 40% -> still closed.
    breaker.recordSuccess();
    clock.advance(10);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(
      { requests: breaker.snapshot().windowRequests, failures: breaker.snapshot().windowFailures },
      { requests: 5, failures: 2 },
    );
    // F: 3/6 = 50% -> opens, although consecutive failures is only 1.
    assert.deepEqual(breaker.recordFailure(), { from: 'closed', to: 'open', reason: 'failures' });
    const snapshot = breaker.snapshot();
    assert.equal(snapshot.consecutiveFailures, 1);
    assert.equal(snapshot.state, 'open');
    assert.equal(snapshot.windowRequests, 6);
    assert.equal(snapshot.windowFailures, 3);
  });

  it('a high failure rate below the minimum volume does not trip', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock, { consecutiveFailureThreshold: 10 });
    for (let index = 0; index < 4; index++) assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.recordFailure()?.to, 'open'); // 5/5
  });

  it('outcomes older than the window slide out', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock, { windowMs: 30_000 });
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordSuccess();
    assert.equal(breaker.snapshot().windowRequests, 4);
    clock.advance(30_001);
    assert.deepEqual(
      { requests: breaker.snapshot().windowRequests, failures: breaker.snapshot().windowFailures },
      { requests: 0, failures: 0 },
    );
    // Had the old outcomes stayed, F S F would be 4 failures of 7 (>= 50%) and open the breaker.
    breaker.recordFailure();
    breaker.recordSuccess();
    assert.equal(breaker.recordFailure(), null);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().windowRequests, 4);
    assert.equal(breaker.snapshot().windowFailures, 2);
  });

  it('stays unavailable until the cool-down ends, then allows exactly one half-open trial', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    const openedAt = tripByFailures(breaker, clock);
    clock.set(openedAt + COOL_DOWN - 1);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.isAvailable(), false);
    assert.equal(breaker.onAttemptStart(), null);
    assert.equal(breaker.isAvailable(), false);

    clock.set(openedAt + COOL_DOWN);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.isAvailable(), true);
    assert.equal(breaker.isAvailable(), true, 'asking does not consume the trial');
    assert.deepEqual(breaker.onAttemptStart(), { from: 'open', to: 'half-open', reason: 'trial' });
    assert.equal(breaker.isAvailable(), false, 'trial in flight');
    assert.equal(breaker.onAttemptStart(), null, 'no second trial');
    assert.equal(breaker.isAvailable(), false);
    assert.equal(breaker.state, 'half-open');
  });

  it('a successful trial closes the breaker', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    const openedAt = tripByFailures(breaker, clock);
    clock.set(openedAt + COOL_DOWN);
    breaker.onAttemptStart();
    assert.deepEqual(breaker.recordSuccess(), { from: 'half-open', to: 'closed', reason: 'recovered' });
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.reason, null);
    assert.equal(breaker.retryAt, null);
    assert.equal(breaker.isAvailable(), true);
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
    // A fresh start: it takes three new consecutive failures to open again.
    assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.recordFailure()?.to, 'open');
    assert.equal(breaker.retryAt, clock.now() + COOL_DOWN, 'cool-down back to 1x after a recovery');
  });

  it('a failed trial re-opens with a doubled cool-down, capped at 8x', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    const openedAt = tripByFailures(breaker, clock);
    assert.equal(breaker.retryAt, openedAt + COOL_DOWN);
    const expectedMultipliers = [2, 4, 8, 8, 8];
    for (const multiplier of expectedMultipliers) {
      clock.set(breaker.retryAt as number);
      assert.equal(breaker.isAvailable(), true);
      breaker.onAttemptStart();
      const transition = breaker.recordFailure();
      assert.deepEqual(transition, { from: 'half-open', to: 'open', reason: 'failures' });
      assert.equal(breaker.retryAt, clock.now() + COOL_DOWN * multiplier, `expected ${multiplier}x cool-down`);
      clock.advance(COOL_DOWN * multiplier - 1);
      assert.equal(breaker.isAvailable(), false);
      clock.advance(1);
      assert.equal(breaker.state, 'half-open');
    }
  });

  it('recordRateLimited(2000) rests exactly 2000 ms, reason rate-limited, and is not a failure', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    const before = breaker.snapshot();
    const at = clock.now();
    assert.deepEqual(breaker.recordRateLimited(2000), { from: 'closed', to: 'open', reason: 'rate-limited' });
    assert.equal(breaker.reason, 'rate-limited');
    assert.equal(breaker.retryAt, at + 2000);
    const after = breaker.snapshot();
    assert.equal(after.windowFailures, before.windowFailures);
    assert.equal(after.windowRequests, before.windowRequests);
    assert.equal(after.consecutiveFailures, before.consecutiveFailures);
    assert.equal(after.reason, 'rate-limited');
    clock.set(at + 1999);
    assert.equal(breaker.isAvailable(), false);
    clock.set(at + 2000);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.isAvailable(), true);
  });

  it('caps a Retry-After above maxRetryAfterMs, and uses the cool-down when absent', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock, { maxRetryAfterMs: 5000 });
    breaker.recordRateLimited(120_000);
    assert.equal(breaker.retryAt, clock.now() + 5000);
    clock.advance(5000);
    assert.equal(breaker.isAvailable(), true);

    const other = breakerWith(clock, { maxRetryAfterMs: 5000 });
    other.recordRateLimited(undefined);
    assert.equal(other.retryAt, clock.now() + COOL_DOWN);
    assert.equal(other.reason, 'rate-limited');
  });

  it('recordProbe(false) opens with probe-failed; recordProbe(true) closes', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    assert.deepEqual(breaker.recordProbe(false), { from: 'closed', to: 'open', reason: 'probe-failed' });
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.reason, 'probe-failed');
    assert.equal(breaker.retryAt, clock.now() + COOL_DOWN);
    assert.equal(breaker.isAvailable(), false);
    clock.advance(100);
    assert.deepEqual(breaker.recordProbe(true), { from: 'open', to: 'closed', reason: 'recovered' });
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.reason, null);
    assert.equal(breaker.isAvailable(), true);
    assert.equal(breaker.recordProbe(true), null, 'a good probe on a closed breaker is no transition');
  });

  it('recordProbe(true) ends a failures rest early', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    tripByFailures(breaker, clock);
    clock.advance(10);
    assert.equal(breaker.recordProbe(true)?.to, 'closed');
    assert.equal(breaker.isAvailable(), true);
  });

  it('recordProbe(true) does not end a rate-limited rest early', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    const at = clock.now();
    breaker.recordRateLimited(2000);
    clock.set(at + 1000);
    assert.equal(breaker.recordProbe(true), null);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.reason, 'rate-limited');
    assert.equal(breaker.isAvailable(), false);
    clock.set(at + 2000);
    assert.deepEqual(breaker.recordProbe(true), { from: 'half-open', to: 'closed', reason: 'recovered' });
    assert.equal(breaker.state, 'closed');
  });

  it('after a probe-driven recovery the consecutive-failure count starts over', () => {
    // Three consecutive failures open the breaker; a good probe closes it. One more failure must
    // not re-open it at once: a recovered provider starts with a clean slate, as after a trial success.
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    tripByFailures(breaker, clock);
    clock.advance(10);
    breaker.recordProbe(true);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().consecutiveFailures, 0, 'closed breaker still reports the old consecutive failures');
    assert.equal(breaker.recordFailure(), null, 'a single failure after recovery re-opened the breaker');
    assert.equal(breaker.state, 'closed');
  });

  it('recordNeutral() leaves the state alone but frees the half-open trial slot', () => {
    const clock = fakeClock();
    const breaker = breakerWith(clock);
    breaker.recordFailure();
    const closedBefore = breaker.snapshot();
    breaker.recordNeutral();
    assert.deepEqual(breaker.snapshot(), closedBefore);

    assert.equal(breaker.recordFailure(), null);
    assert.equal(breaker.recordFailure()?.to, 'open', 'neutral outcomes do not break a run of failures');
    const openedAt = clock.now();
    breaker.recordNeutral();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.isAvailable(), false);

    clock.set(openedAt + COOL_DOWN);
    breaker.onAttemptStart();
    assert.equal(breaker.isAvailable(), false);
    const inTrial = breaker.snapshot();
    breaker.recordNeutral();
    assert.equal(breaker.state, 'half-open');
    assert.deepEqual(breaker.snapshot(), inTrial);
    assert.equal(breaker.isAvailable(), true, 'the trial slot is free again');
    assert.deepEqual(breaker.onAttemptStart(), { from: 'half-open', to: 'half-open', reason: 'trial' });
    assert.equal(breaker.isAvailable(), false);
  });

  it('snapshot reports state, reason, ISO retryAt and window counts', () => {
    const start = Date.UTC(2030, 0, 1, 12, 0, 0);
    const clock = fakeClock(start);
    const breaker = breakerWith(clock);
    breaker.recordSuccess();
    clock.advance(1);
    tripByFailures(breaker, clock);
    assert.deepEqual(breaker.snapshot(), {
      state: 'open',
      reason: 'failures',
      retryAt: new Date(start + 1 + COOL_DOWN).toISOString(),
      windowRequests: 4,
      windowFailures: 3,
      consecutiveFailures: 3,
    });
    clock.set(start + 1 + COOL_DOWN);
    const halfOpen = breaker.snapshot();
    assert.equal(halfOpen.state, 'half-open');
    assert.equal(halfOpen.reason, 'failures');
    breaker.onAttemptStart();
    breaker.recordSuccess();
    const closed = breaker.snapshot();
    assert.equal(closed.state, 'closed');
    assert.equal(closed.reason, null);
    assert.equal(closed.retryAt, null);
    assert.equal(closed.consecutiveFailures, 0);
  });
});
