import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle, type ProviderView } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

const GWEI = 1_000_000_000n;

/** Six providers over three models: llama ×2, qwen ×2 (one cheap), a multi-model (mistral + qwen), mistral. */
async function sixProviders(): Promise<LocalDevnet> {
  return startLocalDevnet({
    providers: [
      { name: 'llama-a', model: 'llama-3-8b', inputPrice: 3n * GWEI, outputPrice: 4n * GWEI },
      { name: 'llama-b', model: 'llama-3-8b', inputPrice: 5n * GWEI, outputPrice: 6n * GWEI },
      { name: 'qwen-a', model: 'qwen-2.5-7b', inputPrice: 4n * GWEI, outputPrice: 4n * GWEI },
      { name: 'qwen-cheap', model: 'qwen-2.5-7b', inputPrice: 1n * GWEI, outputPrice: 1n * GWEI },
      {
        name: 'multi',
        models: [
          { id: 'mistral-7b', inputPrice: 2n * GWEI, outputPrice: 3n * GWEI, contextLength: 32_768 },
          { id: 'qwen-2.5-7b', inputPrice: 7n * GWEI, outputPrice: 8n * GWEI },
        ],
      },
      { name: 'mistral-a', model: 'mistral-7b', inputPrice: 6n * GWEI, outputPrice: 6n * GWEI },
    ],
  });
}

interface Answer {
  status: number;
  provider: string | null;
  headers: Headers;
  body: { model?: string; choices?: Array<{ message: { content: string } }>; usage?: { prompt_tokens: number; completion_tokens: number }; error?: { code: string; message: string; param: string | null } };
}

async function chat(gateway: GatewayHandle, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi there' }], ...body }) });
  return { status: response.status, provider: response.headers.get('x-provider-address'), headers: response.headers, body: (await response.json()) as Answer['body'] };
}

describe('model groups, aliases, fallbacks, prices and preferences over six providers and three models', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  const named = (name: string): DevnetProvider => {
    const provider = devnet.providers.find((candidate) => candidate.name === name);
    assert.ok(provider, name);
    return provider;
  };

  before(async () => {
    devnet = await sixProviders();
    gateway = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, {
        healthCheckInterval: 3_600_000,
        modelAliases: { 'gpt-4o-mini': 'qwen-2.5-7b', 'internal-llama': { model: 'llama-3-8b', hidden: true } },
        fallbacks: { 'qwen-2.5-7b': ['llama-3-8b'] },
        verifySampleRate: 0,
      }),
    );
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('each model reaches only its providers; the multi-model provider serves each of its models and receives the one asked for', async () => {
    const served = new Map<string, Set<string>>();
    for (const model of ['llama-3-8b', 'qwen-2.5-7b', 'mistral-7b']) {
      const providers = new Set<string>();
      for (let index = 0; index < 9; index++) {
        const answer = await chat(gateway, { model });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.model, model, 'the answer names the model served');
        assert.match(answer.body.choices?.[0]?.message.content ?? '', new RegExp(` ${model} heard:`), 'the provider was sent that model');
        providers.add(answer.provider ?? '');
      }
      served.set(model, providers);
    }
    const addresses = (...names: string[]): Set<string> => new Set(names.map((name) => named(name).address));
    assert.deepEqual(served.get('llama-3-8b'), addresses('llama-a', 'llama-b'));
    assert.deepEqual(served.get('qwen-2.5-7b'), addresses('qwen-a', 'qwen-cheap', 'multi'));
    assert.deepEqual(served.get('mistral-7b'), addresses('multi', 'mistral-a'));
    assert.equal(named('multi').stats.unknownModel, 0, 'the multi-model provider never got a model it does not serve');
  });

  test('an unknown model is 404 model_not_found; a request without a model, with several served, is 400', async () => {
    const unknown = await chat(gateway, { model: 'no-such-model' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error?.code, 'model_not_found');
    assert.equal(unknown.body.error?.param, 'model');
    assert.ok(!JSON.stringify(unknown.body).includes('0x'), 'names no provider');
    const none = await chat(gateway, {});
    assert.equal(none.status, 400);
    assert.equal(none.body.error?.param, 'model');
  });

  test('aliases resolve (a hidden one too) and /v1/models lists groups with counts, prices per million tokens and context length', async () => {
    assert.equal((await chat(gateway, { model: 'gpt-4o-mini' })).body.model, 'qwen-2.5-7b');
    assert.equal((await chat(gateway, { model: 'internal-llama' })).body.model, 'llama-3-8b');
    const list = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string; providers: number; healthy_providers: number; pricing: { prompt: { min: string; max: string } } | null; verifiability: string[]; context_length: number | null; alias_of?: string }> };
    const ids = list.data.map((model) => model.id);
    assert.deepEqual(ids, ['gpt-4o-mini', 'llama-3-8b', 'mistral-7b', 'qwen-2.5-7b']);
    const qwen = list.data.find((model) => model.id === 'qwen-2.5-7b');
    assert.equal(qwen?.providers, 3);
    assert.equal(qwen?.healthy_providers, 3);
    assert.deepEqual(qwen?.pricing?.prompt, { min: '0.001', max: '0.007' }, '1 gwei per token = 0.001 0G per million tokens');
    assert.deepEqual(qwen?.verifiability, ['TeeML']);
    assert.equal(list.data.find((model) => model.id === 'mistral-7b')?.context_length, 32_768);
    assert.equal(list.data.find((model) => model.id === 'gpt-4o-mini')?.alias_of, 'qwen-2.5-7b');
    const one = await fetch(`${gateway.url}/v1/models/mistral-7b`);
    assert.equal(((await one.json()) as { providers: number }).providers, 2);
    assert.equal((await fetch(`${gateway.url}/v1/models/internal-llama`)).status, 404, 'a hidden alias is not listed');
  });

  test('the cost header is usage × the serving provider\'s on-chain price for that model', async () => {
    for (const model of ['qwen-2.5-7b', 'mistral-7b']) {
      for (let index = 0; index < 4; index++) {
        const answer = await chat(gateway, { model });
        const provider = devnet.providers.find((candidate) => candidate.address === answer.provider);
        const offer = provider?.models.find((candidate) => candidate.id === model);
        assert.ok(offer && answer.body.usage);
        const expected = BigInt(answer.body.usage.prompt_tokens) * offer.inputPrice + BigInt(answer.body.usage.completion_tokens) * offer.outputPrice;
        assert.equal(answer.headers.get('x-request-cost'), expected.toString());
      }
    }
    const views = ((await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] }).providers;
    assert.ok(views.every((view) => BigInt(view.spendNeuron) > 0n), 'spend totalled per provider');
  });

  test('per-request preferences: sort by price, only, ignore, max_price, require_verifiable, and their errors', async () => {
    const cheapest = await chat(gateway, { model: 'qwen-2.5-7b', provider: { sort: 'price' } });
    assert.equal(cheapest.provider, named('qwen-cheap').address);
    assert.match(cheapest.headers.get('x-route-reason') ?? '', /^lowest-price: \d+ neuron/);
    const only = await chat(gateway, { model: 'qwen-2.5-7b', provider: { only: [named('multi').address] } });
    assert.equal(only.provider, named('multi').address);
    for (let index = 0; index < 4; index++) {
      const ignoring = await chat(gateway, { model: 'qwen-2.5-7b', provider: { ignore: [named('qwen-a').address, named('qwen-cheap').address] } });
      assert.equal(ignoring.provider, named('multi').address);
    }
    const capped = await chat(gateway, { model: 'qwen-2.5-7b', provider: { max_price: { prompt: '0.002', completion: 0.002 } } });
    assert.equal(capped.provider, named('qwen-cheap').address, 'only the cheap one is under 2 gwei');
    const tooCheap = await chat(gateway, { model: 'qwen-2.5-7b', provider: { max_price: { prompt: '0.0001' } } });
    assert.equal(tooCheap.status, 404);
    assert.equal(tooCheap.body.error?.code, 'no_matching_provider');
    assert.match(tooCheap.body.error?.message ?? '', /prompt price at most 100000000 neuron\/token/);
    assert.equal((await chat(gateway, { model: 'qwen-2.5-7b', provider: { require_verifiable: true } })).status, 200);
    const malformed = await chat(gateway, { model: 'qwen-2.5-7b', provider: { sort: 'fastest' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error?.param, 'provider.sort');
    const unknownField = await chat(gateway, { model: 'qwen-2.5-7b', provider: { cheapest: true } });
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.body.error?.param, 'provider');
  });

  test('a group whose providers all fail falls back to the next model, and the answer says so', async () => {
    for (const name of ['qwen-a', 'qwen-cheap', 'multi']) await named(name).setFault({ mode: 'http-error', status: 503 });
    try {
      const answer = await chat(gateway, { model: 'qwen-2.5-7b' });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('x-model-fallback'), 'llama-3-8b');
      assert.equal(answer.body.model, 'llama-3-8b');
      assert.ok([named('llama-a').address, named('llama-b').address].includes(answer.provider ?? ''));
    } finally {
      for (const name of ['qwen-a', 'qwen-cheap', 'multi']) await named(name).setFault({ mode: 'none' });
    }
  });

  test('through the openai client, the served model comes back in the body', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'mistral-7b', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(completion.model, 'mistral-7b');
    const models = await openai.models.list();
    assert.ok(models.data.some((model) => model.id === 'llama-3-8b'));
  });
});

describe('lowest-price and trust-aware routing', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  before(async () => {
    devnet = await startLocalDevnet({
      providers: [
        { name: 'dear', model: 'm', inputPrice: 9n * GWEI, outputPrice: 9n * GWEI },
        { name: 'cheap', model: 'm', inputPrice: 1n * GWEI, outputPrice: 1n * GWEI },
        { name: 'middle', model: 'm', inputPrice: 5n * GWEI, outputPrice: 5n * GWEI },
      ],
    });
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'lowest-price', healthCheckInterval: 3_600_000, verifySampleRate: 1 }));
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('lowest-price sends everything to the cheapest healthy provider and moves when it fails', async () => {
    const [dear, cheap, middle] = devnet.providers as [DevnetProvider, DevnetProvider, DevnetProvider];
    for (let index = 0; index < 5; index++) assert.equal((await chat(gateway, { model: 'm' })).provider, cheap.address);
    await cheap.setFault({ mode: 'down' });
    try {
      for (let index = 0; index < 5; index++) assert.equal((await chat(gateway, { model: 'm' })).provider, middle.address);
    } finally {
      await cheap.setFault({ mode: 'none' });
    }
    assert.equal(dear.stats.chatRequests, 0);
  });

  test('a provider whose answer fails verification is ejected after its first sampled failure, says why, and readmit brings it back', async () => {
    const middle = devnet.providers[2] as DevnetProvider;
    await middle.setFault({ mode: 'bad-signature' });
    // `cheap` is preferred; ignoring it sends the request to `middle`, whose answer is then verified (sample rate 1).
    const forged = await chat(gateway, { model: 'm', provider: { ignore: [devnet.providers[1]?.address] } });
    assert.equal(forged.provider, middle.address);
    assert.ok(await waitFor(async () => {
      const view = ((await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] }).providers.find((entry) => entry.id === middle.address);
      return view?.trust.state === 'untrusted';
    }, 5000), 'ejected');
    const view = ((await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] }).providers.find((entry) => entry.id === middle.address);
    assert.match(view?.outOfRotationReason ?? '', /trust: answer chatcmpl-\S+ failed verification/);
    assert.equal(view?.verification.failed, 1);
    const requestsBefore = middle.stats.chatRequests;
    for (let index = 0; index < 4; index++) {
      const answer = await chat(gateway, { model: 'm', provider: { ignore: [devnet.providers[1]?.address] } });
      assert.equal(answer.provider, devnet.providers[0]?.address, 'the untrusted provider gets no more traffic');
    }
    assert.equal(middle.stats.chatRequests, requestsBefore);
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as { loadBalancer: { providers: Array<{ address: string; trust: string }> } };
    assert.equal(health.loadBalancer.providers.find((provider) => provider.address === middle.address)?.trust, 'untrusted');
    await middle.setFault({ mode: 'none' });
    const readmit = await fetch(`${gateway.url}/admin/providers/${middle.address}/readmit`, asAdmin(gateway, { method: 'POST' }));
    assert.equal(readmit.status, 200);
    assert.equal((await chat(gateway, { model: 'm', provider: { ignore: [devnet.providers[1]?.address, devnet.providers[0]?.address] } })).provider, middle.address);
  });
});
