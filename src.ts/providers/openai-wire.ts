/**
 * OpenAI wire helpers shared by the adapters and the gateway core: reading usage and ids out
 * of answers, deciding whether a stream chunk carries anything of substance, SSE framing.
 * Nothing here re-encodes an answer: relayed bytes stay the provider's.
 */
import type { AnswerFacts, TokenUsage } from './inference-provider.js';

/** The bytes that end an SSE stream. */
export const SSE_DONE = Buffer.from('data: [DONE]\n\n');

/** Reads `usage` if it has the shape OpenAI gives it. */
export function readUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  const prompt = usage.prompt_tokens;
  const completion = usage.completion_tokens;
  if (!isTokenCount(prompt) || !isTokenCount(completion)) return undefined;
  return {
    ...usage,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: isTokenCount(usage.total_tokens) ? usage.total_tokens : prompt + completion,
  };
}

function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The id, model and usage of a completion object (JSON answer or stream chunk). */
export function readAnswerFacts(body: Record<string, unknown>): AnswerFacts {
  return {
    responseId: typeof body.id === 'string' && body.id.length > 0 ? body.id : undefined,
    model: typeof body.model === 'string' ? body.model : undefined,
    usage: readUsage(body.usage),
  };
}

/**
 * Why a 200 answer is not a usable completion, or undefined when it is one: it must be a JSON
 * object without an `error` member and with a non-empty `choices` array.
 */
export function unusableCompletion(body: Record<string, unknown>): string | undefined {
  if (body.error !== undefined && body.error !== null) return `it carries an error: ${describeErrorValue(body.error)}`;
  if (!Array.isArray(body.choices)) return 'it has no choices';
  if (body.choices.length === 0) return 'its choices are empty';
  return undefined;
}

/** A short, printable description of an upstream `error` value (never the whole object). */
export function describeErrorValue(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, 300);
  if (typeof value === 'object' && value !== null) {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return message.slice(0, 300);
  }
  return 'unspecified error';
}

function nonEmpty(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null;
}

/**
 * True when a stream chunk carries something the client must not lose: content, a refusal,
 * reasoning, a tool or function call (chat), text (legacy completions), or a finish reason.
 * A role-only first chunk, a usage-only chunk or a keep-alive has no substance, so a failure
 * after it may still be retried on another provider.
 */
export function chunkHasSubstance(chunk: Record<string, unknown>): boolean {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) {
    if (typeof choice !== 'object' || choice === null) continue;
    const { delta, text, finish_reason: finishReason } = choice as Record<string, unknown>;
    if (nonEmpty(text) || nonEmpty(finishReason)) return true;
    if (typeof delta !== 'object' || delta === null) continue;
    const parts = delta as Record<string, unknown>;
    if (nonEmpty(parts.content) || nonEmpty(parts.tool_calls) || nonEmpty(parts.function_call)) return true;
    if (nonEmpty(parts.refusal) || nonEmpty(parts.reasoning_content) || nonEmpty(parts.reasoning)) return true;
  }
  return false;
}

/** True for a chunk that only reports usage (`choices: []` and a usage object). */
export function isUsageOnlyChunk(chunk: Record<string, unknown>): boolean {
  return Array.isArray(chunk.choices) && chunk.choices.length === 0 && readUsage(chunk.usage) !== undefined;
}

/** One SSE event carrying `payload` as JSON. */
export function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * Why a 200 answer to `POST /v1/embeddings` is not a usable embeddings list, or undefined when it is
 * one: a JSON object without an `error` member whose `data` is a non-empty array.
 */
export function unusableEmbeddings(body: Record<string, unknown>): string | undefined {
  if (body.error !== undefined && body.error !== null) return `it carries an error: ${describeErrorValue(body.error)}`;
  if (!Array.isArray(body.data)) return 'it has no data';
  if (body.data.length === 0) return 'its data is empty';
  return undefined;
}

/**
 * The model and usage of an embeddings answer. Its usage has no completion tokens (OpenAI sends
 * `{ prompt_tokens, total_tokens }`): they are 0. It has no id.
 */
export function readEmbeddingFacts(body: Record<string, unknown>): AnswerFacts {
  const raw = body.usage;
  let usage: TokenUsage | undefined;
  if (typeof raw === 'object' && raw !== null) {
    const prompt = (raw as Record<string, unknown>).prompt_tokens;
    if (isTokenCount(prompt)) usage = { ...(raw as Record<string, unknown>), prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt };
  }
  return { responseId: undefined, model: typeof body.model === 'string' ? body.model : undefined, usage };
}
