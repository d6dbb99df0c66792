import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, MissingCapabilities } from 'zg-gateway';
import { coreHarness, FakeProvider } from '../helpers/core-harness.js';

const prompt = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'm', prompt: text, ...extra });
const chat = (text: string): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content: text }] });
const noRoute = (provider: string): GatewayError =>
  new GatewayError('route_not_supported', `Provider ${provider} does not serve this route (HTTP 404): no route POST /v1/completions`, { retryable: true, upstreamStatus: 404 });
const noParam = (provider: string, param = 'logprobs'): GatewayError =>
  new GatewayError('unsupported_parameter', `Provider ${provider} does not support a parameter of the request (HTTP 400): Unsupported parameter: '${param}'`, { retryable: true, upstreamStatus: 400, param });

describe('MissingCapabilities: a memory with expiry on an injected clock', () => {
  test('a mark holds until its time, then is forgotten; a later mark extends it', () => {
    const memory = new MissingCapabilities();
    memory.mark('completions', 1_000);
    assert.equal(memory.lacks('completions', 999), true);
    assert.equal(memory.lacks('chat', 999), false, 'another route is untouched');
    assert.deepEqual(memory.list(500), [{ capability: 'completions', until: new Date(1_000).toISOString() }]);
    assert.equal(memory.lacks('completions', 1_000), false, 'expired at its time');
    assert.deepEqual(memory.list(1_000), []);
    memory.mark('completions', 2_000);
    memory.mark('completions', 1_500);
    assert.equal(memory.lacks('completions', 1_900), true, 'an earlier mark does not shorten a later one');
  });

  test('missingFor names the route first, else the first missing parameter the request sets', () => {
    const memory = new MissingCapabilities();
    assert.equal(memory.missingFor('chat', ['model', 'logprobs'], 0), undefined);
    memory.mark(MissingCapabilities.key('chat', 'logprobs'), 100);
    assert.deepEqual(memory.missingFor('chat', ['model', 'logprobs'], 50), { route: 'chat', param: 'logprobs' });
    assert.equal(memory.missingFor('chat', ['model', 'temperature'], 50), undefined, 'a request without that parameter is served');
    assert.equal(memory.missingFor('completions', ['model', 'logprobs'], 50), undefined, 'the parameter is missing on that route only');
    memory.mark('chat', 100);
    assert.deepEqual(memory.missingFor('chat', ['model'], 50), { route: 'chat' });
    assert.equal(memory.missingFor('chat', ['model', 'logprobs'], 100), undefined, 'both expired');
  });
});

describe('a route a provider does not serve is left out for that route only, never counted against its health', () => {
  test('404 on /v1/completions: retried elsewhere, not asked again for it, chats still reach it, breaker untouched, asked again after the TTL', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: noRoute('a') });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    const first = await core.complete(prompt('one'), { route: 'completions' });
    assert.equal(first.report?.provider, 'b', 'the request moved to the provider that serves the route');
    for (let index = 0; index < 4; index++) assert.equal((await core.complete(prompt(`p${index}`), { route: 'completions' })).report?.provider, 'b');
    assert.equal(a.calls.length, 1, 'a is not asked for /v1/completions again');
    const entry = core.gateway.registry.get('a');
    assert.equal(entry?.breaker.state, 'closed');
    assert.equal(entry?.breaker.snapshot().windowFailures, 0, 'not a health fault');
    const chats = [];
    for (let index = 0; index < 4; index++) chats.push((await core.complete(chat(`c${index}`))).report?.provider);
    assert.ok(chats.includes('a'), `chats still reach a: ${chats.join(',')}`);
    core.clock.advance(59_999);
    await core.complete(prompt('still out'), { route: 'completions' });
    const before = a.calls.filter((call) => call.route === 'completions').length;
    assert.equal(before, 1);
    core.clock.advance(1);
    // Round-robin may start on either; two requests reach both once the memory expired.
    await core.complete(prompt('x1'), { route: 'completions' });
    await core.complete(prompt('x2'), { route: 'completions' });
    assert.equal(a.calls.filter((call) => call.route === 'completions').length, 2, 'after the TTL, a is asked again');
  });

  test('no provider serves the route: 404 route_not_supported naming it; later requests reach no provider; breakers stay closed', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: noRoute('a') });
    const b = new FakeProvider('b').then({ kind: 'error', error: noRoute('b') });
    const core = await coreHarness([a, b]);
    for (let index = 0; index < 4; index++) {
      const { error } = await core.complete(prompt(`p${index}`), { route: 'completions' });
      assert.equal(error?.status, 404);
      assert.equal(error?.code, 'route_not_supported');
      assert.match(error?.message ?? '', /\/v1\/completions/);
      assert.deepEqual((error?.details as { route: string }).route, '/v1/completions');
    }
    assert.equal(a.calls.length + b.calls.length, 2, 'each provider was asked once');
    for (const id of ['a', 'b']) assert.equal(core.gateway.registry.get(id)?.breaker.state, 'closed');
    assert.equal((await core.complete(chat('still served'))).sink.status, 200);
  });

  test('an unsupported parameter: requests with it skip that provider, requests without it do not; none accepts it → 400 unsupported_parameter naming it', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: noParam('a') });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    assert.equal((await core.complete(prompt('with', { logprobs: 2 }), { route: 'completions' })).report?.provider, 'b');
    for (let index = 0; index < 3; index++) assert.equal((await core.complete(prompt('with', { logprobs: 2 }), { route: 'completions' })).report?.provider, 'b');
    assert.equal(a.calls.length, 1);
    const without = [];
    for (let index = 0; index < 2; index++) without.push((await core.complete(prompt('without'), { route: 'completions' })).report?.provider);
    assert.ok(without.includes('a'), 'a still serves the route without that parameter');
    assert.equal(core.gateway.registry.get('a')?.breaker.snapshot().windowFailures, 0);

    const c = new FakeProvider('c').then({ kind: 'error', error: noParam('c') });
    const d = new FakeProvider('d').then({ kind: 'error', error: noParam('d') });
    const lone = await coreHarness([c, d]);
    const { error } = await lone.complete(prompt('with', { logprobs: 2 }), { route: 'completions' });
    assert.equal(error?.status, 400);
    assert.equal(error?.code, 'unsupported_parameter');
    assert.match(error?.message ?? '', /`logprobs`.*\/v1\/completions/);
  });

  test('a 404 on the chat route is a provider failure (counted against its breaker), never a remembered capability: no client can take providers out of every chat', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: noRoute('a') });
    const core = await coreHarness([a, new FakeProvider('b')]);
    const { report } = await core.complete(chat('one'));
    assert.equal(report?.provider, 'b');
    const entry = core.gateway.registry.get('a');
    assert.deepEqual(entry?.missingCapabilities.list(core.clock.now()), []);
    assert.equal(entry?.breaker.snapshot().windowFailures, 1);
    assert.equal(entry?.stats.lastError?.code, 'upstream_error');
  });

  test('a core field named by an "unsupported" answer is never remembered (that would take the provider out of the whole route)', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: noParam('a', 'messages') });
    const core = await coreHarness([a, new FakeProvider('b')]);
    await core.complete(chat('one'));
    assert.deepEqual(core.gateway.registry.get('a')?.missingCapabilities.list(core.clock.now()), []);
  });
});
