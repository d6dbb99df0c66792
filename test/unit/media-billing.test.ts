import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { billedImages, billedSpeech, billableSeconds, costOfBilled, sdkImageCount } from 'zg-gateway';

interface SdkExtractor {
  getInputCount(content: string): Promise<number>;
  getOutputCount(content: string): Promise<number>;
}
type ExtractorClass = new (service: unknown) => SdkExtractor;

/** The SDK's own extractors (0.9.0, not exported by its package: loaded by file). */
const load = createRequire(__filename);
const sdkRoot = dirname(load.resolve('@0gfoundation/0g-compute-ts-sdk'));
const extractor = (file: string, name: string): SdkExtractor => {
  const Class = (load(join(sdkRoot, 'inference', 'extractor', file)) as Record<string, ExtractorClass>)[name] as ExtractorClass;
  return new Class({ inputPrice: 3n, outputPrice: 5n });
};
const textToImage = extractor('textToImage.js', 'TextToImage');
const imageEditing = extractor('imageEditing.js', 'ImageEditing');
const speechToText = extractor('speech-to-text.js', 'SpeechToText');

describe('media billing follows the SDK extractors exactly', () => {
  it('images: n as the SDK reads it from the request payload (absent, numbers, decimal strings, unreadable)', async () => {
    const payloads: Array<Record<string, unknown>> = [{}, { n: 1 }, { n: 3 }, { n: '4' }, { n: '10' }, { n: 'x' }, { n: null }, { prompt: 'p', n: 2, size: '256x256' }];
    for (const payload of payloads) {
      const billed = billedImages(payload);
      assert.equal(billed.unit, 'image');
      for (const sdk of [textToImage, imageEditing]) {
        assert.equal(billed.input, await sdk.getInputCount(billed.content), `input count of ${JSON.stringify(payload)}`);
        assert.equal(billed.output, await sdk.getOutputCount(billed.content));
      }
    }
    assert.equal(sdkImageCount(undefined), 1);
    assert.equal(sdkImageCount('7'), 7);
  });

  it('speech: billable seconds (rounded, 1 s floor) or tokens, from the answer usage', async () => {
    const usages: unknown[] = [
      { type: 'duration', seconds: 2.5 },
      { type: 'duration', seconds: 0.3 },
      { type: 'duration', seconds: 0 },
      { type: 'duration', seconds: 59.49 },
      { seconds: 4.6 },
      { type: 'tokens', input_tokens: 120, output_tokens: 33 },
      { type: 'tokens', input_tokens: '12', output_tokens: -3 },
    ];
    for (const usage of usages) {
      const billed = billedSpeech(usage);
      assert.ok(billed);
      assert.equal(billed.input, await speechToText.getInputCount(billed.content), `input count of ${JSON.stringify(usage)}`);
      assert.equal(billed.output, await speechToText.getOutputCount(billed.content), `output count of ${JSON.stringify(usage)}`);
    }
    assert.equal(billedSpeech(undefined), undefined, 'an answer without usage (text, srt, vtt) bills nothing the gateway can read');
    assert.deepEqual([billableSeconds(2.5), billableSeconds(0.3), billableSeconds(0), billableSeconds(1.49)], [3, 1, 0, 1]);
  });

  it('the fee is input × inputPrice + output × outputPrice, exact in neuron', () => {
    const offer = { id: 'm', inputPrice: 100_000_000_000_000n, outputPrice: 7n };
    assert.equal(costOfBilled(offer, billedImages({ n: 3 })), 300_000_000_000_000n);
    assert.equal(costOfBilled(offer, billedSpeech({ type: 'duration', seconds: 2.5 }) as NonNullable<ReturnType<typeof billedSpeech>>), 300_000_000_000_000n);
    assert.equal(costOfBilled(offer, billedSpeech({ type: 'tokens', input_tokens: 2, output_tokens: 3 }) as NonNullable<ReturnType<typeof billedSpeech>>), 200_000_000_000_021n);
  });
});
