import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseMultiModelInfo } from '@0gfoundation/0g-compute-ts-sdk';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { InferenceReader, sseData } from './helpers/direct-client.js';
import { connectSdkUser, messageContent, openAccount, type SdkUser } from './helpers/sdk-user.js';

const ALPHA = { id: 'alpha-chat', inputPrice: 1_000_000_000n, outputPrice: 2_000_000_000n, contextLength: 32_768 };
const BETA = { id: 'beta-coder', inputPrice: 5_000_000_000n, outputPrice: 7_000_000_000n, maxCompletionTokens: 1024 };

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

describe('multi-model providers', () => {
  let devnet: LocalDevnet;
  let user: SdkUser;
  let chain: InferenceReader;
  const provider = (name: string): DevnetProvider => {
    const found = devnet.providers.find((candidate) => candidate.name === name);
    assert.ok(found, name);
    return found;
  };

  /** A chat through the SDK's endpoint and headers, for `model` (omitted when undefined). */
  async function chat(target: DevnetProvider, model: string | undefined, text: string, stream = false): Promise<{ status: number; chatId: string; text: string; body: Record<string, unknown> }> {
    const { endpoint } = await user.broker.inference.getServiceMetadata(target.address, model);
    const headers = (await user.broker.inference.getRequestHeaders(target.address)) as unknown as Record<string, string>;
    const body: Record<string, unknown> = { messages: [{ role: 'user', content: text }], ...(model === undefined ? {} : { model }) };
    if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
    const response = await fetch(`${endpoint}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const answer = await response.text();
    let parsed: Record<string, unknown> = {};
    if (!stream) parsed = JSON.parse(answer) as Record<string, unknown>;
    return { status: response.status, chatId: response.headers.get('zg-res-key') ?? '', text: answer, body: parsed };
  }

  before(async () => {
    devnet = await startLocalDevnet({
      providers: [{ name: 'multi', models: [ALPHA, BETA] }, { name: 'single' }, { name: 'lenient', acceptAnyModel: true }],
    });
    chain = new InferenceReader(devnet);
    user = await connectSdkUser(devnet);
    for (const each of devnet.providers) await openAccount(user, each.address);
  });

  after(async () => {
    user?.close();
    await devnet?.stop();
  });

  it('registers MultiModel in additionalInfo as the SDK parses it, with the first model as the on-chain default', async () => {
    const multi = provider('multi');
    const service = await chain.service(multi.address);
    assert.deepEqual(parseMultiModelInfo(service.additionalInfo), { multiModel: true, priceDenomination: 'NATIVE' });
    assert.equal(service.model, ALPHA.id);
    assert.equal(service.inputPrice, ALPHA.inputPrice);
    assert.equal(service.outputPrice, ALPHA.outputPrice);
    assert.equal(multi.multiModel, true);
    assert.deepEqual(multi.models.map((model) => model.id), [ALPHA.id, BETA.id]);
    const single = await chain.service(provider('single').address);
    assert.deepEqual(parseMultiModelInfo(single.additionalInfo), { multiModel: false });
    const listed = await user.broker.inference.listService();
    assert.equal(listed.find((entry) => entry.provider === multi.address)?.model, ALPHA.id);
  });

  it("serves its catalog at /v1/models as the SDK's getProviderModels reads it, and the same at /v1/proxy/models", async () => {
    const multi = provider('multi');
    const catalog = await user.broker.inference.getProviderModels(multi.address);
    assert.equal(catalog.multiModel, true);
    assert.equal(catalog.defaultModel, ALPHA.id);
    assert.equal(catalog.url, multi.url);
    assert.deepEqual(
      catalog.models.map((model) => [model.id, model.context_length, model.max_completion_tokens, model.pricing?.prompt, model.pricing?.completion, model.verifiability]),
      [
        [ALPHA.id, 32_768, 4096, '1000000000', '2000000000', 'TeeML'],
        [BETA.id, 8192, 1024, '5000000000', '7000000000', 'TeeML'],
      ],
    );
    const direct = await (await fetch(`${multi.url}/v1/models`)).json();
    const proxied = await (await fetch(`${multi.url}/v1/proxy/models`)).json();
    assert.deepEqual(proxied, direct);
    const single = await user.broker.inference.getProviderModels(provider('single').address);
    assert.equal(single.multiModel, false);
    assert.deepEqual(single.models.map((model) => model.id), ['zg-devnet-chat']);
  });

  it('answers each model with its name, bills it at that model’s price, and the SDK verifies it', async () => {
    const multi = provider('multi');
    for (const model of [ALPHA, BETA]) {
      const before = multi.unsettledFee(devnet.userAddress);
      const answer = await chat(multi, model.id, `which model is ${model.id}`);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.model, model.id);
      assert.equal(messageContent(answer.body), `[multi] ${model.id} heard: which model is ${model.id}`);
      const usage = answer.body.usage as Usage;
      const expected = BigInt(usage.prompt_tokens) * model.inputPrice + BigInt(usage.completion_tokens) * model.outputPrice;
      assert.equal(multi.unsettledFee(devnet.userAddress) - before, expected, `${model.id} billed at its own price`);
      assert.equal(await user.broker.inference.processResponse(multi.address, answer.chatId, JSON.stringify(usage)), true);
    }
    // No model: the on-chain default answers.
    const unnamed = await chat(multi, undefined, 'no model named');
    assert.equal(unnamed.body.model, ALPHA.id);
  });

  it('streams a chosen model, naming it in every chunk', async () => {
    const answer = await chat(provider('multi'), BETA.id, 'stream from beta', true);
    assert.equal(answer.status, 200);
    const chunks = sseData(answer.text).filter((data) => data !== '[DONE]').map((data) => JSON.parse(data) as { model: string; choices: Array<{ delta?: { content?: string } }> });
    assert.ok(chunks.length > 3);
    assert.ok(chunks.every((chunk) => chunk.model === BETA.id));
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join(''), `[multi] ${BETA.id} heard: stream from beta`);
  });

  it('answers a model it does not serve with 404 model_not_found and bills nothing (multi- and single-model)', async () => {
    for (const target of [provider('multi'), provider('single')]) {
      const before = { fee: target.unsettledFee(devnet.userAddress), served: target.stats.served, unknown: target.stats.unknownModel };
      const answer = await chat(target, 'no-such-model', 'hello?');
      assert.equal(answer.status, 404, target.name);
      const error = (answer.body as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
      assert.equal(error?.code, 'model_not_found');
      assert.equal(error?.type, 'invalid_request_error');
      assert.match(String(error?.message), /no-such-model/);
      assert.equal(target.unsettledFee(devnet.userAddress), before.fee);
      assert.equal(target.stats.served, before.served);
      assert.equal(target.stats.unknownModel, before.unknown + 1);
    }
    const single = provider('single');
    assert.equal((await chat(single, single.model, 'my own model')).status, 200);
  });

  it('acceptAnyModel answers any model name with its own model', async () => {
    const lenient = provider('lenient');
    const answer = await chat(lenient, 'gpt-whatever', 'anything goes');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.model, lenient.model);
    assert.equal(messageContent(answer.body), `[lenient] ${lenient.model} heard: anything goes`);
  });
});
