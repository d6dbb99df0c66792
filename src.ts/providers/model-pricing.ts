import type { ModelOffer, PriceTier, TokenUsage } from './inference-provider.js';

/** Multipliers are applied in millionths, so tier prices stay exact integers of neuron. */
const SCALE = 1_000_000n;

function scaled(multiplier: number): bigint {
  return BigInt(Math.round(multiplier * Number(SCALE)));
}

/** The tier that applies to a prompt of `promptTokens` (the first whose bound it fits), if any. */
export function tierFor(tiers: readonly PriceTier[] | undefined, promptTokens: number): PriceTier | undefined {
  if (!tiers || tiers.length === 0) return undefined;
  for (const tier of tiers) if (promptTokens <= tier.maxInputTokens) return tier;
  return tiers[tiers.length - 1];
}

/** Neuron per prompt and completion token for a prompt of `promptTokens` on `offer` (tiered pricing applied). */
export function pricesFor(offer: ModelOffer, promptTokens: number): { input: bigint; output: bigint } {
  const tier = tierFor(offer.tiers, promptTokens);
  if (!tier) return { input: offer.inputPrice, output: offer.outputPrice };
  return { input: (offer.inputPrice * scaled(tier.inputMultiplier)) / SCALE, output: (offer.outputPrice * scaled(tier.outputMultiplier)) / SCALE };
}

/** What an answer costs, in neuron: prompt tokens × input price + completion tokens × output price (exact). */
export function costOfUsage(offer: ModelOffer, usage: TokenUsage): bigint {
  const prices = pricesFor(offer, usage.prompt_tokens);
  return BigInt(usage.prompt_tokens) * prices.input + BigInt(usage.completion_tokens) * prices.output;
}

/** What a request is expected to cost before it is sent: its prompt estimate and `maxTokens` (or `assumedCompletion`) completion tokens. */
export function estimateCost(offer: ModelOffer, promptTokens: number, maxTokens: number | undefined, assumedCompletion = 256): bigint {
  const prices = pricesFor(offer, promptTokens);
  return BigInt(promptTokens) * prices.input + BigInt(maxTokens ?? assumedCompletion) * prices.output;
}

/**
 * A rough prompt token count, for routing and limits before the provider counts: about four
 * characters of text per token, plus a few per message. Never used for billing.
 */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  let characters = 0;
  let messages = 0;
  const count = (value: unknown): void => {
    if (typeof value === 'string') characters += value.length;
    else if (Array.isArray(value)) for (const part of value) count(typeof part === 'object' && part !== null ? (part as { text?: unknown }).text : part);
  };
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      messages += 1;
      if (typeof message === 'object' && message !== null) count((message as { content?: unknown }).content);
    }
  } else if (body.prompt !== undefined) {
    count(body.prompt);
  } else if (body.input !== undefined) {
    return estimateInputTokens(body.input);
  }
  return Math.ceil(characters / 4) + messages * 4;
}

/**
 * A rough token count of an embeddings `input`, for limits before the provider counts: a string is
 * about four characters a token (rounded up per string), a token array counts its tokens exactly.
 * Never used for billing.
 */
export function estimateInputTokens(input: unknown): number {
  if (typeof input === 'string') return Math.ceil(input.length / 4);
  if (!Array.isArray(input)) return 0;
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += Math.ceil(item.length / 4);
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}
