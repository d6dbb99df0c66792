import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from 'zg-gateway';
import { coreHarness, FakeProvider } from '../helpers/core-harness.js';
import { chunk, usage } from '../helpers/fakes.js';

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });
const retryable = (code: 'upstream_error' | 'upstream_unreachable' = 'upstream_error'): GatewayError => new GatewayError(code, 'provider failed', { retryable: true });

describe('Gateway core: JSON answers', () => {
  test('relays the provider\'s bytes, names the provider, prices the answer, records the id once, releases the lease', async () => {
    const a = new FakeProvider('a', [{ id: 'm', inputPrice: 10n, outputPrice: 100n }]);
    a.then({ kind: 'json', id: 'chatcmpl-1', usage: usage(7, 3) });
    const core = await coreHarness([a]);
    const { sink, report } = await core.complete(ask('hi'));
    assert.equal(sink.status, 200);
    assert.equal(sink.headers['x-provider-address'], 'a');
    assert.equal(sink.headers['content-type'], 'application/json');
    assert.equal(sink.headers['x-request-cost'], String(7 * 10 + 3 * 100));
    const body = JSON.parse(sink.text()) as { id: string };
    assert.equal(body.id, 'chatcmpl-1');
    assert.deepEqual({ ...(await core.responses.get('chatcmpl-1')), createdAt: 0 }, {
      providerId: 'a',
      chatId: 'chatcmpl-1',
      usage: usage(7, 3),
      createdAt: 0,
      model: 'm',
      upstreamModel: 'm',
      costNeuron: '370',
      price: { input: '10', output: '100' },
    });
    assert.equal(report?.costNeuron, 370n);
    assert.equal(report?.attempts, 1);
    assert.deepEqual(a.usageRecorded, [usage(7, 3)], 'the adapter is told the usage once (fees)');
    assert.equal(core.gateway.inFlight(), 0);
    assert.equal(core.gateway.registry.get('a')?.stats.served, 1);
  });

  test('round-robin spreads requests in joining order', async () => {
    const core = await coreHarness([new FakeProvider('a'), new FakeProvider('b'), new FakeProvider('c')]);
    const served: string[] = [];
    for (let index = 0; index < 6; index++) served.push((await core.complete(ask(`${index}`))).report?.provider ?? '');
    assert.deepEqual(served, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('a retryable failure moves the request to another provider; the failure is charged to the first', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: retryable() });
    const core = await coreHarness([a, new FakeProvider('b')]);
    const { report } = await core.complete(ask('retry me'));
    assert.equal(report?.provider, 'b');
    assert.equal(report?.attempts, 2);
    assert.equal(core.gateway.registry.get('a')?.stats.failures, 1);
  });

  test('a non-retryable error is returned at once', async () => {
    const a = new FakeProvider('a').then({ kind: 'error', error: new GatewayError('insufficient_funds', 'no', { retryable: false }) });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    const { error } = await core.complete(ask('x'));
    assert.equal(error?.code, 'insufficient_funds');
    assert.equal(b.calls.length, 0);
  });

  test('a 400 is confirmed on a second provider before it is the client\'s; unconfirmed, it is charged to the provider', async () => {
    const clientError = (): GatewayError => new GatewayError('upstream_client_error', 'bad parameter', { retryable: false, upstreamStatus: 400 });
    const a = new FakeProvider('a').then({ kind: 'error', error: clientError() });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    const served = await core.complete(ask('fine on b'));
    assert.equal(served.report?.provider, 'b');
    assert.equal(core.gateway.registry.get('a')?.breaker.snapshot().consecutiveFailures, 1, 'a was penalised after b served');
    a.then({ kind: 'error', error: clientError() });
    b.then({ kind: 'error', error: clientError() });
    const refused = await core.complete(ask('bad everywhere'));
    assert.equal(refused.error?.code, 'upstream_client_error');
    assert.equal(refused.error?.status, 400);
  });

  test('a provider that hangs is cut at the first-byte timeout and the request served elsewhere', async () => {
    const a = new FakeProvider('a').then({ kind: 'hang' });
    const core = await coreHarness([a, new FakeProvider('b')], { timeouts: { firstByte: 50 } });
    const { report } = await core.complete(ask('hurry'));
    assert.equal(report?.provider, 'b');
    assert.equal(core.gateway.registry.get('a')?.stats.lastError?.code, 'upstream_timeout');
  });
});

describe('Gateway core: streams', () => {
  const content = (sinkEvents: string[]): string =>
    sinkEvents
      .filter((event) => event !== '[DONE]')
      .map((event) => JSON.parse(event) as { choices?: Array<{ delta?: { content?: string } }> })
      .map((parsed) => parsed.choices?.[0]?.delta?.content ?? '')
      .join('');

  test('a role-only chunk followed by a failure is retried elsewhere: the client sees only the second provider\'s stream', async () => {
    const a = new FakeProvider('a').then({ kind: 'stream', id: 'sa', chunks: [chunk('sa', { role: 'assistant', content: '' })], failAfter: retryable() });
    const b = new FakeProvider('b').then({ kind: 'stream', id: 'sb', chunks: [chunk('sb', { role: 'assistant', content: '' }), chunk('sb', { content: 'hello' }), chunk('sb', {}, 'stop')] });
    const core = await coreHarness([a, b]);
    const { sink, report } = await core.complete(ask('s', { stream: true }));
    assert.equal(report?.provider, 'b');
    assert.equal(report?.outcome, 'ok');
    assert.equal(sink.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(content(sink.events()), 'hello');
    assert.ok(!sink.text().includes('"sa"'), 'nothing of the failed attempt reached the client');
    assert.equal(sink.events().at(-1), '[DONE]');
    assert.ok(await core.responses.get('sb'));
  });

  test('a failure after content ends the stream in band, without [DONE], and the id is not recorded', async () => {
    const a = new FakeProvider('a').then({ kind: 'stream', id: 'cut', chunks: [chunk('cut', { content: 'half' })], failAfter: new GatewayError('stream_interrupted', 'cut', { retryable: true }) });
    const core = await coreHarness([a, new FakeProvider('b')]);
    const { sink, report } = await core.complete(ask('s', { stream: true }));
    assert.equal(report?.outcome, 'stream_error');
    assert.equal(report?.errorCode, 'stream_interrupted');
    const events = sink.events();
    assert.ok(!events.includes('[DONE]'));
    assert.equal((JSON.parse(events.at(-1) as string) as { error: { code: string } }).error.code, 'stream_interrupted');
    assert.equal(await core.responses.get('cut'), undefined);
    assert.equal(core.gateway.inFlight(), 0);
  });

  test('a stream with no content at all still completes (an empty answer is an answer)', async () => {
    const a = new FakeProvider('a').then({ kind: 'stream', id: 'empty', chunks: [chunk('empty', { role: 'assistant' })] });
    const core = await coreHarness([a]);
    const { sink, report } = await core.complete(ask('s', { stream: true }));
    assert.equal(report?.outcome, 'ok');
    assert.equal(sink.events().at(-1), '[DONE]');
  });

  test('the usage-only chunk the gateway asks for is left out unless the client asked for usage', async () => {
    const stream = (): Parameters<FakeProvider['then']>[0] => ({
      kind: 'stream',
      id: 'u',
      chunks: [chunk('u', { content: 'x' }), chunk('u', {}, 'stop'), { id: 'u', choices: [], usage: usage(1, 1) }],
    });
    const a = new FakeProvider('a').then(stream(), stream());
    const core = await coreHarness([a]);
    const without = await core.complete(ask('s', { stream: true }));
    assert.ok(!without.sink.text().includes('"usage"'));
    assert.deepEqual(without.report?.usage, usage(1, 1), 'the gateway still saw it');
    const withUsage = await core.complete(ask('s', { stream: true, stream_options: { include_usage: true } }));
    assert.ok(withUsage.sink.text().includes('"usage"'));
  });
});

describe('Gateway core: models, sessions, availability', () => {
  test('a request reaches only the providers of its model; unknown models are model_not_found; aliases and upstream ids apply', async () => {
    const llama = new FakeProvider('llama', ['llama-3-8b']);
    const qwen = new FakeProvider('qwen', [{ id: 'qwen-2.5-7b', upstreamId: 'Qwen/Qwen2.5-7B', inputPrice: 1n, outputPrice: 1n }]);
    const core = await coreHarness([llama, qwen], { routing: { modelAliases: { 'gpt-4o-mini': 'qwen-2.5-7b' } } });
    for (let index = 0; index < 3; index++) assert.equal((await core.complete(ask('x', { model: 'qwen-2.5-7b' }))).report?.provider, 'qwen');
    assert.equal((await core.complete(ask('x', { model: 'gpt-4o-mini' }))).report?.provider, 'qwen');
    assert.deepEqual(new Set(qwen.calls.map((call) => call.body.model)), new Set(['Qwen/Qwen2.5-7B']));
    assert.equal(llama.calls.length, 0);
    const unknown = await core.complete(ask('x', { model: 'no-such-model' }));
    assert.equal(unknown.error?.code, 'model_not_found');
    assert.equal(unknown.error?.status, 404);
    const none = await core.complete(ask('x', { model: undefined }));
    assert.equal(none.error?.code, 'invalid_request', 'several models and no default: the client must say which');
  });

  test('fallbacks are tried when a model\'s providers all fail before the first byte, and the answer says so', async () => {
    const qwen = new FakeProvider('qwen', ['qwen']).then({ kind: 'error', error: retryable() });
    const llama = new FakeProvider('llama', ['llama']);
    const core = await coreHarness([qwen, llama], { routing: { fallbacks: { qwen: ['llama'] } } });
    const { sink, report } = await core.complete(ask('x', { model: 'qwen' }));
    assert.equal(report?.provider, 'llama');
    assert.equal(sink.headers['x-model-fallback'], 'llama');
    assert.equal(report?.fallbackFor, 'qwen');
    assert.equal(llama.calls[0]?.body.model, 'llama');
  });

  test('a session is pinned to its first provider; when that one is out, another serves and the answer says it was repinned', async () => {
    const core = await coreHarness([new FakeProvider('a'), new FakeProvider('b'), new FakeProvider('c')]);
    const first = await core.complete(ask('1'), { sessionId: 's1' });
    for (let turn = 0; turn < 3; turn++) assert.equal((await core.complete(ask('n'), { sessionId: 's1' })).report?.provider, first.report?.provider);
    const pinned = core.gateway.registry.get(first.report?.provider ?? '');
    assert.ok(pinned);
    core.gateway.registry.setFunding(pinned, 'needs-funds', 'test');
    const moved = await core.complete(ask('n'), { sessionId: 's1' });
    assert.notEqual(moved.report?.provider, pinned.id);
    assert.equal(moved.sink.headers['x-session-repinned'], 'true');
    assert.equal(moved.sink.headers['x-session-previous-provider'], pinned.id);
    assert.equal((await core.complete(ask('n'), { sessionId: 's1' })).report?.provider, moved.report?.provider, 're-pinned');
  });

  test('nothing available: 503 naming each provider and why; every one needing funds: 402', async () => {
    const a = new FakeProvider('a');
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    const [entryA, entryB] = [core.gateway.registry.get('a'), core.gateway.registry.get('b')];
    assert.ok(entryA && entryB);
    core.gateway.registry.setFunding(entryA, 'needs-funds', 'sub-account empty');
    core.gateway.registry.setTrust(entryB, 'untrusted', 'forged signature');
    const unavailable = await core.complete(ask('x'));
    assert.equal(unavailable.error?.code, 'no_healthy_provider');
    assert.match(JSON.stringify(unavailable.error?.details), /funding: sub-account empty.*trust: forged signature/);
    core.gateway.registry.setTrust(entryB, 'trusted', null);
    core.gateway.registry.setFunding(entryB, 'needs-funds', 'sub-account empty');
    const broke = await core.complete(ask('x'));
    assert.equal(broke.error?.code, 'insufficient_funds');
    assert.equal(broke.error?.status, 402);
  });

  test('providers join and leave at run time: a removed one finishes its request and gets no new ones', async () => {
    const slow = new FakeProvider('slow').then({ kind: 'stream', id: 'long', gapMs: 30, chunks: [chunk('long', { content: 'a' }), chunk('long', { content: 'b' }), chunk('long', {}, 'stop')] });
    const core = await coreHarness([slow]);
    const inFlight = core.complete(ask('long', { stream: true }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    core.gateway.registry.add(new FakeProvider('fresh'));
    const removal = core.gateway.registry.remove('slow');
    const during = await core.complete(ask('new'));
    assert.equal(during.report?.provider, 'fresh');
    const finished = await inFlight;
    assert.equal(finished.report?.outcome, 'ok', 'the draining provider\'s request finished');
    await removal;
    assert.equal(core.gateway.registry.get('slow'), undefined);
    assert.equal(slow.closed, true);
    assert.equal(core.gateway.inFlight(), 0);
  });

  test('shutdown: new requests get shutting_down; drain ends what outlives the grace period, in band', async () => {
    const a = new FakeProvider('a').then({ kind: 'stream', id: 'forever', gapMs: 1000, chunks: [chunk('forever', { content: 'x' }), chunk('forever', { content: 'y' })] });
    const core = await coreHarness([a]);
    const running = core.complete(ask('s', { stream: true }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const drained = await core.gateway.drain(50);
    assert.equal(drained, false);
    const result = await running;
    assert.equal(result.report?.errorCode, 'shutting_down');
    const refused = await core.complete(ask('late'));
    assert.equal(refused.error?.code, 'shutting_down');
    assert.equal(core.gateway.inFlight(), 0);
  });
});
