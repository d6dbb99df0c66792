import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { DevnetError, gatewayOptionsForDevnet, startLocalDevnet, type DevnetProvider, type LocalDevnet, type ServiceType } from 'zg-devnet';
import { authorizationFor, InferenceReader } from './helpers/direct-client.js';
import { makeMaskPng, makeRgbPng, makeWav, PNG_SIGNATURE, readPng, rgbaPixelsOfUnfiltered } from './helpers/media-files.js';
import { startDevnetWithAccounts, type SdkUser } from './helpers/sdk-user.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** The SDK's own fee rule for a provider: the extractor `createExtractor` picks from the on-chain service type, then `calculateFee`. */
interface SdkFeeRule {
  getExtractor(provider: string): Promise<unknown>;
  calculateFee(extractor: unknown, content: string): Promise<bigint>;
}

/** A request as the SDK documents it: `getServiceMetadata`'s endpoint, `getRequestHeaders`, then plain HTTP. */
interface SentRequest {
  response: Response;
  /** The exact request body bytes sent. */
  body: Buffer;
}

interface ImagesBody {
  created: number;
  data: Array<{ b64_json?: string; url?: string; revised_prompt?: string }>;
}

interface SignatureBody {
  text: string;
  signature: string;
  signing_address: string;
}

describe('providers of every service type', () => {
  let devnet: LocalDevnet;
  let user: SdkUser;
  let close: () => Promise<void>;
  let wallet: Wallet;
  const byType = (type: ServiceType): DevnetProvider => {
    const found = devnet.providers.find((provider) => provider.serviceType === type);
    assert.ok(found, type);
    return found;
  };
  const sdkFee = async (provider: DevnetProvider, content: string): Promise<bigint> => {
    const rule = user.broker.inference.responseProcessor as unknown as SdkFeeRule;
    return rule.calculateFee(await rule.getExtractor(provider.address), content);
  };
  const processResponse = (provider: DevnetProvider, chatId: string, content: string): Promise<boolean | null> => user.broker.inference.processResponse(provider.address, chatId, content);

  /** POSTs `body` (JSON object, or a FormData serialized to its exact bytes) to `<endpoint><path>` with the SDK's headers. */
  const send = async (provider: DevnetProvider, path: string, body: Record<string, unknown> | FormData, authorization?: string): Promise<SentRequest> => {
    const { endpoint } = await user.broker.inference.getServiceMetadata(provider.address);
    const headers = authorization !== undefined ? { authorization } : ((await user.broker.inference.getRequestHeaders(provider.address)) as unknown as Record<string, string>);
    let bytes: Buffer;
    let contentType: string;
    if (body instanceof FormData) {
      const serialized = new Request('http://127.0.0.1/', { method: 'POST', body });
      bytes = Buffer.from(await serialized.arrayBuffer());
      contentType = serialized.headers.get('content-type') ?? '';
    } else {
      bytes = Buffer.from(JSON.stringify(body));
      contentType = 'application/json';
    }
    const response = await fetch(`${endpoint}${path}`, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body: bytes, signal: AbortSignal.timeout(10_000) });
    return { response, body: bytes };
  };
  const signatureOf = async (provider: DevnetProvider, chatId: string): Promise<SignatureBody> => {
    const response = await fetch(`${provider.url}/v1/proxy/signature/${chatId}`);
    assert.equal(response.status, 200);
    return (await response.json()) as SignatureBody;
  };
  const form = (fields: Record<string, string>, files: Record<string, { bytes: Buffer; name: string; type: string }>): FormData => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    for (const [name, file] of Object.entries(files)) data.append(name, new Blob([file.bytes], { type: file.type }), file.name);
    return data;
  };

  before(async () => {
    ({ devnet, user, close } = await startDevnetWithAccounts({ providers: 1, services: ['text-to-image', 'image-editing', 'speech-to-text'] }));
    wallet = new Wallet(devnet.userPrivateKey);
  });
  afterEach(async () => {
    for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
  });
  after(async () => {
    await close?.();
  });

  it('registers each service type on chain with its default model and prices; the SDK picks the matching extractor', async () => {
    const chain = new InferenceReader(devnet);
    assert.deepEqual(
      devnet.providers.map((provider) => [provider.serviceType, provider.model]),
      [
        ['chatbot', 'zg-devnet-chat'],
        ['text-to-image', 'zg-devnet-image'],
        ['image-editing', 'zg-devnet-image-edit'],
        ['speech-to-text', 'zg-devnet-whisper'],
      ],
    );
    for (const provider of devnet.providers) {
      const service = await chain.service(provider.address);
      assert.equal(service.serviceType, provider.serviceType);
      assert.equal(service.model, provider.model);
      assert.equal(service.inputPrice, provider.inputPrice);
      assert.equal(service.teeSignerAcknowledged, true);
    }
    // Image prices are per image, equal as input and output price; speech is per second.
    assert.equal(byType('text-to-image').inputPrice, byType('text-to-image').outputPrice);
    assert.equal(byType('speech-to-text').outputPrice, 0n);
    // The SDK's extractors: images count n (default 1), speech counts billable seconds.
    assert.equal(await sdkFee(byType('text-to-image'), '{}'), byType('text-to-image').inputPrice);
    assert.equal(await sdkFee(byType('speech-to-text'), '{"type":"duration","seconds":1.4}'), byType('speech-to-text').inputPrice);
  });

  it('text-to-image: n deterministic PNGs as b64_json, signed over the request and the image bytes, billed n × inputPrice as the SDK bills', async () => {
    const provider = byType('text-to-image');
    const request = { model: 'zg-devnet-image', prompt: 'a lighthouse at dusk', n: 2, size: '1024x1024', response_format: 'b64_json' };
    const feeBefore = provider.unsettledFee(devnet.userAddress);
    const { response, body } = await send(provider, '/images/generations', request);
    assert.equal(response.status, 200);
    const chatId = response.headers.get('zg-res-key') ?? '';
    assert.match(chatId, /^[0-9a-f-]{36}$/);
    const answer = (await response.json()) as ImagesBody;
    assert.equal(typeof answer.created, 'number');
    assert.equal(answer.data.length, 2);
    const pngs = answer.data.map((item) => Buffer.from(item.b64_json ?? '', 'base64'));
    for (const png of pngs) {
      assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE));
      const facts = readPng(png); // throws on a bad CRC
      assert.deepEqual([facts.width, facts.height, facts.bitDepth, facts.colourType], [16, 16, 8, 6]);
      assert.deepEqual(facts.chunkTypes, ['IHDR', 'IDAT', 'IEND']);
      assert.equal(facts.scanlines.length, (16 * 4 + 1) * 16);
    }
    assert.ok(!pngs[0]?.equals(pngs[1] as Buffer), 'each image of a request differs');
    assert.match(answer.data[0]?.revised_prompt ?? '', /a lighthouse at dusk/);

    // The same prompt gives the same images.
    const again = (await (await send(provider, '/images/generations', request)).response.json()) as ImagesBody;
    assert.deepEqual(again.data.map((item) => item.b64_json), answer.data.map((item) => item.b64_json));

    const signed = await signatureOf(provider, chatId);
    assert.equal(signed.text, `${sha256(body)}:${pngs.map((png) => sha256(png)).join(',')}`);
    assert.equal(signed.signing_address, provider.signerAddress);
    assert.equal(await processResponse(provider, chatId, JSON.stringify(request)), true);

    const expected = 2n * provider.inputPrice;
    assert.equal(await sdkFee(provider, JSON.stringify(request)), expected);
    assert.equal(provider.unsettledFee(devnet.userAddress) - feeBefore, 2n * expected, 'two requests of two images');
  });

  it('text-to-image: URLs (the default format) served by the provider itself, without a token', async () => {
    const provider = byType('text-to-image');
    const { response } = await send(provider, '/images/generations', { prompt: 'three cats', n: 1 });
    assert.equal(response.status, 200);
    const chatId = response.headers.get('zg-res-key') ?? '';
    const answer = (await response.json()) as ImagesBody;
    const url = answer.data[0]?.url ?? '';
    assert.equal(url, `${provider.url}/v1/proxy/images/${chatId}/0`);
    const image = await fetch(url);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    const png = Buffer.from(await image.arrayBuffer());
    assert.equal(readPng(png).width, 16);
    assert.equal((await signatureOf(provider, chatId)).text.split(':')[1], sha256(png), 'the URL serves the signed bytes');
    assert.equal((await fetch(`${provider.url}/v1/proxy/images/${chatId}/1`)).status, 404);
    assert.equal(await processResponse(provider, chatId, JSON.stringify({ prompt: 'three cats', n: 1 })), true);
  });

  it('image-editing: a PNG sent as multipart comes back with its colours inverted, n counted from the form, signed and billed', async () => {
    const provider = byType('image-editing');
    const colour = (x: number, y: number): [number, number, number] => [x * 40, y * 40, 200];
    const png = makeRgbPng(4, 3, colour);
    const fields = { model: 'zg-devnet-image-edit', prompt: 'invert it', n: '3', response_format: 'b64_json' };
    const feeBefore = provider.unsettledFee(devnet.userAddress);
    const { response, body } = await send(provider, '/images/edits', form(fields, { image: { bytes: png, name: 'in.png', type: 'image/png' } }));
    assert.equal(response.status, 200, await response.clone().text());
    const chatId = response.headers.get('zg-res-key') ?? '';
    const answer = (await response.json()) as ImagesBody;
    assert.equal(answer.data.length, 3);
    const edited = Buffer.from(answer.data[0]?.b64_json ?? '', 'base64');
    const facts = readPng(edited);
    assert.deepEqual([facts.width, facts.height], [4, 3]);
    const pixels = rgbaPixelsOfUnfiltered(facts);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        const [r, g, b] = colour(x, y);
        const at = (y * 4 + x) * 4;
        assert.deepEqual([...pixels.subarray(at, at + 4)], [255 - r, 255 - g, 255 - b, 255], `pixel ${x},${y}`);
      }
    }
    assert.equal((await signatureOf(provider, chatId)).text, `${sha256(body)}:${Array(3).fill(sha256(edited)).join(',')}`);
    // The SDK's image-editing extractor reads n from the payload (a string in a form).
    const content = JSON.stringify({ model: fields.model, prompt: fields.prompt, n: fields.n });
    assert.equal(await processResponse(provider, chatId, content), true);
    assert.equal(await sdkFee(provider, content), 3n * provider.inputPrice);
    assert.equal(provider.unsettledFee(devnet.userAddress) - feeBefore, 3n * provider.inputPrice);
  });

  it('image-editing: only where the mask is transparent is edited', async () => {
    const provider = byType('image-editing');
    const png = makeRgbPng(2, 1, () => [10, 20, 30]);
    const mask = makeMaskPng(2, 1, (x) => (x === 0 ? 0 : 255));
    const { response } = await send(
      provider,
      '/images/edits',
      form({ prompt: 'left half only', response_format: 'b64_json' }, { image: { bytes: png, name: 'a.png', type: 'image/png' }, mask: { bytes: mask, name: 'm.png', type: 'image/png' } }),
    );
    assert.equal(response.status, 200);
    const pixels = rgbaPixelsOfUnfiltered(readPng(Buffer.from(((await response.json()) as ImagesBody).data[0]?.b64_json ?? '', 'base64')));
    assert.deepEqual([...pixels], [245, 235, 225, 255, 10, 20, 30, 255]);
  });

  it('speech-to-text: the duration of a WAV made here, usage {type: duration}, billed max(round(s), 1) per second as the SDK bills', async () => {
    const provider = byType('speech-to-text');
    const cases: Array<{ seconds: number; billed: bigint }> = [
      { seconds: 2.6, billed: 3n },
      { seconds: 0.3, billed: 1n },
      { seconds: 4.4, billed: 4n },
    ];
    for (const { seconds, billed } of cases) {
      const feeBefore = provider.unsettledFee(devnet.userAddress);
      const { response, body } = await send(provider, '/audio/transcriptions', form({ model: 'zg-devnet-whisper', language: 'en' }, { file: { bytes: makeWav(seconds), name: 'speech.wav', type: 'audio/wav' } }));
      assert.equal(response.status, 200);
      const chatId = response.headers.get('zg-res-key') ?? '';
      const text = await response.text();
      const answer = JSON.parse(text) as { text: string; usage: { type: string; seconds: number } };
      assert.deepEqual(answer.usage, { type: 'duration', seconds });
      assert.match(answer.text, new RegExp(`heard ${seconds.toFixed(3)} seconds of WAV in en`));
      assert.equal((await signatureOf(provider, chatId)).text, `${sha256(body)}:${sha256(text)}`);
      const content = JSON.stringify(answer.usage);
      assert.equal(await processResponse(provider, chatId, content), true);
      assert.equal(await sdkFee(provider, content), billed * provider.inputPrice);
      assert.equal(provider.unsettledFee(devnet.userAddress) - feeBefore, billed * provider.inputPrice, `${seconds} s`);
    }
  });

  it('speech-to-text: text and verbose_json formats, and audio that is not WAV timed by its size', async () => {
    const provider = byType('speech-to-text');
    const plain = await send(provider, '/audio/transcriptions', form({ response_format: 'text' }, { file: { bytes: makeWav(1), name: 'a.wav', type: 'audio/wav' } }));
    assert.equal(plain.response.status, 200);
    assert.match(plain.response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await plain.response.text(), /heard 1\.000 seconds of WAV\.\n$/);

    const verbose = await send(provider, '/audio/transcriptions', form({ response_format: 'verbose_json' }, { file: { bytes: Buffer.alloc(40_000, 7), name: 'a.mp3', type: 'audio/mpeg' } }));
    const body = (await verbose.response.json()) as { task: string; duration: number; segments: unknown[]; usage: { seconds: number } };
    assert.equal(body.task, 'transcribe');
    assert.equal(body.duration, 2.5);
    assert.equal(body.segments.length, 1);
    assert.equal(body.usage.seconds, 2.5);
    assert.equal(await sdkFee(provider, JSON.stringify(body.usage)), 3n * provider.inputPrice, 'JS and the SDK round 2.5 up');
  });

  it('a wrong or missing session token is a 401 on every type, and nothing is billed', async () => {
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    const chat = byType('chatbot');
    const targets: Array<[DevnetProvider, string, Record<string, unknown> | FormData]> = [
      [byType('text-to-image'), '/images/generations', { prompt: 'x' }],
      [byType('image-editing'), '/images/edits', form({ prompt: 'x' }, { image: { bytes: makeRgbPng(1, 1, () => [0, 0, 0]), name: 'a.png', type: 'image/png' } })],
      [byType('speech-to-text'), '/audio/transcriptions', form({}, { file: { bytes: makeWav(1), name: 'a.wav', type: 'audio/wav' } })],
    ];
    for (const [provider, path, body] of targets) {
      const rejectedBefore = provider.stats.rejectedAuth;
      const servedBefore = provider.stats.served;
      const feeBefore = provider.unsettledFee(devnet.userAddress);
      for (const authorization of [await authorizationFor(wallet, chat.address), await authorizationFor(stranger, provider.address), 'Bearer app-sk-bm90IGEgdG9rZW4=']) {
        const { response } = await send(provider, path, body, authorization);
        assert.equal(response.status, 401, `${provider.serviceType} ${authorization.slice(0, 20)}`);
        assert.match(((await response.json()) as { error: { message: string } }).error.message, /invalid session token/);
      }
      assert.equal(provider.stats.rejectedAuth - rejectedBefore, 3);
      assert.equal(provider.stats.served, servedBefore);
      assert.equal(provider.unsettledFee(devnet.userAddress), feeBefore);
    }
  });

  it("a provider serves only its own type's route: others are 404 service_type_mismatch", async () => {
    const chat = byType('chatbot');
    const images = byType('text-to-image');
    const onChat = await send(chat, '/images/generations', { prompt: 'x' });
    assert.equal(onChat.response.status, 404);
    assert.equal(((await onChat.response.json()) as { error: { code: string } }).error.code, 'service_type_mismatch');
    const onImages = await send(images, '/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(onImages.response.status, 404);
    const onSpeech = await send(byType('speech-to-text'), '/images/edits', form({ prompt: 'x' }, {}));
    assert.equal(onSpeech.response.status, 404);
    assert.equal(chat.stats.chatRequests + chat.stats.mediaRequests, 0);
  });

  it('bad requests are 400 naming what is wrong; an unknown model is 404 model_not_found', async () => {
    const images = byType('text-to-image');
    const speech = byType('speech-to-text');
    const edits = byType('image-editing');
    const cases: Array<[DevnetProvider, string, Record<string, unknown> | FormData, number, RegExp]> = [
      [images, '/images/generations', { n: 1 }, 400, /prompt/],
      [images, '/images/generations', { prompt: 'x', n: 11 }, 400, /^n must be/],
      [images, '/images/generations', { prompt: 'x', response_format: 'png' }, 400, /response_format/],
      [images, '/images/generations', { prompt: 'x', model: 'dall-e-9' }, 404, /dall-e-9/],
      [speech, '/audio/transcriptions', form({ model: 'zg-devnet-whisper' }, {}), 400, /^file/],
      [speech, '/audio/transcriptions', form({ response_format: 'srt' }, { file: { bytes: makeWav(1), name: 'a.wav', type: 'audio/wav' } }), 400, /response_format/],
      [edits, '/images/edits', form({ prompt: 'x' }, { image: { bytes: Buffer.from('GIF89a not a png'), name: 'a.gif', type: 'image/gif' } }), 400, /image must be a PNG/],
      [edits, '/images/edits', { prompt: 'x' }, 400, /multipart/],
    ];
    for (const [provider, path, body, status, message] of cases) {
      const { response } = await send(provider, path, body);
      assert.equal(response.status, status, String(message));
      assert.match(((await response.json()) as { error: { message: string } }).error.message, message);
    }
    // A form cut in the middle.
    const headers = (await user.broker.inference.getRequestHeaders(speech.address)) as unknown as Record<string, string>;
    const cut = await fetch(`${speech.url}/v1/proxy/audio/transcriptions`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....',
    });
    assert.equal(cut.status, 400);
    assert.match(((await cut.json()) as { error: { message: string } }).error.message, /malformed multipart form: part 1/);
  });

  it('the same fault modes: a forged signature fails processResponse; http-error, reject-auth, malformed and no-choices apply', async () => {
    const provider = byType('text-to-image');
    const request = { prompt: 'forged', response_format: 'b64_json' };
    await provider.setFault({ mode: 'bad-signature' });
    const forged = await send(provider, '/images/generations', request);
    assert.equal(forged.response.status, 200);
    assert.equal(await processResponse(provider, forged.response.headers.get('zg-res-key') ?? '', JSON.stringify(request)), false);

    await provider.setFault({ mode: 'http-error', status: 503, retryAfterSeconds: 2 });
    const unavailable = await send(provider, '/images/generations', request);
    assert.equal(unavailable.response.status, 503);
    assert.equal(unavailable.response.headers.get('retry-after'), '2');

    await provider.setFault({ mode: 'reject-auth' });
    assert.equal((await send(provider, '/images/generations', request)).response.status, 401);

    const speech = byType('speech-to-text');
    const audio = (): FormData => form({}, { file: { bytes: makeWav(1), name: 'a.wav', type: 'audio/wav' } });
    await speech.setFault({ mode: 'malformed' });
    const broken = await send(speech, '/audio/transcriptions', audio());
    assert.equal(broken.response.status, 200);
    await assert.rejects(broken.response.json());
    await speech.setFault({ mode: 'no-choices' });
    const empty = (await (await send(speech, '/audio/transcriptions', audio())).response.json()) as Record<string, unknown>;
    assert.equal(empty.text, undefined);
    assert.deepEqual(empty.usage, { type: 'duration', seconds: 1 });
    await speech.setFault({ mode: 'verify-stall' });
    const served = await send(speech, '/audio/transcriptions', audio());
    assert.equal(served.response.status, 200);
    const stalled = await fetch(`${speech.url}/v1/proxy/signature/${served.response.headers.get('zg-res-key') ?? ''}`, { signal: AbortSignal.timeout(300) }).catch((error: unknown) => error);
    assert.ok(stalled instanceof Error, 'the signature route never answers');
  });

  it('byte-drip serves the same answer one byte per packet; oversized-body sends about that many bytes; stall never answers', async () => {
    const provider = byType('text-to-image');
    const request = { prompt: 'drip', response_format: 'b64_json' };
    const normal = (await (await send(provider, '/images/generations', request)).response.json()) as ImagesBody;
    await provider.setFault({ mode: 'byte-drip' });
    const { response } = await send(provider, '/images/generations', request);
    let pieces = 0;
    const received: Uint8Array[] = [];
    for await (const piece of response.body as ReadableStream<Uint8Array>) {
      pieces += 1;
      received.push(piece);
    }
    const dripped = JSON.parse(Buffer.concat(received).toString('utf8')) as ImagesBody;
    assert.deepEqual(dripped.data, normal.data);
    assert.ok(pieces > 10, `${pieces} pieces`);

    await provider.setFault({ mode: 'oversized-body', bytes: 3_000_000 });
    const oversized = await send(provider, '/images/generations', request);
    const size = (await oversized.response.arrayBuffer()).byteLength;
    assert.ok(size >= 3_000_000 && size < 3_000_100, String(size));

    await provider.setFault({ mode: 'stall' });
    const headers = (await user.broker.inference.getRequestHeaders(provider.address)) as unknown as Record<string, string>;
    const stalled = await fetch(`${provider.url}/v1/proxy/images/generations`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(300),
    }).catch((error: unknown) => error);
    assert.ok(stalled instanceof Error, 'a stalled provider never answers');
  });

  it('settles image and transcription fees on chain like chat fees', async () => {
    for (const type of ['text-to-image', 'speech-to-text'] as const) {
      const provider = byType(type);
      const fee = provider.unsettledFee(devnet.userAddress);
      assert.ok(fee > 0n, type);
      const report = await provider.settle();
      assert.deepEqual(report.results, [{ user: devnet.userAddress.toLowerCase(), totalFee: fee, status: 0 }]);
      assert.equal(provider.unsettledFee(devnet.userAddress), 0n);
    }
  });

  it('gatewayOptionsForDevnet lists every provider, or those of the service types asked for', () => {
    assert.equal(gatewayOptionsForDevnet(devnet).providers.length, 4);
    const entry = (provider: DevnetProvider): { address: string; name: string } => ({ address: provider.address, name: provider.name });
    assert.deepEqual(gatewayOptionsForDevnet(devnet, { serviceTypes: ['chatbot'] }).providers, [entry(byType('chatbot'))]);
    assert.deepEqual(gatewayOptionsForDevnet(devnet, { serviceTypes: ['speech-to-text', 'text-to-image'] }).providers, [entry(byType('text-to-image')), entry(byType('speech-to-text'))]);
  });
});

describe('service type options', () => {
  it('refuses unknown service types before starting anything', async () => {
    for (const options of [{ services: ['text-to-video'] }, { providers: [{ serviceType: 'embeddings' }] }, { providers: 50, services: ['speech-to-text'] }]) {
      await assert.rejects(
        startLocalDevnet(options as never),
        (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options',
        JSON.stringify(options),
      );
    }
  });
});
