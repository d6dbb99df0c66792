import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import type { ClientKeys, KeyTicket } from '../../keys/index.js';
import { clientKeyOf } from '../client-auth.js';
import { newId, outputToMessages, type ResponseFrame } from '../responses/responses-answer.js';
import { translateResponsesRequest, withHistory, type ChatMessage, type TranslatedRequest } from '../responses/responses-request.js';
import { ResponsesSink } from '../responses/responses-sink.js';
import { readConversation, resolveItemReferences, storeConversation } from '../responses/stored-conversation.js';
import { writeJson } from '../write-error.js';
import { completionRoute, type ChatTranslation, type CompletionRouteOptions } from './completions.js';

/** The session a conversation's provider is pinned under (its first Response's id, in X-Session-Id's alphabet). */
function conversationSession(responseId: string): string {
  return `responses:${responseId.replace(/^resp_/, '')}`;
}

/**
 * `POST /v1/responses`: the Responses API over chat providers. The body becomes a chat body (with
 * the stored conversation of `previous_response_id` before this turn's input), the chat route serves
 * it (keys, limits, the core), and the chat answer comes back as a Response or Responses events. The
 * Response is stored (unless `store: false`) before its end reaches the client.
 */
export function responsesRoute(options: CompletionRouteOptions) {
  const responses = options.gateway.responses;
  return completionRoute('chat', options, {
    path: '/v1/responses',
    translation: (): ChatTranslation => {
      let request: TranslatedRequest | undefined;
      let history: ChatMessage[] = [];
      let session = '';
      let sink: ResponsesSink | undefined;
      let frame: ResponseFrame | undefined;
      return {
        async prepare(raw, keyId) {
          request = translateResponsesRequest(await resolveItemReferences(responses, raw, keyId));
          frame = { id: newId('resp'), createdAt: Math.floor(Date.now() / 1000), echo: request.echo };
          session = conversationSession(frame.id);
          if (request.previousResponseId !== undefined) {
            const previous = await readConversation(responses, request.previousResponseId, keyId, 'previous_response_id');
            history = previous.history as ChatMessage[];
            session = previous.session;
          }
          return { body: withHistory(request, history), sessionId: session };
        },
        sink(target) {
          if (!frame || !request) throw new Error('prepare() comes before sink()');
          sink = new ResponsesSink(target, frame, request.stream);
          return sink;
        },
        async finish(report) {
          const response = sink?.result();
          if (!sink || !response || !request) return;
          const chatId = (response.zg_chat_ids as string[])[0] ?? report.responseId;
          if (request.store && chatId !== undefined) {
            const conversation = [...history, ...request.inputMessages, ...outputToMessages(response.output)];
            await storeConversation(responses, response, chatId, conversation, session).catch((error: unknown) => {
              options.logger.error({ event: 'session_store_failed', err: error }, 'could not store the Response');
            });
          }
          sink.deliver(response);
        },
      };
    },
  });
}

/**
 * `GET /v1/responses/{id}`: a stored Response, to the client key that made it (404 otherwise, as an
 * unknown id). Counts against the key's `rpm` and `maxConcurrent`, as `/v1/verify` does.
 */
export function getResponseRoute(gateway: Gateway, clientKeys: ClientKeys | undefined) {
  return async (request: Request, response: Response): Promise<void> => {
    const key = clientKeyOf(response);
    let ticket: KeyTicket | undefined;
    try {
      if (key && clientKeys) ticket = await clientKeys.admitUnmetered(key);
      const stored = await readConversation(gateway.responses, String(request.params.id), key?.id, 'id');
      writeJson(response, stored.response, 200);
    } finally {
      await ticket?.release();
    }
  };
}
