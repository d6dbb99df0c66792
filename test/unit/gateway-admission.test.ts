import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, type ChatCallOptions, type ProviderChatResult, type UpstreamCall } from 'zg-gateway';
import { coreHarness, FakeProvider, type CoreHarness } from '../helpers/core-harness.js';
import { fakeTimers } from '../helpers/fakes.js';

/** A provider whose calls wait until the test opens them, one by one, in the order they came. */
class GatedProvider extends FakeProvider {
  readonly started: string[] = [];
  readonly #gates: Array<() => void> = [];

  override async chat(call: UpstreamCall, options: ChatCallOptions): Promise<ProviderChatResult> {
    const messages = call.body.messages as Array<{ content: string }> | undefined;
    this.started.push(messages?.[0]?.content ?? '');
    await new Promise<void>((resolve, reject) => {
      this.#gates.push(resolve);
      options.signal.addEventListener('abort', () => reject(options.signal.reason as Error), { once: true });
    });
    return super.chat(call, options);
  }

  /** Lets the oldest waiting call answer. */
  open(): void {
    this.#gates.shift()?.();
  }

  get waiting(): number {
    return this.#gates.length;
  }
}

const ask = (content: string): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content }] });

/** Resolves once `condition` holds (checked after each turn of the event loop; bounded by count, not time). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never: ${what}`);
}

async function capped(cap: number, queue = { maxSize: 100, timeoutMs: 10_000, retryAfterMs: 1000 }): Promise<{ core: CoreHarness; provider: GatedProvider; timers: ReturnType<typeof fakeTimers> }> {
  const provider = new GatedProvider('gpu');
  const timers = fakeTimers(Date.now());
  const core = await coreHarness([provider], { membership: { gpu: { maxConcurrent: cap } }, queue, queueClock: timers, timeouts: { total: 600_000 } });
  return { core, provider, timers };
}

describe('admission control in the core', () => {
  test('requests beyond the cap wait and are served by priority, first come first within a priority', async () => {
    const { core, provider } = await capped(1);
    const busy = core.complete(ask('busy'));
    await until(() => provider.waiting === 1, 'the first request is on the provider');
    const order: Array<[string, number]> = [['low-1', 1], ['mid-1', 5], ['high-1', 9], ['mid-2', 5], ['low-2', 1], ['high-2', 9]];
    const queued: Array<ReturnType<CoreHarness['complete']>> = [];
    for (const [name, priority] of order) {
      queued.push(core.complete(ask(name), { priority }));
      await until(() => core.gateway.admission.depth === queued.length, `${name} waits`);
    }
    assert.equal(core.gateway.registry.totalInFlight(), 1);
    for (let served = 0; served <= order.length; served++) {
      provider.open();
      if (served < order.length) await until(() => provider.started.length === served + 2, 'the next waiter reached the provider');
    }
    const results = await Promise.all([busy, ...queued]);
    assert.ok(results.every((result) => result.report?.status === 200));
    assert.deepEqual(provider.started, ['busy', 'high-1', 'high-2', 'mid-1', 'mid-2', 'low-1', 'low-2']);
    assert.equal(core.gateway.admission.depth, 0);
    assert.equal(core.gateway.inFlight(), 0);
    assert.equal(core.gateway.admission.stats().admitted, 6);
  });

  test('a full queue answers 429 queue_full; a wait past timeoutMs 503 queue_timeout; both with Retry-After', async () => {
    const { core, provider, timers } = await capped(1, { maxSize: 2, timeoutMs: 5000, retryAfterMs: 3000 });
    const busy = core.complete(ask('busy'));
    await until(() => provider.waiting === 1, 'busy');
    const first = core.complete(ask('q1'));
    const second = core.complete(ask('q2'));
    await until(() => core.gateway.admission.depth === 2, 'two wait');
    const refused = await core.complete(ask('q3'));
    assert.equal(refused.error?.code, 'queue_full');
    assert.equal(refused.error?.status, 429);
    timers.advance(5000);
    const [timedOut1, timedOut2] = await Promise.all([first, second]);
    for (const result of [timedOut1, timedOut2]) {
      assert.equal(result.error?.code, 'queue_timeout');
      assert.equal(result.error?.status, 503);
    }
    provider.open();
    assert.equal((await busy).report?.status, 200);
    assert.equal(core.gateway.admission.depth, 0);
    assert.equal(core.gateway.inFlight(), 0);
    assert.deepEqual(provider.started, ['busy'], 'no queued request reached the provider');
  });

  test('a client that disconnects while queued leaves at once and never reaches a provider', async () => {
    const { core, provider } = await capped(1);
    const busy = core.complete(ask('busy'));
    await until(() => provider.waiting === 1, 'busy');
    const client = new AbortController();
    const leaving = core.complete(ask('leaves'), { signal: client.signal });
    const staying = core.complete(ask('stays'));
    await until(() => core.gateway.admission.depth === 2, 'both wait');
    client.abort(new GatewayError('client_closed_request', 'gone'));
    assert.equal(core.gateway.admission.depth, 1);
    assert.equal((await leaving).error?.code, 'client_closed_request');
    provider.open();
    await until(() => provider.started.length === 2, 'the other waiter is served');
    provider.open();
    assert.equal((await staying).report?.status, 200);
    await busy;
    assert.deepEqual(provider.started, ['busy', 'stays']);
    assert.equal(core.gateway.inFlight(), 0);
  });

  test('raising the cap or adding a provider lets waiters through at once, one per free slot', async () => {
    const { core, provider } = await capped(1);
    const requests = [core.complete(ask('busy'))];
    await until(() => provider.waiting === 1, 'busy');
    for (let index = 0; index < 4; index++) requests.push(core.complete(ask(`w${index}`)));
    await until(() => core.gateway.admission.depth === 4, 'four wait');
    core.gateway.registry.configure('gpu', { maxConcurrent: 3 });
    await until(() => provider.waiting === 3, 'two more are placed');
    assert.equal(core.gateway.admission.depth, 2);
    const spare = new GatedProvider('spare');
    core.gateway.registry.add(spare, { maxConcurrent: 1 });
    await until(() => spare.waiting === 1, 'the added provider takes one');
    assert.equal(core.gateway.admission.depth, 1);
    while (provider.waiting > 0 || spare.waiting > 0 || core.gateway.admission.depth > 0) {
      provider.open();
      spare.open();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(requests);
    assert.ok(results.every((result) => result.report?.status === 200));
    assert.equal(core.gateway.inFlight(), 0);
  });

  test('shutdown answers queued requests with shutting_down (a clean 503), not a reset', async () => {
    const { core, provider } = await capped(1);
    const busy = core.complete(ask('busy'));
    await until(() => provider.waiting === 1, 'busy');
    const queued = core.complete(ask('queued'));
    await until(() => core.gateway.admission.depth === 1, 'one waits');
    core.gateway.beginShutdown();
    const result = await queued;
    assert.equal(result.error?.code, 'shutting_down');
    assert.equal(result.error?.status, 503);
    assert.equal(core.gateway.admission.depth, 0);
    provider.open();
    await busy;
    assert.equal(core.gateway.inFlight(), 0);
  });

  test('a request that names no priority gets 5: behind 6, ahead of 4', async () => {
    const { core, provider } = await capped(1);
    const requests = [core.complete(ask('busy'))];
    await until(() => provider.waiting === 1, 'busy');
    for (const [name, priority] of [['four', 4], ['default', undefined], ['six', 6]] as const) {
      requests.push(core.complete(ask(name), priority === undefined ? {} : { priority }));
      await until(() => core.gateway.admission.depth === requests.length - 1, name);
    }
    for (let index = 0; index < 4; index++) {
      provider.open();
      if (index < 3) await until(() => provider.started.length === index + 2, 'next');
    }
    await Promise.all(requests);
    assert.deepEqual(provider.started, ['busy', 'six', 'default', 'four']);
  });
});
