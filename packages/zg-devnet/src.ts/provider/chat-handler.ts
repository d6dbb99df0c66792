import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Wallet } from 'ethers';
import { FOREVER_MS, sleep } from '../internal/sleep.js';
import { buildReply, type ChatReply } from './chat-reply.js';
import type { ProviderFault } from './fault-modes.js';
import { answerWithFault, streamInterruption } from './fault-replies.js';
import type { FeeLedger } from './fees-and-settlement.js';
import type { KvPrefixCache } from './kv-prefix-cache.js';
import type { ModelCatalog, ServedModel } from './model-catalog.js';
import type { SimulatedProviderStats } from './provider-stats.js';
import { byteDripWriter, fingerprintOf, plainWriter, sendError, writeJsonReply, writeSseReply } from './reply-writer.js';
import type { ResponseSignatures } from './response-signatures.js';
import { passGate } from './request-gate.js';
import type { ChainAccounts } from './session-auth.js';

/** What answering a chat needs from its provider. */
export interface ChatServing {
  readonly name: string;
  readonly address: string;
  readonly stats: SimulatedProviderStats;
  readonly accounts: ChainAccounts;
  readonly fees: FeeLedger;
  readonly signatures: ResponseSignatures;
  /** Gap between stream chunks in ms when no fault says otherwise. */
  readonly chunkIntervalMs: number;
  /** Its simulated KV prefix cache: what a prompt finds there sets the time to first token and `cached_tokens`. */
  readonly kvCache: KvPrefixCache;
  catalog(): ModelCatalog;
  teeSigner(): Wallet;
}

/** Parses the chat body; null when it is not a JSON object with a `messages` array. */
function parseChat(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { messages?: unknown }).messages)) return null;
    return parsed as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** What besides the messages shapes a prompt's prefix: the model and the tools offered. */
function prefixSeed(model: string, tools: unknown): string {
  return tools === undefined ? model : `${model}\u0000${JSON.stringify(tools)}`;
}

/** Signs and bills a chat answered in full. */
function recordServed(serving: ChatServing, user: string, reply: ChatReply, model: ServedModel, requestText: string, forged: boolean): void {
  serving.signatures.record({ chatId: reply.id, provider: serving.address, model: model.id, requestText, responseText: reply.content, teeSigner: serving.teeSigner(), forged });
  serving.fees.record(user, reply.id, BigInt(reply.promptTokens) * model.inputPrice + BigInt(reply.completionTokens) * model.outputPrice);
  serving.stats.served += 1;
}

/**
 * Answers `POST /v1/proxy/chat/completions` under `fault` (taken when the request arrived):
 * faults before the first byte, the session token, the body, the model, the user's balance, then
 * a broken answer if the fault has one, else the deterministic reply (JSON or SSE), signed and billed.
 */
export async function answerChat(serving: ChatServing, request: IncomingMessage, response: ServerResponse, requestText: string, fault: ProviderFault, signal: AbortSignal): Promise<void> {
  const countFault = (): void => {
    serving.stats.faulted += 1;
  };
  if (fault.mode === 'stall') {
    countFault();
    await sleep(FOREVER_MS, signal);
    response.destroy();
    return;
  }
  if (fault.mode === 'delay-first-byte') await sleep(fault.ms, signal);
  if (signal.aborted) return;

  const user = await passGate(serving, request, response, fault, countFault);
  if (user === undefined) return;

  const body = parseChat(requestText);
  if (!body) return sendError(response, 400, 'the body must be a JSON object with a messages array', { type: 'invalid_request_error', code: 'invalid_request' });
  const model = serving.catalog().resolve(body.model);
  if (!model) {
    serving.stats.unknownModel += 1;
    return sendError(response, 404, `The model ${JSON.stringify(body.model)} does not exist or is not served by this provider`, { type: 'invalid_request_error', code: 'model_not_found' });
  }
  if (!(await serving.fees.canServe(user))) {
    return sendError(response, 402, 'insufficient balance in the user sub-account for this provider');
  }

  const messages = body.messages as Array<{ role?: unknown; content?: unknown }>;
  const cache = serving.kvCache;
  const keepsCache = cache.spec.capacityTokens > 0;
  const lookup = cache.lookup(prefixSeed(model.id, body.tools), messages);
  const reply = buildReply(serving.name, model.id, messages, keepsCache ? lookup.cachedTokens : undefined);
  // Prefill: the uncached part of the prompt costs time before the first byte; then the prompt
  // and the answer are in the cache (vLLM caches the generated blocks too).
  await cache.prefill(lookup, signal);
  if (signal.aborted) return;
  cache.admit(lookup, reply.content);
  const stream = body.stream === true;
  const fingerprint = fingerprintOf(serving.address);
  if (await answerWithFault(fault, { response, reply, fingerprint, stream, signal })) {
    countFault();
    return;
  }
  if (fault.mode === 'bad-signature' || fault.mode === 'byte-drip' || fault.mode === 'slow-drip') countFault();
  const forged = fault.mode === 'bad-signature';
  const writer = fault.mode === 'byte-drip' ? byteDripWriter(response, signal) : plainWriter(response, signal);
  if (stream) {
    const interruptBefore = streamInterruption(fault, response, signal, countFault);
    await writeSseReply(response, reply, {
      writer,
      fingerprint,
      includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
      gapMs: fault.mode === 'slow-drip' ? fault.intervalMs : serving.chunkIntervalMs,
      signal,
      ...(interruptBefore ? { interruptBefore } : {}),
      onComplete: () => recordServed(serving, user, reply, model, requestText, forged),
    });
    return;
  }
  if (fault.mode === 'slow-drip') await sleep(fault.intervalMs * 3, signal);
  if (signal.aborted) return;
  recordServed(serving, user, reply, model, requestText, forged);
  await writeJsonReply(response, writer, reply, fingerprint);
}
