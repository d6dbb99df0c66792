import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { makeForm, makeWav } from '../helpers/media-files.js';
import { startMediaUpstream, type MediaUpstream } from '../helpers/media-upstream.js';

const MB = 1024 * 1024;
/** Neuron per second of audio, and per image, on the plain upstreams. */
const SECOND_PRICE = 7_000_000n;
const IMAGE_PRICE = 50_000_000n;

/** POSTs `body` with http.request (Content-Length known), resolving with the status and answer. */
function upload(url: string, contentType: string, body: Buffer): Promise<{ status: number; text: string; cost: string | undefined }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length } }, (response) => {
      const pieces: Buffer[] = [];
      response.on('data', (piece: Buffer) => pieces.push(piece));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(pieces).toString('utf8'), cost: response.headers['x-request-cost'] as string | undefined }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('media routes on configured plain upstreams: service types from models[].type, the default 25 MB upload limit, memory for 20 concurrent 25 MB uploads, slow uploads', () => {
  let ear: MediaUpstream;
  let painter: MediaUpstream;
  let talker: MediaUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    [ear, painter, talker] = await Promise.all([startMediaUpstream(), startMediaUpstream(), startMediaUpstream()]);
    gateway = await runMultiProviderInferenceServer({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      openAICompatibleProviders: [
        { name: 'ear', baseUrl: ear.baseUrl, models: [{ id: 'whisper-plain', type: 'speech-to-text', inputPrice: SECOND_PRICE.toString() }] },
        { name: 'painter', baseUrl: painter.baseUrl, models: [{ id: 'paint-plain', type: 'text-to-image', inputPrice: IMAGE_PRICE.toString() }] },
        // Offers both ids as chat: must never get a media request.
        { name: 'talker', baseUrl: talker.baseUrl, models: ['chat-plain', 'whisper-plain', 'paint-plain'] },
      ],
    });
  });
  after(async () => {
    await gateway?.close();
    await Promise.all([ear?.close(), painter?.close(), talker?.close()]);
  });

  test('GET /v1/models lists each model with its service type', async () => {
    const models = ((await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string; service_type: string; service_types?: string[] }> }).data;
    const byId = new Map(models.map((model) => [model.id, model]));
    assert.equal(byId.get('chat-plain')?.service_type, 'chat');
    assert.deepEqual(byId.get('whisper-plain')?.service_types?.sort(), ['chat', 'speech-to-text']);
    assert.deepEqual(byId.get('paint-plain')?.service_types?.sort(), ['chat', 'text-to-image']);
  });

  test('configured media models serve their routes only (priced per second and per image); the chat provider offering the same ids gets only chats', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const image = await openai.images.generate({ model: 'paint-plain', prompt: 'x', n: 4 }).withResponse();
    assert.equal(image.response.headers.get('x-provider-address'), 'painter');
    assert.equal(image.response.headers.get('x-request-cost'), (4n * IMAGE_PRICE).toString());
    const form = makeForm([
      { name: 'model', value: 'whisper-plain' },
      { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: makeWav(4) },
    ]);
    const heard = await upload(`${gateway.url}/v1/audio/transcriptions`, form.contentType, form.body);
    assert.equal(heard.status, 200);
    const seconds = (JSON.parse(heard.text) as { usage: { seconds: number } }).usage.seconds;
    assert.equal(heard.cost, (BigInt(Math.max(Math.round(seconds), 1)) * SECOND_PRICE).toString());
    const chat = await openai.chat.completions.create({ model: 'whisper-plain', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(chat.response.headers.get('x-provider-address'), 'talker');
    assert.deepEqual([...talker.requests.keys()].filter((path) => path !== '/v1/models'), ['/v1/chat/completions'], 'the chat provider got chats only (and health probes)');
    assert.equal(ear.requests.get('/v1/audio/transcriptions'), 1);
  });

  test('20 concurrent 25 MB uploads: all relayed whole; RSS grows by about the bytes in flight (kept once, as received), never a multiple of them', async (t) => {
    const size = 25 * 1000 * 1000;
    const form = makeForm([
      { name: 'model', value: 'whisper-plain' },
      { name: 'file', filename: 'big.wav', contentType: 'audio/wav', data: Buffer.alloc(size - 400, 3) },
    ]);
    assert.ok(form.body.length <= 25 * MB);
    const uploadedBefore = ear.uploadedBytes;
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let answers: Array<{ status: number; text: string }>;
    try {
      answers = await Promise.all(Array.from({ length: 20 }, () => upload(`${gateway.url}/v1/audio/transcriptions`, form.contentType, form.body)));
    } finally {
      clearInterval(sampler);
    }
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    assert.equal(ear.uploadedBytes - uploadedBefore, 20 * form.body.length, 'every byte reached the provider');
    const inFlightMb = (20 * form.body.length) / MB;
    const grewMb = (peak - before) / MB;
    t.diagnostic(`20 concurrent uploads of ${(form.body.length / MB).toFixed(1)} MiB (${inFlightMb.toFixed(0)} MiB in flight): RSS grew ${grewMb.toFixed(0)} MiB; the provider saw up to ${ear.maxConcurrentUploads} at once`);
    assert.ok(grewMb < inFlightMb * 1.3 + 64, `RSS grew ${grewMb.toFixed(0)} MiB for ${inFlightMb.toFixed(0)} MiB in flight`);
  });

  test('an upload over the default limit (25 MiB) is 413; a slow upload is cut by limits.requestTimeout and never reaches the provider', async (t) => {
    const form = makeForm([
      { name: 'model', value: 'whisper-plain' },
      { name: 'file', filename: 'huge.wav', contentType: 'audio/wav', data: Buffer.alloc(25 * MB, 1) },
    ]);
    const refused = await upload(`${gateway.url}/v1/audio/transcriptions`, form.contentType, form.body);
    assert.equal(refused.status, 413);
    assert.match(refused.text, /26214400 bytes; limits\.maxUploadBytes/);

    const requests = ear.requests.get('/v1/audio/transcriptions');
    const strict = await runMultiProviderInferenceServer({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      openAICompatibleProviders: [{ name: 'ear', baseUrl: ear.baseUrl, models: [{ id: 'whisper-plain', type: 'speech-to-text' }] }],
      limits: { requestTimeout: 1500, headersTimeout: 1000 },
    });
    t.after(() => strict.close());
    const target = new URL(`${strict.url}/v1/audio/transcriptions`);
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const request = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': form.contentType, 'content-length': 100_000 } }, (response) => {
        response.resume();
        resolve(`status ${response.statusCode}`);
      });
      request.on('error', (error) => resolve(`closed (${(error as NodeJS.ErrnoException).code})`));
      const timer = setInterval(() => {
        if (request.destroyed) return clearInterval(timer);
        request.write(form.body.subarray(0, 100));
      }, 100);
      request.on('close', () => clearInterval(timer));
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `cut after ${elapsed} ms`);
    assert.match(outcome, /status 408|closed/);
    assert.equal(ear.requests.get('/v1/audio/transcriptions'), requests, 'nothing was sent to the provider');
  });
});
