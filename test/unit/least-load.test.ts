import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendLoadPoller, LeastLoadStrategy, type BalancingStrategy, type LoadTarget } from 'zg-gateway';
import { decided, fakeClock, scriptedContext, snapshotsOf, type TestSnapshot } from '../helpers/fakes.js';

function pickLines(strategy: BalancingStrategy, fleet: readonly TestSnapshot[], times: number): string[] {
  const context = scriptedContext(fakeClock());
  return Array.from({ length: times }, () => decided(strategy.pick(fleet, context)).join(' '));
}

function loads(table: Record<string, number | undefined>): (id: string) => number | undefined {
  return (id) => table[id];
}

describe('LeastLoadStrategy', () => {
  it('prefers providers below the threshold, the least loaded of them', () => {
    const strategy = new LeastLoadStrategy({ loadOf: loads({ p0: 0.6, p1: 0.3, p2: 0.45 }) });
    assert.equal(strategy.name, 'least-load');
    assert.deepEqual(pickLines(strategy, snapshotsOf([{}, {}, {}]), 2), ['p1 least-load: 0.3', 'p1 least-load: 0.3']);
  });

  it('takes the least loaded overall when every provider is at or above the threshold, and says so', () => {
    const strategy = new LeastLoadStrategy({ loadOf: loads({ p0: 0.9, p1: 0.7, p2: 0.5 }) });
    assert.deepEqual(pickLines(strategy, snapshotsOf([{}, {}, {}]), 1), ['p2 least-load: 0.5 (all >= 0.5)']);
    const lenient = new LeastLoadStrategy({ loadOf: loads({ p0: 0.9, p1: 0.7, p2: 0.75 }), threshold: 0.8 });
    assert.deepEqual(pickLines(lenient, snapshotsOf([{}, {}, {}]), 1), ['p1 least-load: 0.7']);
  });

  it('falls back to in flight / capacity (or maxConcurrent, or the bare count) without a reading', () => {
    // p0 reports 0.4; p1 has no reading, 1 in flight of capacity 4; p2 no reading, 1 of maxConcurrent 2.
    const strategy = new LeastLoadStrategy({ loadOf: loads({ p0: 0.4 }) });
    const fleet = snapshotsOf([{}, { inFlight: 1, capacity: 4 }, { inFlight: 1, maxConcurrent: 2 }]);
    assert.deepEqual(pickLines(strategy, fleet, 1), ['p1 least-load: 0.25 (in flight)']);
    // No readings, no capacities: the bare in-flight counts (every one is at or above 0.5 once busy).
    const bare = new LeastLoadStrategy();
    assert.deepEqual(pickLines(bare, snapshotsOf([{ inFlight: 2 }, { inFlight: 1 }, { inFlight: 3 }]), 1), ['p1 least-load: 1 (in flight, all >= 0.5)']);
  });

  it('ignores a reading that is not a finite figure >= 0', () => {
    const strategy = new LeastLoadStrategy({ loadOf: loads({ p0: NaN, p1: -1, p2: Infinity }) });
    assert.deepEqual(pickLines(strategy, snapshotsOf([{ inFlight: 1, capacity: 10 }, { inFlight: 2, capacity: 10 }, { inFlight: 3, capacity: 10 }]), 1), ['p0 least-load: 0.1 (in flight)']);
  });

  it('shares equal loads by rotation', () => {
    const strategy = new LeastLoadStrategy({ loadOf: loads({ p0: 0.2, p1: 0.2, p2: 0.2 }) });
    assert.deepEqual(pickLines(strategy, snapshotsOf([{}, {}, {}]), 4).map((line) => line.split(' ')[0]), ['p0', 'p1', 'p2', 'p0']);
  });
});

interface Backend extends LoadTarget {
  inFlight: number;
}

function backend(id: string, endpoint: string, options: { capacity?: number; maxConcurrent?: number } = {}): Backend {
  return { id, descriptor: { endpoint }, inFlight: 0, capacity: options.capacity, maxConcurrent: options.maxConcurrent };
}

const VLLM = (running: number, waiting: number): string =>
  [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{engine="0",model_name="m"} ${running}.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{engine="0",model_name="m"} ${waiting}.0`,
    'vllm:max_num_seqs{model_name="m"} 16',
    '',
  ].join('\n');

describe('BackendLoadPoller', () => {
  it('reads each HTTP backend\'s /metrics on its origin and computes (running + 0.5 × waiting) / capacity', async () => {
    const clock = fakeClock();
    const pages = new Map([
      ['http://10.0.0.1:8000/metrics', VLLM(3, 2)],
      ['http://10.0.0.2:8000/metrics', VLLM(1, 0)],
    ]);
    const asked: string[] = [];
    const a = backend('a', 'http://10.0.0.1:8000/v1', { capacity: 8 });
    const b = backend('b', 'http://10.0.0.2:8000/v1');
    const memory = backend('m', 'memory://m');
    const poller = new BackendLoadPoller({
      targets: () => [a, b, memory],
      fetchText: async (url) => {
        asked.push(url);
        const page = pages.get(url);
        if (page === undefined) throw new Error('404');
        return page;
      },
      capacityMetric: 'vllm:max_num_seqs',
      now: clock.now,
    });
    await poller.pollOnce();
    assert.deepEqual(asked, ['http://10.0.0.1:8000/metrics', 'http://10.0.0.2:8000/metrics']);
    assert.equal(poller.loadOf('a'), (3 + 0.5 * 2) / 8);
    // b has no configured capacity: the page's max_num_seqs gauge gives 16.
    assert.equal(poller.loadOf('b'), 1 / 16);
    assert.equal(poller.loadOf('m'), undefined);
    assert.deepEqual(poller.reading('a'), { running: 3, waiting: 2, capacity: 16, at: clock.now(), inFlightAtReading: 0 });
    // Requests the gateway starts after a reading count at once, until the next reading.
    a.inFlight = 2;
    assert.equal(poller.loadOf('a'), (3 + 1 + 2) / 8);
    await poller.close();
  });

  it('forgets a stale reading, and without any capacity gives no figure', async () => {
    const clock = fakeClock();
    const a = backend('a', 'http://a.test/v1', { maxConcurrent: 4 });
    const b = backend('b', 'http://b.test/v1');
    const poller = new BackendLoadPoller({ targets: () => [a, b], fetchText: async () => VLLM(2, 0), intervalMs: 1000, now: clock.now });
    await poller.pollOnce();
    assert.equal(poller.loadOf('a'), 0.5, 'maxConcurrent is the last stand-in for capacity');
    assert.equal(poller.loadOf('b'), undefined, 'no capacity anywhere');
    clock.advance(3000);
    assert.equal(poller.loadOf('a'), 0.5, 'still fresh at 3 intervals');
    clock.advance(1);
    assert.equal(poller.loadOf('a'), undefined, 'stale after 3 intervals');
    await poller.close();
  });

  it('backs off from a backend whose page cannot be read: 1, 2, 4… intervals', async () => {
    const clock = fakeClock();
    let asked = 0;
    const a = backend('a', 'http://a.test/v1', { capacity: 4 });
    const poller = new BackendLoadPoller({
      targets: () => [a],
      fetchText: async () => {
        asked += 1;
        return '# not vLLM\nsomething_else 1\n';
      },
      intervalMs: 100,
      now: clock.now,
    });
    const timeline: number[] = [];
    for (let tick = 0; tick < 12; tick += 1) {
      await poller.pollOnce();
      timeline.push(asked);
      clock.advance(100);
    }
    // Asked at ticks 0, 1, 3, 7 (waits of 1, 2, 4 intervals after each failure).
    assert.deepEqual(timeline, [1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4]);
    assert.equal(poller.loadOf('a'), undefined);
    await poller.close();
  });

  it('aborts a slow read at its timeout and stops on close', async () => {
    const a = backend('a', 'http://a.test/v1', { capacity: 4 });
    let aborted = 0;
    const poller = new BackendLoadPoller({
      targets: () => [a],
      fetchText: (_url, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            aborted += 1;
            reject(signal.reason as Error);
          }),
        ),
      timeoutMs: 20,
    });
    await poller.pollOnce();
    assert.equal(aborted, 1);
    assert.equal(poller.loadOf('a'), undefined);
    await poller.close();
    await poller.pollOnce();
    assert.equal(aborted, 1, 'no poll after close');
  });

  it('needs a client or fetchText', () => {
    assert.throws(() => new BackendLoadPoller({ targets: () => [] }), TypeError);
  });
});
