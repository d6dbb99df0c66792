import { GatewayError } from '../../errors/index.js';
import type { ResponseRecord, SessionStore, StoredConversation } from '../../stores/index.js';
import { parseItemId, type ResponseObject } from './responses-answer.js';
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
  await responses.set(response.id, size <= MAX_STORED_CONVERSATION_BYTES ? { ...chat, conversation: { ...conversation, bytes: size } } : chat);
  return true;
}

/**
 * Replaces each `item_reference` in a Responses body's `input` by the output item it names, read from
 * the stored Response of the same client key (the AI SDK sends references to earlier answers' items
 * when `store` is on). A reference to an item this gateway did not make, or whose Response is not
 * stored for this key, is a 404 `response_not_found` naming the item. Returns the body, changed in place.
 */
export async function resolveItemReferences(responses: SessionStore<ResponseRecord>, body: unknown, keyId: string | undefined): Promise<unknown> {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { input?: unknown }).input)) return body;
  const input = (body as { input: unknown[] }).input;
  const read = new Map<string, StoredConversation>();
  for (const [index, item] of input.entries()) {
    if (typeof item !== 'object' || item === null || (item as { type?: unknown }).type !== 'item_reference') continue;
    const id = (item as { id?: unknown }).id;
    const param = `input[${index}].id`;
    const named = typeof id === 'string' ? parseItemId(id) : undefined;
    if (!named) throw notFound(String(id), param, 'not an item of a Response this gateway made');
    let stored = read.get(named.responseId);
    if (!stored) {
      stored = await readConversation(responses, named.responseId, keyId, param);
      read.set(named.responseId, stored);
    }
    const output = stored.response.output;
    const referenced = Array.isArray(output) ? (output[named.outputIndex] as { id?: unknown } | undefined) : undefined;
    if (!referenced || referenced.id !== id) throw notFound(String(id), param, 'no such item in its Response');
    input[index] = referenced;
  }
  return body;
}
