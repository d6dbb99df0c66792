import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { adminBillingSchema, runMultiProviderInferenceServer, type BillingView, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { asAdmin } from '../helpers/admin-fetch.js';
import { devnetGatewayOptions, devnetProviderAt } from '../helpers/devnet-gateway.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('POST /v1/images/generations on the devnet: placed on text-to-image providers only, billed n × price once, verified', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  let painterA: DevnetProvider;
  let painterB: DevnetProvider;
  /** A chat provider whose model has the image model's id: it must never be sent an images request. */
  let impostor: DevnetProvider;
  let openai: OpenAI;
  const fees = new Map<string, bigint>();
  /** What the one chat (to the chat provider offering `zg-devnet-image`) cost: it shares the model label in metrics. */
  let chatCost = 0n;

  const providerAt = (address: string | null): DevnetProvider => devnetProviderAt(devnet, address);
  const verify = async (id: string): Promise<{ status: number; body: { isValid?: boolean; chatId?: string; provider?: string } }> => {
    const response = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    return { status: response.status, body: (await response.json()) as { isValid?: boolean } };
  };

  before(async () => {
    devnet = await startLocalDevnet({
      providers: [
        { name: 'painter-a', serviceType: 'text-to-image', model: 'zg-devnet-image' },
        { name: 'painter-b', serviceType: 'text-to-image', model: 'zg-devnet-image' },
        { name: 'impostor', model: 'zg-devnet-image' },
        { name: 'talker' },
      ],
    });
    [painterA, painterB, impostor] = devnet.providers as [DevnetProvider, DevnetProvider, DevnetProvider];
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { verifySampleRate: 1, autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000 }));
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('openai images.generate (n = 3, b64_json): three PNGs, X-Request-Cost = 3 × the price per image, the answer verifies', async () => {
    const { data, response } = await openai.images.generate({ model: 'zg-devnet-image', prompt: 'a lighthouse at dusk', n: 3, response_format: 'b64_json' }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.data?.length, 3);
    for (const image of data.data ?? []) assert.deepEqual(Buffer.from(image.b64_json ?? '', 'base64').subarray(0, 8), PNG_SIGNATURE);
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.equal(provider.serviceType, 'text-to-image');
    const fee = 3n * provider.inputPrice;
    assert.equal(response.headers.get('x-request-cost'), fee.toString());
    fees.set(provider.address, (fees.get(provider.address) ?? 0n) + fee);
    const id = response.headers.get('x-response-id');
    assert.ok(id, 'the answer names the id /v1/verify takes');
    const verdict = await verify(id);
    assert.equal(verdict.status, 200);
    assert.equal(verdict.body.isValid, true);
    assert.equal(verdict.body.chatId, id);
  });

  test('the answer is relayed byte for byte (URL answers too), n absent bills one image', async () => {
    const response = await fetch(`${gateway.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'zg-devnet-image', prompt: 'a fox' }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { created: number; data: Array<{ url: string; revised_prompt: string }> };
    assert.equal(body.data.length, 1);
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.ok(body.data[0]?.url.startsWith(provider.url), 'the URL points at the provider that made it');
    assert.match(body.data[0]?.revised_prompt ?? '', new RegExp(`^\\[${provider.name}\\] zg-devnet-image: a fox$`));
    assert.equal(response.headers.get('x-request-cost'), provider.inputPrice.toString());
    fees.set(provider.address, (fees.get(provider.address) ?? 0n) + provider.inputPrice);
  });

  test('a provider of the wrong type never receives: the chat provider offering the same model id gets no images request, the image providers no chat', async () => {
    for (let index = 0; index < 6; index++) {
      const { response } = await openai.images.generate({ model: 'zg-devnet-image', prompt: `picture ${index}`, n: 2, response_format: 'b64_json' }).withResponse();
      const provider = providerAt(response.headers.get('x-provider-address'));
      fees.set(provider.address, (fees.get(provider.address) ?? 0n) + 2n * provider.inputPrice);
    }
    const chat = await openai.chat.completions.create({ model: 'zg-devnet-image', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    assert.equal(chat.response.headers.get('x-provider-address')?.toLowerCase(), impostor.address.toLowerCase());
    chatCost = BigInt(chat.response.headers.get('x-request-cost') ?? '0');
    assert.ok(chatCost > 0n);
    assert.equal(impostor.stats.mediaRequests, 0, 'the chat provider was never sent an images request');
    assert.equal(painterA.stats.chatRequests + painterB.stats.chatRequests, 0, 'the image providers were never sent a chat');
    assert.ok(painterA.stats.mediaRequests > 0 && painterB.stats.mediaRequests > 0, 'both image providers served (positive control)');
  });

  test('a failing image provider is replaced before the client sees anything', async () => {
    await painterA.setFault({ mode: 'malformed' });
    try {
      for (let index = 0; index < 3; index++) {
        const { response } = await openai.images.generate({ model: 'zg-devnet-image', prompt: `retry ${index}`, response_format: 'b64_json' }).withResponse();
        assert.equal(response.headers.get('x-provider-address')?.toLowerCase(), painterB.address.toLowerCase());
        fees.set(painterB.address, (fees.get(painterB.address) ?? 0n) + painterB.inputPrice);
      }
    } finally {
      await painterA.setFault({ mode: 'none' });
    }
  });

  test('each fee recorded once: /admin/billing served = SDK fee cache = what each provider says it is owed = Σ n × price', async () => {
    await gateway.gateway.trust.idle();
    const view = adminBillingSchema.parse(await (await fetch(`${gateway.url}/admin/billing`, asAdmin(gateway))).json()) as BillingView;
    const accounts = view.providers;
    for (const provider of [painterA, painterB]) {
      const expected = fees.get(provider.address) ?? 0n;
      assert.ok(expected > 0n);
      const entry = accounts.find((account) => account.provider.toLowerCase() === provider.address.toLowerCase());
      assert.ok(entry, `${provider.name} in /admin/billing`);
      assert.equal(entry.served, expected.toString(), `${provider.name}: served fee`);
      assert.equal(entry.sdkFeeCache, expected.toString(), `${provider.name}: the SDK fee cache grew once per answer (verifications add nothing)`);
      assert.equal(provider.unsettledFee(devnet.userAddress), expected, `${provider.name} agrees on what it is owed`);
    }
    const metrics = await (await fetch(`${gateway.url}/metrics`, asAdmin(gateway))).text();
    const spend = [...metrics.matchAll(/^zg_gateway_spend_neuron_total\{[^}]*model="zg-devnet-image"[^}]*\} (\S+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    assert.equal(spend, Number((fees.get(painterA.address) ?? 0n) + (fees.get(painterB.address) ?? 0n) + chatCost), 'zg_gateway_spend_neuron_total counts each image fee (and the one chat) once');
  });

  test('OpenAI-style errors: no prompt is 400 naming it; a chat model asked for images is 404 naming the type; a JSON body is required', async () => {
    const post = async (body: unknown, contentType = 'application/json') =>
      fetch(`${gateway.url}/v1/images/generations`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const missing = await post({ model: 'zg-devnet-image' });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: { param: string } }).error.param, 'prompt');
    const chatModel = await post({ model: devnet.providers[3]?.model, prompt: 'x' });
    assert.equal(chatModel.status, 404);
    assert.match(((await chatModel.json()) as { error: { message: string } }).error.message, /as a text-to-image model \(it is served as a chat model\)/);
    const form = await post('prompt=x', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
  });
});
