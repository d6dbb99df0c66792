import { GatewayError } from '../../errors/index.js';
import type { ResponseRecord, SessionStore, StoredConversation } from '../../sessions/index.js';
import type { ResponseObject } from './responses-answer.js';
import type { ChatMessage } from './responses-request.js';

/**
 * Responses conversations in the gateway's response store (LRU or Redis, expiring after
 * `sessionTimeout`): under a Response's `resp_…` id, the record of the chat it was built from (so
 * `/v1/verify` takes the `resp_` id), plus the Response object and the conversation so far as chat
 * messages. Scoped to the client key that made it: another key's id reads as unknown.
 */

/** Largest conversation state kept for one Response (Response object and history as JSON), bytes. */
export const MAX_STORED_CONVERSATION_BYTES = 256 * 1024;

/** The Response `id` as another key, an expired or an unstored one sees it: 404 `response_not_found`. */
function notFound(id: string, param: string, why = 'unknown, expired, stored with store:false, or made with another key'): GatewayError {
  return new GatewayError('response_not_found', `No response with id ${id} is known (${why})`, { param });
}

/** A stored Response with its conversation, for `GET /v1/responses/{id}` and `previous_response_id`. */
export async function readConversation(responses: SessionStore<ResponseRecord>, id: string, keyId: string | undefined, param: string): Promise<StoredConversation> {
  let record: ResponseRecord | undefined;
  try {
    record = await responses.get(id);
  } catch (error) {
    throw new GatewayError('verify_unavailable', `The response store cannot be read now, so ${id} cannot be looked up; try again`, { cause: error, retryAfterMs: 1000 });
  }
  if (!record || record.keyId !== keyId) throw notFound(id, param);
  if (!record.conversation) throw notFound(id, param, `its conversation was larger than ${MAX_STORED_CONVERSATION_BYTES} bytes, so it was not kept`);
  return record.conversation;
}

/**
 * Keeps `response` under its id: the chat's record (`chatId`, as the core stored it) plus the
 * conversation (`history` ending with this answer). A conversation larger than
 * {@link MAX_STORED_CONVERSATION_BYTES} is left out (the id still verifies; continuing from it is a 404).
 * False when the chat's record is not there (nothing is stored then).
 */
export async function storeConversation(
  responses: SessionStore<ResponseRecord>,
  response: ResponseObject,
  chatId: string,
  history: readonly ChatMessage[],
  session: string,
): Promise<boolean> {
  const chat = await responses.get(chatId);
  if (!chat) return false;
  // The id the provider signed (what verification checks), which may differ from the chat's JSON id.
  response.zg_chat_ids = [chat.chatId];
  const conversation: StoredConversation = { response, history: [...history], session };
  const size = Buffer.byteLength(JSON.stringify(conversation));
  await responses.set(response.id, size <= MAX_STORED_CONVERSATION_BYTES ? { ...chat, conversation } : chat);
  return true;
}
