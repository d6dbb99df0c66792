import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

/** CJK, emoji (with ZWJ sequences and skin tones), combining marks, RTL, and 4-byte characters. */
const HARD_TEXT =
  '漢字とかなの混在する文章。한국어 문장도 있습니다。' +
  '👩‍👩‍👧‍👦 👍🏽 🇯🇵 🧑🏿‍🚀 ' +
  'e\u0301 a\u0308 n\u0303 Z\u0351\u0336 ' +
  'مرحبا بالعالم ' +
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱𠝹 ';
const LONG_TEXT = HARD_TEXT.repeat(12);

async function rawPost(url: string, body: unknown): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

describe('byte-exact relay: answers written one byte per TCP packet come back unaltered', () => {
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    upstream = await startHostileUpstream('drip', { kind: 'byte-drip' });
    upstream.chunkCodePoints = 7;
    gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'drip', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, logLevel: 'silent' },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  test('JSON: the body the client gets is byte for byte the body the provider wrote', async () => {
    const answer = await rawPost(`${gateway.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: LONG_TEXT }] });
    assert.equal(answer.status, 200);
    assert.ok(upstream.lastAnswer.length > 2_500, 'a long answer crossed the wire');
    assert.ok(answer.bytes.equals(upstream.lastAnswer), 'identical bytes');
    assert.equal(answer.headers.get('content-length'), String(answer.bytes.length), 'sent with its length, not chunked');
    const content = (JSON.parse(answer.bytes.toString('utf8')) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content;
    assert.equal(content, LONG_TEXT);
    assert.ok(!answer.bytes.toString('utf8').includes('\uFFFD'), 'no replacement character');
  });

  test('SSE: every event is relayed as the provider wrote it (usage asked for, so nothing is left out)', async () => {
    const answer = await rawPost(`${gateway.url}/v1/chat/completions`, {
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: LONG_TEXT }],
    });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(answer.bytes.equals(upstream.lastAnswer), 'identical bytes, [DONE] included');
    assert.ok(!answer.bytes.toString('utf8').includes('\uFFFD'));
  });

  test('through the openai client, JSON and stream content equal the text sent, character for character', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const json = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: LONG_TEXT }] });
    assert.equal(json.choices[0]?.message.content, LONG_TEXT);
    const stream = await openai.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: LONG_TEXT }] });
    let streamed = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks += 1;
    }
    assert.equal(streamed, LONG_TEXT);
    assert.equal(usageChunks, 0, 'the usage chunk the gateway asked for is not shown to a client that did not ask');
  });
});
