import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmissionQueue, GatewayError, type AdmissionTicket } from 'zg-gateway';
import { fakeTimers } from '../helpers/fakes.js';

const settings = { maxSize: 4, timeoutMs: 1000, retryAfterMs: 2000 };

/** Lets every settled promise's callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Outcome {
  name: string;
  result: 'admitted' | string;
}

/** A queue over a pool of `free` slots: a waiter can be served while one is free, and takes it when woken. */
function slotQueue(maxSize = settings.maxSize) {
  const timers = fakeTimers();
  const queue = new AdmissionQueue({ ...settings, maxSize }, timers);
  const state = { free: 0 };
  const order: Outcome[] = [];
  const enqueue = (name: string, priority: number, signal = new AbortController().signal): Promise<void> => {
    const ticket: AdmissionTicket = queue.ticket(priority, () => state.free > 0);
    return queue.wait(ticket, signal).then(
      () => {
        state.free -= 1;
        order.push({ name, result: 'admitted' });
      },
      (error: GatewayError) => {
        order.push({ name, result: error.code });
      },
    );
  };
  /** Frees one slot and tells the queue, as a released lease does. */
  const release = async (): Promise<void> => {
    state.free += 1;
    queue.notify();
    await settle();
  };
  return { queue, timers, state, order, enqueue, release };
}

describe('AdmissionQueue', () => {
  test('wakes the highest priority first and, within a priority, the first come', async () => {
    const { order, enqueue, release, queue } = slotQueue(10);
    const waits = [enqueue('low-1', 1), enqueue('mid-1', 5), enqueue('high-1', 9), enqueue('mid-2', 5), enqueue('low-2', 1), enqueue('high-2', 9)];
    assert.equal(queue.depth, 6);
    for (let index = 0; index < 6; index++) await release();
    await Promise.all(waits);
    assert.deepEqual(
      order.map((outcome) => outcome.name),
      ['high-1', 'high-2', 'mid-1', 'mid-2', 'low-1', 'low-2'],
    );
    assert.equal(queue.depth, 0);
  });

  test('one freed slot wakes exactly one waiter, not all of them', async () => {
    const { order, enqueue, release, queue } = slotQueue();
    void enqueue('a', 5);
    void enqueue('b', 5);
    void enqueue('c', 5);
    await release();
    assert.deepEqual(order.map((outcome) => outcome.name), ['a']);
    assert.equal(queue.depth, 2);
    assert.equal(queue.notify(), false, 'no slot is free: nobody else is woken');
  });

  test('skips waiters that cannot be served now and wakes the best one that can', async () => {
    const timers = fakeTimers();
    const queue = new AdmissionQueue(settings, timers);
    const woken: string[] = [];
    let modelBFree = false;
    void queue.wait(queue.ticket(9, () => false), new AbortController().signal).then(() => woken.push('A-high'));
    void queue.wait(queue.ticket(1, () => modelBFree), new AbortController().signal).then(() => woken.push('B-low'));
    assert.equal(queue.notify(), false);
    modelBFree = true;
    assert.equal(queue.notify(), true);
    await settle();
    assert.deepEqual(woken, ['B-low']);
    assert.equal(queue.depth, 1);
  });

  test('bounds are exact: maxSize wait, the next is refused at once with 429 queue_full and a Retry-After', async () => {
    const { order, enqueue, queue } = slotQueue(4);
    for (let index = 0; index < 4; index++) void enqueue(`w${index}`, 5);
    assert.equal(queue.depth, 4);
    await enqueue('fifth', 10);
    assert.deepEqual(order, [{ name: 'fifth', result: 'queue_full' }]);
    assert.equal(queue.depth, 4);
    const refused = await queue.wait(queue.ticket(5, () => true), new AbortController().signal).catch((error: GatewayError) => error);
    assert.ok(GatewayError.isInstance(refused));
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfterMs, 2000);
    assert.equal(queue.stats().rejected, 2);
  });

  test('maxSize 0 never lets a request wait', async () => {
    const { order, enqueue, queue } = slotQueue(0);
    await enqueue('only', 5);
    assert.deepEqual(order, [{ name: 'only', result: 'queue_full' }]);
    assert.equal(queue.depth, 0);
  });

  test('times out exactly at timeoutMs with 503 queue_timeout and a Retry-After', async () => {
    const { timers, queue } = slotQueue();
    let outcome: GatewayError | 'waiting' = 'waiting';
    void queue.wait(queue.ticket(5, () => false), new AbortController().signal).catch((error: GatewayError) => (outcome = error));
    timers.advance(999);
    await settle();
    assert.equal(outcome, 'waiting');
    assert.equal(queue.depth, 1);
    timers.advance(1);
    await settle();
    assert.ok(GatewayError.isInstance(outcome));
    assert.equal(outcome.code, 'queue_timeout');
    assert.equal(outcome.status, 503);
    assert.equal(outcome.retryAfterMs, 2000);
    assert.equal(queue.depth, 0);
    assert.equal(timers.pending(), 0);
    assert.equal(queue.stats().timeouts, 1);
    assert.equal(queue.stats().maxWaitMs, 1000);
  });

  test('a request that loses the race for its slot waits again ahead of later ones, with its old deadline', async () => {
    const { timers, queue } = slotQueue();
    let free = false;
    const first = queue.ticket(5, () => free);
    let firstOutcome = 'waiting';
    timers.advance(300);
    const second = new AbortController();
    let secondOutcome = 'waiting';
    void queue.wait(queue.ticket(5, () => free), second.signal).then(
      () => (secondOutcome = 'admitted'),
      (error: GatewayError) => (secondOutcome = error.code),
    );
    timers.advance(300);
    // `first` joined earlier but waits again only now, as after a lost race: it goes back in front.
    const again = queue.wait(first, new AbortController().signal, true).then(
      () => (firstOutcome = 'admitted'),
      (error: GatewayError) => (firstOutcome = error.code),
    );
    free = true;
    queue.notify();
    await again;
    assert.equal(firstOutcome, 'admitted', 'the requeued ticket is woken before the later one');
    assert.equal(secondOutcome, 'waiting');
    second.abort(new GatewayError('client_closed_request', 'gone'));
    await settle();
    assert.equal(secondOutcome, 'client_closed_request');
    assert.equal(queue.depth, 0);
  });

  test('the deadline counts from when a ticket first joined, also when it waits again', async () => {
    const { timers, queue } = slotQueue();
    const ticket = queue.ticket(5, () => false);
    timers.advance(700);
    let outcome = 'waiting';
    void queue.wait(ticket, new AbortController().signal, true).catch((error: GatewayError) => (outcome = error.code));
    timers.advance(299);
    await settle();
    assert.equal(outcome, 'waiting');
    timers.advance(1);
    await settle();
    assert.equal(outcome, 'queue_timeout');
  });

  test('a client that disconnects leaves the queue at once, with its abort reason', async () => {
    const { timers, queue } = slotQueue();
    const client = new AbortController();
    const waiting = queue.wait(queue.ticket(5, () => false), client.signal);
    assert.equal(queue.depth, 1);
    client.abort(new GatewayError('client_closed_request', 'gone'));
    assert.equal(queue.depth, 0, 'synchronously, not at the next notify or timeout');
    await assert.rejects(waiting, (error: GatewayError) => error.code === 'client_closed_request');
    assert.equal(timers.pending(), 0, 'its timer is cleared');
    assert.equal(queue.stats().abandoned, 1);
    const late = await queue.wait(queue.ticket(5, () => true), client.signal).catch((error: GatewayError) => error.code);
    assert.equal(late, 'client_closed_request', 'an already aborted request does not join');
  });

  test('after a mix of outcomes the depth is back to 0 and every wait is counted once', async () => {
    const { timers, queue, order, enqueue, release } = slotQueue(5);
    const gone = new AbortController();
    const waits = [enqueue('served-1', 3), enqueue('times-out', 0), enqueue('served-2', 8), enqueue('leaves', 4, gone.signal), enqueue('served-3', 3), enqueue('refused', 3)];
    await settle();
    gone.abort(new GatewayError('client_closed_request', 'gone'));
    await release();
    await release();
    await release();
    timers.advance(1000);
    await Promise.all(waits);
    assert.deepEqual(
      order.map((outcome) => `${outcome.name}:${outcome.result}`).sort(),
      ['leaves:client_closed_request', 'refused:queue_full', 'served-1:admitted', 'served-2:admitted', 'served-3:admitted', 'times-out:queue_timeout'],
    );
    const stats = queue.stats();
    assert.equal(stats.depth, 0);
    assert.deepEqual(stats.depthByPriority, {});
    assert.deepEqual(
      { queued: stats.queued, admitted: stats.admitted, timeouts: stats.timeouts, abandoned: stats.abandoned, rejected: stats.rejected },
      { queued: 5, admitted: 3, timeouts: 1, abandoned: 1, rejected: 1 },
    );
    assert.equal(timers.pending(), 0);
  });
});
