/**
 * What a media answer is billed by, by the 0G SDK's rules (0.9.0, `inference/extractor/*`):
 * `text-to-image` and `image-editing` count the request payload's `n` (absent or unreadable: 1) at
 * the input price; `speech-to-text` reads the answer's usage: `{"type":"duration","seconds":N}`
 * bills max(round(N), 1) seconds (0 for no duration) at the input price, `{"type":"tokens",
 * "input_tokens":…, "output_tokens":…}` bills tokens at the input and output prices.
 */
import type { BilledUnits, ModelOffer } from './inference-provider.js';

/** The image count of a request payload as the SDK's image extractors read it: `n` as a number or a decimal string; absent or unreadable: 1. */
export function sdkImageCount(n: unknown): number {
  if (n === undefined) return 1;
  const count = typeof n === 'string' ? Number.parseInt(n, 10) : n;
  return typeof count === 'number' && !Number.isNaN(count) ? count : 1;
}

/** An images request's billing: `n` images at the input price; `payload` is what the SDK's extractor is given (the request's fields as JSON). */
export function billedImages(payload: Record<string, unknown>): BilledUnits {
  return { unit: 'image', input: sdkImageCount(payload.n), output: 0, content: JSON.stringify(payload) };
}

/** Billable seconds of a duration, by the SDK's (and the provider broker's) rule: rounded, at least 1 for any positive duration. */
export function billableSeconds(seconds: number): number {
  return seconds > 0 ? Math.max(Math.round(seconds), 1) : 0;
}

function tokenCount(value: unknown): number {
  const count = typeof value === 'string' ? Number.parseInt(value, 10) : value;
  return typeof count === 'number' && !Number.isNaN(count) && count > 0 ? count : 0;
}

/**
 * A transcription's billing from the `usage` of its answer, or undefined when it carries none (a
 * `text`, `srt` or `vtt` answer has no usage: nothing can be billed from it).
 */
export function billedSpeech(usage: unknown): BilledUnits | undefined {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return undefined;
  const fields = usage as Record<string, unknown>;
  const seconds = typeof fields.seconds === 'number' ? fields.seconds : 0;
  const content = JSON.stringify(usage);
  if (fields.type === 'duration' || (fields.type !== 'tokens' && seconds > 0)) return { unit: 'second', input: billableSeconds(seconds), output: 0, content };
  return { unit: 'token', input: tokenCount(fields.input_tokens), output: tokenCount(fields.output_tokens), content };
}

/** What a media answer costs on `offer`, neuron: input × input price + output × output price (exact, no tiers). */
export function costOfBilled(offer: ModelOffer, billed: BilledUnits): bigint {
  return BigInt(billed.input) * offer.inputPrice + BigInt(billed.output) * offer.outputPrice;
}
