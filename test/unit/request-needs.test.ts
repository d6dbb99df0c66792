import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, catalogCapabilities, requestNeeds, type ModelOffer } from 'zg-gateway';
import { coreHarness, FakeProvider } from '../helpers/core-harness.js';

/** A chat whose prompt is about `tokens` tokens by the gateway's estimate (4 characters a token, plus 4 per message). */
const long = (tokens: number, extra: Record<string, unknown> = {}, model = 'm'): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'x'.repeat((tokens - 4) * 4) }],
  ...extra,
});
const offer = (id: string, contextLength?: number): ModelOffer => ({ id, inputPrice: 1n, outputPrice: 2n, ...(contextLength !== undefined ? { contextLength } : {}) });
const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
const contextError = (provider: string, limit?: number): GatewayError =>
  new GatewayError('context_length_exceeded', `Provider ${provider} says the request is longer than its context window (HTTP 400): maximum context length is ${limit ?? '?'} tokens`, {
    retryable: true,
    upstreamStatus: 400,
    details: { provider, upstreamStatus: 400, ...(limit !== undefined ? { contextLength: limit } : {}) },
  });

describe('requestNeeds: what a request takes from a provider', () => {
  test('prompt estimate + max_tokens (or max_completion_tokens, else 256), and the features it uses', () => {
    assert.deepEqual(requestNeeds(long(1000, { max_tokens: 500 }), 'chat'), { promptTokens: 1000, completionTokens: 500, tokens: 1500, features: [] });
    assert.equal(requestNeeds(long(1000, { max_completion_tokens: 50 }), 'chat')?.tokens, 1050);
    assert.equal(requestNeeds(long(1000), 'chat')?.completionTokens, 256, 'the stated default allowance');
    assert.equal(requestNeeds({ input: 'x' }, 'embeddings'), undefined);
    const body = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:,' } }] }],
      tools,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
      logprobs: true,
    };
    assert.deepEqual(requestNeeds(body, 'chat')?.features, ['tools', 'json_schema', 'vision', 'logprobs']);
    assert.deepEqual(requestNeeds({ messages: [], tools: [], response_format: { type: 'json_object' }, logprobs: false }, 'chat')?.features, [], 'empty tools, json_object, logprobs false: nothing special');
  });

  test('a catalog entry declares what it says and leaves the rest unsaid', () => {
    assert.deepEqual(catalogCapabilities({ supported_parameters: ['tools', 'structured_outputs'] }), { tools: true, json_schema: true, logprobs: false });
    assert.deepEqual(catalogCapabilities({ architecture: { input_modalities: ['text', 'image'] } }), { vision: true });
    assert.equal(catalogCapabilities({ id: 'm' }), undefined);
  });
});

describe('context-aware planning', () => {
  test('a long prompt skips the small-context provider and succeeds on the first try', async () => {
    const small = new FakeProvider('small', [offer('m', 4096)]);
    const big = new FakeProvider('big', [offer('m', 32_768)]);
    const core = await coreHarness([small, big]);
    for (let index = 0; index < 6; index++) {
      const { report } = await core.complete(long(8000));
      assert.equal(report?.provider, 'big');
      assert.equal(report?.attempts, 1, 'no attempt wasted on the small provider');
    }
    assert.equal(small.calls.length, 0);
    const short = new Set<string | undefined>();
    for (let index = 0; index < 4; index++) short.add((await core.complete(long(100))).report?.provider);
    assert.deepEqual([...short].sort(), ['big', 'small'], 'short prompts still use both');
  });

  test('max_tokens counts: a prompt that fits leaves out the provider whose window cannot also hold the completion', async () => {
    const small = new FakeProvider('small', [offer('m', 4096)]);
    const big = new FakeProvider('big', [offer('m', 32_768)]);
    const core = await coreHarness([small, big]);
    for (let index = 0; index < 3; index++) assert.equal((await core.complete(long(3000, { max_tokens: 2000 }))).report?.provider, 'big');
    assert.equal(small.calls.length, 0);
  });

  test('too long for every provider: 400 context_length_exceeded with the figures, nothing sent', async () => {
    const small = new FakeProvider('small', [offer('m', 4096)]);
    const big = new FakeProvider('big', [offer('m', 8192)]);
    const core = await coreHarness([small, big]);
    const { error } = await core.complete(long(10_000, { max_tokens: 100 }));
    assert.equal(error?.status, 400);
    assert.equal(error?.code, 'context_length_exceeded');
    assert.deepEqual(error?.details, { estimatedTokens: 10_100, promptTokens: 10_000, completionTokens: 100, largestContext: 8192 });
    assert.match(error?.message ?? '', /10100 tokens.*8192 tokens/);
    assert.equal(small.calls.length + big.calls.length, 0);
  });

  test('a provider whose window is unknown may take anything', async () => {
    const known = new FakeProvider('known', [offer('m', 4096)]);
    const unknown = new FakeProvider('unknown', [offer('m')]);
    const core = await coreHarness([known, unknown]);
    assert.equal((await core.complete(long(50_000))).report?.provider, 'unknown');
  });

  test('no provider fits: the configured bigger model serves, and X-Model-Fallback says so', async () => {
    const small = new FakeProvider('small', [offer('llama-8k', 8192)]);
    const big = new FakeProvider('big', [offer('llama-128k', 131_072)]);
    const core = await coreHarness([small, big], { routing: { contextWindowFallbacks: { 'llama-8k': ['llama-128k'] } } });
    const { report, sink } = await core.complete(long(20_000, {}, 'llama-8k'));
    assert.equal(report?.provider, 'big');
    assert.equal(report?.model, 'llama-128k');
    assert.equal(report?.attempts, 1);
    assert.equal(sink.headers['x-model-fallback'], 'llama-128k');
    assert.equal(sink.headers['x-model-fallback-reason'], 'context_length');
    assert.equal((big.calls[0]?.body as { model?: string }).model, 'llama-128k');
    // A request that fits stays on the requested model: the bigger one is for what does not fit.
    const fits = await core.complete(long(1000, {}, 'llama-8k'));
    assert.equal(fits.report?.model, 'llama-8k');
    assert.equal(fits.sink.headers['x-model-fallback'], undefined);
    // Too long even for the bigger model: the figures name the largest window of both.
    const { error } = await core.complete(long(200_000, {}, 'llama-8k'));
    assert.equal(error?.code, 'context_length_exceeded');
    assert.equal((error?.details as { largestContext?: number }).largestContext, 131_072);
  });

  test("a provider's context-exceeded 400 teaches its real limit: retried elsewhere, not blamed, not sent such requests again", async () => {
    const liar = new FakeProvider('liar', [offer('m', 32_768)]).then({ kind: 'error', error: contextError('liar', 4096) });
    const honest = new FakeProvider('honest', [offer('m', 32_768)]);
    const core = await coreHarness([liar, honest]);
    const first = await core.complete(long(6000));
    const firstProvider = first.report?.provider;
    if (liar.calls.length === 1) {
      assert.equal(firstProvider, 'honest', 'retried on the other provider');
      assert.equal(first.report?.attempts, 2);
    }
    // Round-robin reaches the liar on the first or second request; after that it never gets a long one.
    await core.complete(long(6000));
    assert.equal(liar.calls.length, 1, 'asked once, then known too small');
    const entry = core.gateway.registry.get('liar');
    assert.equal(entry?.contextWindow('m'), 4096, 'the stated limit is learned');
    assert.equal(entry?.breaker.state, 'closed');
    assert.equal(entry?.breaker.snapshot().windowFailures, 0, 'not a health fault');
    for (let index = 0; index < 4; index++) assert.equal((await core.complete(long(6000))).report?.provider, 'honest');
    assert.equal(liar.calls.length, 1);
    const short = new Set<string | undefined>();
    for (let index = 0; index < 4; index++) short.add((await core.complete(long(500))).report?.provider);
    assert.ok(short.has('liar'), 'short requests still reach it');
  });

  test('a context error without a figure: the limit learned is just under the request', async () => {
    const a = new FakeProvider('a', [offer('m')]).then({ kind: 'error', error: contextError('a') });
    const b = new FakeProvider('b', [offer('m')]).then({ kind: 'error', error: contextError('b') });
    const core = await coreHarness([a, b]);
    const { error } = await core.complete(long(6000, { max_tokens: 1000 }));
    assert.equal(error?.code, 'context_length_exceeded', 'both said so: the client is told, as a 400');
    assert.equal(error?.status, 400);
    assert.equal(core.gateway.registry.get('a')?.contextWindow('m'), 6999);
    const again = await core.complete(long(6000, { max_tokens: 1000 }));
    assert.equal(again.error?.code, 'context_length_exceeded');
    assert.equal(a.calls.length + b.calls.length, 2, 'the second one is refused without a call');
  });
});

describe('capability-aware planning', () => {
  test('a tools request never reaches a provider declared without tools; plain chats still do', async () => {
    const plain = new FakeProvider('plain');
    plain.descriptor = { ...plain.descriptor, capabilities: { tools: false, json_schema: true } };
    const agent = new FakeProvider('agent');
    const core = await coreHarness([plain, agent]);
    for (let index = 0; index < 6; index++) assert.equal((await core.complete(long(10, { tools }))).report?.provider, 'agent');
    assert.equal(plain.calls.length, 0);
    const chats = new Set<string | undefined>();
    for (let index = 0; index < 4; index++) chats.add((await core.complete(long(10))).report?.provider);
    assert.ok(chats.has('plain'));
  });

  test('a model declaration wins over its provider', async () => {
    const mixed = new FakeProvider('mixed', [{ ...offer('m'), capabilities: { vision: true } }, offer('text-only')]);
    mixed.descriptor = { ...mixed.descriptor, capabilities: { vision: false } };
    const core = await coreHarness([mixed]);
    const image = { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] };
    assert.equal((await core.complete({ model: 'm', messages: [image] })).report?.provider, 'mixed');
    const { error } = await core.complete({ model: 'text-only', messages: [image] });
    assert.equal(error?.code, 'unsupported_parameter');
    assert.equal(error?.status, 400);
    assert.match(error?.message ?? '', /`vision`/);
  });

  test('no provider serves the feature: 400 unsupported_parameter naming it, nothing sent', async () => {
    const a = new FakeProvider('a');
    a.descriptor = { ...a.descriptor, capabilities: { tools: false } };
    const core = await coreHarness([a]);
    const { error } = await core.complete(long(10, { tools }));
    assert.equal(error?.code, 'unsupported_parameter');
    assert.match(error?.message ?? '', /`tools`/);
    assert.deepEqual((error?.details as { feature?: string }).feature, 'tools');
    assert.equal(a.calls.length, 0);
  });

  test('require_parameters: only providers that declare the features; unknown is not enough', async () => {
    const declared = new FakeProvider('declared');
    declared.descriptor = { ...declared.descriptor, capabilities: { json_schema: true } };
    const unknown = new FakeProvider('unknown');
    const core = await coreHarness([declared, unknown]);
    const format = { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } };
    for (let index = 0; index < 4; index++) assert.equal((await core.complete(long(10, format), { filter: { requireParameters: true } })).report?.provider, 'declared');
    assert.equal(unknown.calls.length, 0);
    // Without it, the unknown provider may take them.
    const without = new Set<string | undefined>();
    for (let index = 0; index < 4; index++) without.add((await core.complete(long(10, format))).report?.provider);
    assert.ok(without.has('unknown'));
    const { error } = await core.complete(long(10, { tools }), { filter: { requireParameters: true } });
    assert.equal(error?.code, 'unsupported_parameter', 'nobody declares tools');
    assert.match(error?.message ?? '', /`tools`/);
  });

  test('a provider learned unsupported for tools keeps serving plain chats', async () => {
    const noTools = new GatewayError('unsupported_parameter', "Provider a does not support a parameter of the request (HTTP 400): 'tools' is not supported", { retryable: true, upstreamStatus: 400, param: 'tools' });
    const a = new FakeProvider('a').then({ kind: 'error', error: noTools });
    const b = new FakeProvider('b');
    const core = await coreHarness([a, b]);
    assert.equal((await core.complete(long(10, { tools }))).report?.provider, 'b');
    for (let index = 0; index < 4; index++) assert.equal((await core.complete(long(10, { tools }))).report?.provider, 'b');
    assert.equal(a.calls.length, 1);
    assert.equal(core.gateway.registry.get('a')?.breaker.snapshot().windowFailures, 0);
    const chats = [];
    for (let index = 0; index < 4; index++) chats.push((await core.complete(long(10))).report?.provider);
    assert.ok(chats.includes('a'), `plain chats reach a: ${chats.join(',')}`);
  });
});
