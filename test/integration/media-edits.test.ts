import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { adminBillingSchema, runMultiProviderInferenceServer, type BillingView, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { asAdmin } from '../helpers/admin-fetch.js';
import { devnetGatewayOptions, devnetProviderAt } from '../helpers/devnet-gateway.js';
import { makeForm, makePng } from '../helpers/media-files.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MODEL = 'zg-devnet-image-edit';

describe('POST /v1/images/edits on the devnet: a real PNG edited by image-editing providers only, replayed byte for byte on failover, billed n × price once, verified', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  let editorA: DevnetProvider;
  let editorB: DevnetProvider;
  /** A text-to-image provider registered with the edit model's id: it must never be sent an edit. */
  let painter: DevnetProvider;
  let openai: OpenAI;
  const fees = new Map<string, bigint>();
  const charge = (provider: DevnetProvider, fee: bigint): void => void fees.set(provider.address, (fees.get(provider.address) ?? 0n) + fee);
  const providerAt = (address: string | null): DevnetProvider => devnetProviderAt(devnet, address);

  before(async () => {
    devnet = await startLocalDevnet({
      providers: [
        { name: 'editor-a', serviceType: 'image-editing' },
        { name: 'editor-b', serviceType: 'image-editing' },
        { name: 'painter', serviceType: 'text-to-image', model: MODEL },
      ],
    });
    [editorA, editorB, painter] = devnet.providers as [DevnetProvider, DevnetProvider, DevnetProvider];
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { verifySampleRate: 1, autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000 }));
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('openai images.edit with a real PNG (n = 2, b64_json): two PNGs of its size, X-Request-Cost = 2 × the price per image, the answer verifies', async () => {
    const png = makePng(8, 8);
    const { data, response } = await openai.images.edit({ model: MODEL, image: await toFile(png, 'in.png', { type: 'image/png' }), prompt: 'invert it', n: 2, response_format: 'b64_json' }).withResponse();
    assert.equal(data.data?.length, 2);
    for (const image of data.data ?? []) {
      const bytes = Buffer.from(image.b64_json ?? '', 'base64');
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);
      assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [8, 8], 'the edited image has the input size');
    }
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.equal(provider.serviceType, 'image-editing');
    assert.equal(response.headers.get('x-request-cost'), (2n * provider.inputPrice).toString());
    charge(provider, 2n * provider.inputPrice);
    const id = response.headers.get('x-response-id') ?? '';
    const verdict = (await (await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) })).json()) as { isValid: boolean };
    assert.equal(verdict.isValid, true);
  });

  test('a failing editor is replaced: the second provider gets the same form byte for byte (its signed request hash is the client form\'s)', async () => {
    const form = makeForm([
      { name: 'image', filename: 'in.png', contentType: 'image/png', data: makePng(4, 4) },
      { name: 'mask', filename: 'mask.png', contentType: 'image/png', data: makePng(4, 4) },
      { name: 'prompt', value: 'replay me' },
      { name: 'model', value: MODEL },
      { name: 'response_format', value: 'b64_json' },
    ]);
    await editorA.setFault({ mode: 'http-error', status: 503 });
    await editorB.setFault({ mode: 'none' });
    try {
      const before = editorA.stats.mediaRequests;
      for (let index = 0; index < 4; index++) {
        const response = await fetch(`${gateway.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': form.contentType }, body: form.body });
        assert.equal(response.status, 200);
        await response.arrayBuffer();
        assert.equal(response.headers.get('x-provider-address')?.toLowerCase(), editorB.address.toLowerCase());
        charge(editorB, editorB.inputPrice);
        const id = response.headers.get('x-response-id') ?? '';
        const signed = (await (await fetch(`${editorB.url}/v1/proxy/signature/${id}?model=${MODEL}`)).json()) as { text: string };
        assert.equal(signed.text.split(':')[0], sha256(form.body));
      }
      assert.ok(editorA.stats.mediaRequests > before, 'the failing editor was tried first at least once (positive control)');
    } finally {
      await editorA.setFault({ mode: 'none' });
    }
  });

  test('bad forms: no image is 400 naming `image`, n out of range is 400 naming `n`; the text-to-image provider with the same model id was never sent an edit; fees once', async () => {
    const noImage = await fetch(`${gateway.url}/v1/images/edits`, { method: 'POST', body: (() => { const data = new FormData(); data.set('model', MODEL); data.set('prompt', 'x'); return data; })() });
    assert.equal(noImage.status, 400);
    assert.equal(((await noImage.json()) as { error: { param: string } }).error.param, 'image');
    const badN = makeForm([
      { name: 'image', filename: 'in.png', contentType: 'image/png', data: makePng(2, 2) },
      { name: 'prompt', value: 'x' },
      { name: 'model', value: MODEL },
      { name: 'n', value: '11' },
    ]);
    const tooMany = await fetch(`${gateway.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': badN.contentType }, body: badN.body });
    assert.equal(tooMany.status, 400);
    assert.equal(((await tooMany.json()) as { error: { param: string } }).error.param, 'n');
    assert.equal(painter.stats.mediaRequests, 0, 'the text-to-image provider was never sent an edit');

    await gateway.gateway.trust.idle();
    const view = adminBillingSchema.parse(await (await fetch(`${gateway.url}/admin/billing`, asAdmin(gateway))).json()) as BillingView;
    for (const provider of [editorA, editorB]) {
      const expected = fees.get(provider.address) ?? 0n;
      const entry = view.providers.find((account) => account.provider.toLowerCase() === provider.address.toLowerCase());
      if (expected === 0n) continue;
      assert.ok(entry);
      assert.equal(entry.served, expected.toString(), `${provider.name}: served fee`);
      assert.equal(entry.sdkFeeCache, expected.toString(), `${provider.name}: SDK fee cache`);
      assert.equal(provider.unsettledFee(devnet.userAddress), expected, `${provider.name}: what it is owed`);
    }
    assert.ok((fees.get(editorB.address) ?? 0n) > 0n);
  });
});
