import { once } from 'node:events';
import type { Request, Response } from 'express';
import { GatewayError, toGatewayError } from '../../errors/index.js';
import type { DispatchedChat } from '../../gateway/chat-dispatcher.js';
import type { GatewayState } from '../../gateway/gateway-state.js';
import { readUsage } from '../../providers/http/chat-over-http.js';
import type { TokenUsage } from '../../providers/inference-provider.js';
import { writeStreamError } from '../error-middleware.js';
import { factsOf, route } from '../request-context.js';
import { validateChatRequest } from '../validate-chat-request.js';

const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

function setProviderHeaders(response: Response, dispatched: DispatchedChat): void {
  response.setHeader('X-Provider-Address', dispatched.provider.address);
  if (dispatched.repinnedFrom) {
    response.setHeader('X-Session-Repinned', 'true');
    response.setHeader('X-Session-Previous-Provider', dispatched.repinnedFrom);
  }
}

/** Writes one chunk, waiting for the socket to drain when the client reads slowly. */
async function write(response: Response, text: string, signal: AbortSignal): Promise<void> {
  if (response.write(text)) return;
  await once(response, 'drain', { signal });
}

async function relayStream(response: Response, dispatched: DispatchedChat, clientWantsUsage: boolean): Promise<void> {
  if (dispatched.answer.kind !== 'stream') return;
  const { firstEvent, events } = dispatched.answer;
  const facts = factsOf(response);
  response.status(200);
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('Connection', 'keep-alive');
  response.setHeader('X-Accel-Buffering', 'no');
  response.flushHeaders();
  let responseId: string | undefined;
  let usage: TokenUsage | undefined;
  const relayEvent = async (data: string): Promise<void> => {
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch (error) {
      throw new GatewayError('stream_interrupted', `Provider ${dispatched.provider.id} sent a stream event that is not JSON`, { cause: error });
    }
    if (chunk.error !== undefined) {
      throw new GatewayError('stream_interrupted', `Provider ${dispatched.provider.id} reported an error in the stream`, { details: { provider: dispatched.provider.id } });
    }
    if (typeof chunk.id === 'string') responseId ??= chunk.id;
    const chunkUsage = readUsage(chunk.usage);
    if (chunkUsage) usage = chunkUsage;
    // The gateway always asks upstream for usage; a client that did not ask gets no usage-only chunk.
    const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunkUsage !== undefined;
    if (usageOnly && !clientWantsUsage) return;
    await write(response, `data: ${data}\n\n`, dispatched.signal);
  };
  try {
    await relayEvent(firstEvent);
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      await relayEvent(next.value);
    }
    const chatId = dispatched.answer.chatId ?? responseId;
    if (!chatId) throw new GatewayError('stream_interrupted', `Provider ${dispatched.provider.id} streamed no completion id`);
    // Bind before [DONE], so a client that verifies right after the stream finds the id.
    await dispatched.finish({ ok: true, responseId: responseId ?? chatId, chatId, usage });
    response.end('data: [DONE]\n\n');
    facts.outcome = 'ok';
  } catch (thrown) {
    const error = dispatched.signal.aborted && GatewayError.isInstance(dispatched.signal.reason) ? dispatched.signal.reason : toGatewayError(thrown);
    await events.return?.().catch(() => undefined);
    await dispatched.finish({ ok: false, error });
    facts.errorCode = error.code;
    if (error.code === 'client_closed_request') {
      facts.outcome = 'client_closed';
      return;
    }
    // After the first byte there is no retry: end with an in-band error and no [DONE]. The code
    // says why (stream_interrupted, upstream_timeout, shutting_down); anything else is a cut.
    facts.outcome = 'stream_error';
    const inBandCodes = new Set(['stream_interrupted', 'upstream_timeout', 'shutting_down']);
    const streamError = inBandCodes.has(error.code)
      ? error
      : new GatewayError('stream_interrupted', `The stream from provider ${dispatched.provider.id} failed: ${error.message}`, { cause: error });
    facts.errorCode = streamError.code;
    writeStreamError(response, streamError);
  }
}

/** `POST /v1/chat/completions`: OpenAI-compatible, JSON or SSE, spread over providers. */
export function chatCompletionsRoute(state: GatewayState) {
  return route(async (request: Request, response: Response) => {
    if (state.isShuttingDown()) throw new GatewayError('shutting_down', 'The gateway is shutting down', { retryAfterMs: 1000 });
    const chatRequest = validateChatRequest(request.body);
    const facts = factsOf(response);
    facts.stream = chatRequest.stream === true;
    const sessionHeader = request.get('x-session-id');
    if (sessionHeader !== undefined && !SESSION_ID_PATTERN.test(sessionHeader)) {
      throw new GatewayError('invalid_request', 'X-Session-Id must be 1-200 characters of [A-Za-z0-9._:-]', { param: 'X-Session-Id' });
    }
    const client = new AbortController();
    const onClose = (): void => {
      if (!response.writableFinished) client.abort();
    };
    response.once('close', onClose);
    const dispatched = await state.dispatcher.dispatch(chatRequest, {
      clientSignal: client.signal,
      requestId: facts.requestId,
      ...(sessionHeader ? { sessionId: sessionHeader } : {}),
    });
    facts.provider = dispatched.provider.id;
    facts.attempts = dispatched.attempts.length + 1;
    setProviderHeaders(response, dispatched);
    if (dispatched.answer.kind === 'stream') {
      await relayStream(response, dispatched, chatRequest.stream_options?.include_usage === true);
      return;
    }
    const { body, chatId, usage } = dispatched.answer;
    const responseId = typeof body.id === 'string' ? body.id : chatId;
    await dispatched.finish({ ok: true, responseId, chatId, usage });
    response.status(200).json(body);
  });
}
