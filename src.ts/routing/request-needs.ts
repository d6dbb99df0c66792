import type { CompletionRoute, ModelOffer, ProviderDescriptor, RequestFeature } from '../providers/inference-provider.js';
import { estimatePromptTokens } from '../providers/model-pricing.js';

/** Completion tokens assumed for a request that sets no `max_tokens` (the routing and context estimates' default). */
export const ASSUMED_COMPLETION_TOKENS = 256;

export type { RequestFeature };

export { REQUEST_FEATURES } from '../providers/capability-table.js';

/**
 * What serving one request takes from a provider: a context window of `tokens` at least, and the
 * `features` it uses. Computed once per request (the prompt estimate is shared with the cost
 * estimate and the strategies' pick).
 */
export interface RequestNeeds {
  /** The prompt estimate ({@link estimatePromptTokens}: about 4 characters a token, plus 4 per message). */
  readonly promptTokens: number;
  /** The completion allowance: `max_tokens` / `max_completion_tokens`, else {@link ASSUMED_COMPLETION_TOKENS}. */
  readonly completionTokens: number;
  /** promptTokens + completionTokens: the context window the request needs. */
  readonly tokens: number;
  /** Features of the request that not every provider serves. */
  readonly features: readonly RequestFeature[];
}

function hasImagePart(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  for (const message of messages) {
    const content = typeof message === 'object' && message !== null ? (message as { content?: unknown }).content : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const type = typeof part === 'object' && part !== null ? (part as { type?: unknown }).type : undefined;
      if (type === 'image_url' || type === 'input_image' || type === 'image') return true;
    }
  }
  return false;
}

/**
 * The features a body uses: `tools` (a non-empty `tools` or `functions` list), `json_schema`
 * (`response_format.type` = `json_schema`), `vision` (an image content part) and `logprobs`
 * (`logprobs` set true on chat, or a number on completions; `top_logprobs`).
 */
export function requestFeatures(body: Record<string, unknown>): RequestFeature[] {
  const features: RequestFeature[] = [];
  const listed = (value: unknown): boolean => Array.isArray(value) && value.length > 0;
  if (listed(body.tools) || listed(body.functions)) features.push('tools');
  const format = body.response_format;
  if (typeof format === 'object' && format !== null && (format as { type?: unknown }).type === 'json_schema') features.push('json_schema');
  if (hasImagePart(body.messages)) features.push('vision');
  const logprobs = body.logprobs;
  if (logprobs === true || (typeof logprobs === 'number' && logprobs > 0) || (typeof body.top_logprobs === 'number' && body.top_logprobs > 0)) features.push('logprobs');
  return features;
}

/** The completion tokens a body may produce: its `max_tokens` or `max_completion_tokens`, when set. */
export function maxTokensOf(body: Record<string, unknown>): number | undefined {
  return typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : undefined;
}

/** What a completion request needs (undefined for embeddings: no context or feature planning there). */
export function requestNeeds(body: Record<string, unknown>, route: CompletionRoute): RequestNeeds | undefined {
  if (route === 'embeddings') return undefined;
  const promptTokens = estimatePromptTokens(body);
  const completionTokens = maxTokensOf(body) ?? ASSUMED_COMPLETION_TOKENS;
  return { promptTokens, completionTokens, tokens: promptTokens + completionTokens, features: route === 'chat' ? requestFeatures(body) : requestFeatures({ logprobs: body.logprobs }) };
}

/**
 * What a provider declares about `feature` for `offer` (the model's own declaration first, then the
 * provider's): true served, false not served, undefined not said.
 */
export function declaredFeature(descriptor: ProviderDescriptor, offer: ModelOffer | undefined, feature: RequestFeature): boolean | undefined {
  return offer?.capabilities?.[feature] ?? descriptor.capabilities?.[feature];
}

/**
 * The first feature of `needs` a provider cannot be sent: declared not served; or, with
 * `requireDeclared` (the request's `require_parameters`), not declared served. Undefined: it may serve them all.
 */
export function unservedFeature(descriptor: ProviderDescriptor, offer: ModelOffer | undefined, features: readonly RequestFeature[], requireDeclared: boolean): RequestFeature | undefined {
  for (const feature of features) {
    const declared = declaredFeature(descriptor, offer, feature);
    if (declared === false || (requireDeclared && declared !== true)) return feature;
  }
  return undefined;
}

/** True when a request fits a context window of `window` tokens (unknown: it may, so it fits). */
export function fitsContext(window: number | undefined, needs: RequestNeeds): boolean {
  return window === undefined || needs.tokens <= window;
}

/** The body field a feature is set by (the `param` of an `unsupported_parameter` error). */
export const FEATURE_PARAMS: Readonly<Record<RequestFeature, string>> = { tools: 'tools', json_schema: 'response_format', vision: 'messages', logprobs: 'logprobs' };

/**
 * The context window to remember for a provider that said a request of `needs` does not fit: the
 * window it stated (`contextLength` in the error's details), but never more than the request's own
 * estimate less one, so a request like this one is not sent to it again (its tokenizer may count
 * more than the estimate does).
 */
export function learnedContextLimit(details: unknown, needs: RequestNeeds | undefined): number | undefined {
  const stated = typeof details === 'object' && details !== null ? (details as { contextLength?: unknown }).contextLength : undefined;
  const below = needs ? needs.tokens - 1 : undefined;
  if (typeof stated === 'number' && stated > 0) return below === undefined ? stated : Math.min(stated, below);
  return below;
}

/** Teaches `entry` its real context window for `model` from its "context exceeded" error (see {@link learnedContextLimit}). */
export function learnContextLimit(entry: { learnContextLimit(model: string, tokens: number): void }, model: string, error: { readonly details?: unknown }, needs: RequestNeeds | undefined): void {
  const limit = learnedContextLimit(error.details, needs);
  if (limit !== undefined && limit > 0) entry.learnContextLimit(model, limit);
}
