import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { experimental_generateImage, experimental_transcribe } from 'ai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions } from '../helpers/devnet-gateway.js';
import { makeWav } from '../helpers/media-files.js';

describe('the Vercel AI SDK default OpenAI provider: experimental_generateImage and experimental_transcribe through the gateway on the devnet', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;

  before(async () => {
    devnet = await startLocalDevnet({ providers: 1, services: ['text-to-image', 'speech-to-text'] });
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { healthCheckInterval: 3_600_000 }));
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('experimental_generateImage: two PNGs', async () => {
    const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const result = await experimental_generateImage({ model: openai.image('zg-devnet-image'), prompt: 'a red square', n: 2, maxRetries: 0 });
    assert.equal(result.images.length, 2);
    for (const image of result.images) assert.deepEqual([...image.uint8Array.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  test('experimental_transcribe: the text of a real 1.5 s WAV', async () => {
    const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const result = await experimental_transcribe({ model: openai.transcription('zg-devnet-whisper'), audio: makeWav(1.5), maxRetries: 0 });
    assert.match(result.text, /zg-devnet-whisper heard 1\.500 seconds of WAV/);
  });
});
