import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { adminBillingSchema, runMultiProviderInferenceServer, type BillingView, type GatewayHandle, type KeyView } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { asAdmin } from '../helpers/admin-fetch.js';
import { devnetGatewayOptions, devnetProviderAt } from '../helpers/devnet-gateway.js';
import { makeForm, makeWav } from '../helpers/media-files.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
/** The upload limit of this gateway: small, so a test can pass it. */
const MAX_UPLOAD = 256 * 1024;

describe('POST /v1/audio/transcriptions on the devnet: multipart relayed byte for byte to speech-to-text providers only, billed by billable seconds once, verified', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  let earA: DevnetProvider;
  let earB: DevnetProvider;
  let talker: DevnetProvider;
  let openai: OpenAI;
  const fees = new Map<string, bigint>();
  const charge = (provider: DevnetProvider, fee: bigint): void => void fees.set(provider.address, (fees.get(provider.address) ?? 0n) + fee);

  const providerAt = (address: string | null): DevnetProvider => devnetProviderAt(devnet, address);
  const verify = async (id: string): Promise<{ isValid?: boolean; chatId?: string }> => {
    const response = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    assert.equal(response.status, 200);
    return (await response.json()) as { isValid?: boolean };
  };
  /** What the provider signed for an answer (`sha256(request):sha256(response)`). */
  const signedText = async (provider: DevnetProvider, id: string): Promise<string> => {
    const response = await fetch(`${provider.url}/v1/proxy/signature/${id}?model=zg-devnet-whisper`);
    return ((await response.json()) as { text: string }).text;
  };
  const postForm = async (form: { body: Buffer; contentType: string }, path = '/v1/audio/transcriptions') => {
    const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': form.contentType }, body: form.body });
    return { response, bytes: Buffer.from(await response.arrayBuffer()) };
  };

  before(async () => {
    devnet = await startLocalDevnet({
      providers: [
        { name: 'ear-a', serviceType: 'speech-to-text' },
        { name: 'ear-b', serviceType: 'speech-to-text' },
        { name: 'talker', model: 'zg-devnet-whisper' },
      ],
    });
    [earA, earB, talker] = devnet.providers as [DevnetProvider, DevnetProvider, DevnetProvider];
    gateway = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, {
        verifySampleRate: 1,
        autoFundingInterval: 3_600_000,
        healthCheckInterval: 3_600_000,
        modelAliases: { whisper: 'zg-devnet-whisper' },
        limits: { maxUploadBytes: MAX_UPLOAD },
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('openai audio.transcriptions.create with a real 2.5 s WAV: the text, X-Request-Cost = round(2.5) = 3 s × price, the answer verifies', async () => {
    const wav = makeWav(2.5);
    const { data, response } = await openai.audio.transcriptions.create({ model: 'zg-devnet-whisper', file: await toFile(wav, 'tone.wav', { type: 'audio/wav' }), language: 'en' }).withResponse();
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.equal(provider.serviceType, 'speech-to-text');
    assert.equal(data.text, `[${provider.name}] zg-devnet-whisper heard 2.500 seconds of WAV in en.`);
    assert.equal(response.headers.get('x-request-cost'), (3n * provider.inputPrice).toString());
    charge(provider, 3n * provider.inputPrice);
    const id = response.headers.get('x-response-id');
    assert.ok(id);
    assert.deepEqual(await verify(id), { id, isValid: true, provider: provider.address, chatId: id, model: 'zg-devnet-whisper', verifiable: true });
  });

  test('a 0.3 s WAV bills the 1 s floor; verbose_json is relayed as the provider wrote it', async () => {
    const form = makeForm([
      { name: 'model', value: 'zg-devnet-whisper' },
      { name: 'response_format', value: 'verbose_json' },
      { name: 'file', filename: 'short.wav', contentType: 'audio/wav', data: makeWav(0.3) },
    ]);
    const { response, bytes } = await postForm(form);
    assert.equal(response.status, 200);
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.equal(response.headers.get('x-request-cost'), provider.inputPrice.toString());
    charge(provider, provider.inputPrice);
    const body = JSON.parse(bytes.toString('utf8')) as { duration: number; usage: { type: string; seconds: number } };
    assert.deepEqual([body.duration, body.usage], [0.3, { type: 'duration', seconds: 0.3 }]);
    const id = response.headers.get('x-response-id') ?? '';
    assert.equal(await signedText(provider, id), `${sha256(form.body)}:${sha256(bytes)}`, 'the provider got the form byte for byte, the client its answer byte for byte');
  });

  test('the model field after the file is found; a model alias rewrites only the model part (the provider gets a valid form and bills it)', async () => {
    const after = makeForm([
      { name: 'file', filename: 'late.wav', contentType: 'audio/wav', data: makeWav(1.2) },
      { name: 'model', value: 'zg-devnet-whisper' },
    ]);
    const late = await postForm(after);
    assert.equal(late.response.status, 200);
    const lateProvider = providerAt(late.response.headers.get('x-provider-address'));
    assert.equal(late.response.headers.get('x-request-cost'), lateProvider.inputPrice.toString());
    charge(lateProvider, lateProvider.inputPrice);
    assert.match(JSON.parse(late.bytes.toString('utf8')).text as string, /heard 1\.200 seconds of WAV/);

    const aliased = makeForm([
      { name: 'model', value: 'whisper' },
      { name: 'prompt', value: 'a tone' },
      { name: 'file', filename: 'alias.wav', contentType: 'audio/wav', data: makeWav(2) },
    ]);
    const answer = await postForm(aliased);
    assert.equal(answer.response.status, 200, answer.bytes.toString());
    const provider = providerAt(answer.response.headers.get('x-provider-address'));
    charge(provider, 2n * provider.inputPrice);
    assert.match(JSON.parse(answer.bytes.toString('utf8')).text as string, /zg-devnet-whisper heard 2\.000 seconds of WAV/);
    const id = answer.response.headers.get('x-response-id') ?? '';
    assert.equal((await verify(id)).isValid, true);
    assert.notEqual((await signedText(provider, id)).split(':')[0], sha256(aliased.body), 'the provider got a rewritten form, not the alias');
  });

  test('response_format text of a real 2.5 s WAV: relayed as text/plain; it carries no usage, so the gateway bills the WAV\'s measured duration, round(2.5) = 3 s × price, as the provider does', async () => {
    const form = makeForm([
      { name: 'model', value: 'zg-devnet-whisper' },
      { name: 'response_format', value: 'text' },
      { name: 'file', filename: 'plain.wav', contentType: 'audio/wav', data: makeWav(2.5) },
    ]);
    const { response, bytes } = await postForm(form);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const provider = providerAt(response.headers.get('x-provider-address'));
    assert.equal(bytes.toString('utf8'), `[${provider.name}] zg-devnet-whisper heard 2.500 seconds of WAV.\n`);
    assert.equal(response.headers.get('x-request-cost'), (3n * provider.inputPrice).toString());
    // Counted in the gateway's books below: billing served = SDK fee cache = what the provider is owed.
    charge(provider, 3n * provider.inputPrice);
  });

  test('malformed forms are 400 naming the part; a missing file names `file`; JSON is 415; a form cut short is 400', async () => {
    const complete = makeForm([
      { name: 'model', value: 'zg-devnet-whisper' },
      { name: 'file', filename: 'cut.wav', contentType: 'audio/wav', data: makeWav(1) },
    ]);
    const cut = await postForm({ body: complete.body.subarray(0, complete.body.length - 3000), contentType: complete.contentType });
    assert.equal(cut.response.status, 400);
    const cutError = JSON.parse(cut.bytes.toString('utf8')) as { error: { code: string; param: string; message: string } };
    assert.deepEqual([cutError.error.code, cutError.error.param], ['invalid_request', 'file']);
    assert.match(cutError.error.message, /Malformed multipart form \(part `file`\)/);

    const noFile = await postForm(makeForm([{ name: 'model', value: 'zg-devnet-whisper' }]));
    assert.equal(noFile.response.status, 400);
    assert.equal((JSON.parse(noFile.bytes.toString('utf8')) as { error: { param: string } }).error.param, 'file');

    const noModel = await postForm(makeForm([{ name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: makeWav(0.5) }]));
    assert.equal(noModel.response.status, 400);
    assert.equal((JSON.parse(noModel.bytes.toString('utf8')) as { error: { param: string } }).error.param, 'model');

    const json = await fetch(`${gateway.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"zg-devnet-whisper"}' });
    assert.equal(json.status, 415);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, 'unsupported_media_type');
  });

  test('uploads past limits.maxUploadBytes: 413 naming the limit, announced (Content-Length) or counted as a chunked body streams in (reading stops: the client gets the 413 while still sending)', async () => {
    const big = makeForm([
      { name: 'model', value: 'zg-devnet-whisper' },
      { name: 'file', filename: 'big.wav', contentType: 'audio/wav', data: makeWav(20) },
    ]);
    assert.ok(big.body.length > MAX_UPLOAD);
    const announced = await postForm(big);
    assert.equal(announced.response.status, 413);
    const error = JSON.parse(announced.bytes.toString('utf8')) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'body_too_large');
    assert.match(error.error.message, new RegExp(`${MAX_UPLOAD} bytes; limits\\.maxUploadBytes`));

    // Chunked (no Content-Length): 16 KiB every 5 ms, up to 4 MiB, until the answer comes.
    const url = new URL(`${gateway.url}/v1/audio/transcriptions`);
    const outcome = await new Promise<{ status: number; sent: number; body: string }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': big.contentType, 'transfer-encoding': 'chunked' } }, (response) => {
        answered = true;
        const pieces: Buffer[] = [];
        response.on('data', (piece: Buffer) => pieces.push(piece));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, sent, body: Buffer.concat(pieces).toString('utf8') }));
      });
      request.on('error', (failure) => (answered ? undefined : reject(failure)));
      const piece = Buffer.alloc(16 * 1024, 7);
      request.write(big.body.subarray(0, 1024));
      const timer = setInterval(() => {
        if (answered || sent > 4 * 1024 * 1024) {
          clearInterval(timer);
          request.end();
          return;
        }
        sent += piece.length;
        request.write(piece);
      }, 5);
    });
    assert.equal(outcome.status, 413, outcome.body);
    assert.ok(outcome.sent < 2 * MAX_UPLOAD, `the 413 came while the client was still sending (after ${outcome.sent} bytes)`);
    assert.equal(earA.stats.mediaRequests + earB.stats.mediaRequests > 0, true);
  });

  test('the chat provider offering the same model id never receives a transcription; each fee recorded once (billing = SDK fee cache = provider)', async () => {
    for (let index = 0; index < 4; index++) {
      const { response } = await openai.audio.transcriptions.create({ model: 'zg-devnet-whisper', file: await toFile(makeWav(0.6 + index), `t${index}.wav`, { type: 'audio/wav' }) }).withResponse();
      const provider = providerAt(response.headers.get('x-provider-address'));
      const seconds = BigInt(Math.max(Math.round(0.6 + index), 1));
      assert.equal(response.headers.get('x-request-cost'), (seconds * provider.inputPrice).toString());
      charge(provider, seconds * provider.inputPrice);
    }
    assert.equal(talker.stats.mediaRequests + talker.stats.chatRequests, 0, 'the chat provider was sent nothing');
    assert.ok(earA.stats.served > 0 && earB.stats.served > 0, 'both speech providers served (positive control)');
    await gateway.gateway.trust.idle();
    const view = adminBillingSchema.parse(await (await fetch(`${gateway.url}/admin/billing`, asAdmin(gateway))).json()) as BillingView;
    for (const provider of [earA, earB]) {
      const expected = fees.get(provider.address) ?? 0n;
      const entry = view.providers.find((account) => account.provider.toLowerCase() === provider.address.toLowerCase());
      assert.ok(entry && expected > 0n);
      assert.equal(entry.served, expected.toString(), `${provider.name}: served fee`);
      assert.equal(entry.sdkFeeCache, expected.toString(), `${provider.name}: SDK fee cache`);
      assert.equal(provider.unsettledFee(devnet.userAddress), expected, `${provider.name}: what it is owed (the text answer included) = what the gateway served`);
    }
  });

  test('a keyed gateway: a text transcription of a 2.5 s WAV is charged to its key once (3 s × price), its served fee is what the provider is newly owed; a non-WAV text answer records no fee', async () => {
    const key = 'zgk-speech-0123456789abcdef';
    const keyed = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, { autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000, apiKeys: [{ id: 'ears', key }] }),
    );
    try {
      const owedBefore = new Map([earA, earB].map((provider) => [provider.address, provider.unsettledFee(devnet.userAddress)]));
      const form = makeForm([{ name: 'model', value: 'zg-devnet-whisper' }, { name: 'response_format', value: 'text' }, { name: 'file', filename: 'k.wav', contentType: 'audio/wav', data: makeWav(2.5) }]);
      const response = await fetch(`${keyed.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': form.contentType, authorization: `Bearer ${key}` }, body: form.body });
      assert.equal(response.status, 200, await response.clone().text());
      await response.arrayBuffer();
      const provider = providerAt(response.headers.get('x-provider-address'));
      const fee = 3n * provider.inputPrice;
      assert.equal(response.headers.get('x-request-cost'), fee.toString());
      // Not a WAV (an MP3 frame header): the provider bills it by size, the gateway cannot measure it and records nothing.
      const mp3 = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(4000, 1)]);
      const other = makeForm([{ name: 'model', value: 'zg-devnet-whisper' }, { name: 'response_format', value: 'text' }, { name: 'file', filename: 'k.mp3', contentType: 'audio/mpeg', data: mp3 }]);
      const unmeasured = await fetch(`${keyed.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': other.contentType, authorization: `Bearer ${key}` }, body: other.body });
      assert.equal(unmeasured.status, 200);
      await unmeasured.arrayBuffer();
      assert.equal(unmeasured.headers.get('x-request-cost'), null);
      const unmeasuredBy = providerAt(unmeasured.headers.get('x-provider-address'));
      const keys = ((await (await fetch(`${keyed.url}/admin/keys`, asAdmin(keyed))).json()) as { keys: KeyView[] }).keys;
      assert.equal(keys.find((entry) => entry.id === 'ears')?.spend.totalNeuron, fee.toString(), 'the key is charged the measured fee, once');
      await keyed.gateway.trust.idle();
      const view = adminBillingSchema.parse(await (await fetch(`${keyed.url}/admin/billing`, asAdmin(keyed))).json()) as BillingView;
      const entry = view.providers.find((account) => account.provider.toLowerCase() === provider.address.toLowerCase());
      assert.ok(entry);
      assert.equal(entry.served, fee.toString(), 'billing: served');
      assert.equal(entry.sdkFeeCache, fee.toString(), 'billing: the SDK fee cache equals the provider\'s fee');
      const unmeasuredFee = BigInt(Math.max(Math.round(mp3.length / 16_000), 1)) * unmeasuredBy.inputPrice;
      for (const each of [earA, earB]) {
        const newlyOwed = each.unsettledFee(devnet.userAddress) - (owedBefore.get(each.address) ?? 0n);
        const served = (each === provider ? fee : 0n) + (each === unmeasuredBy ? unmeasuredFee : 0n);
        assert.equal(newlyOwed, served, `${each.name}: newly owed = served by the WAV's duration (+ the unmeasured non-WAV answer, which the gateway leaves out)`);
      }
    } finally {
      await keyed.close();
    }
  });
});
