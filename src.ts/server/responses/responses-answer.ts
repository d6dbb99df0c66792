import { randomBytes } from 'node:crypto';
import type { ChatMessage, ResponseEcho } from './responses-request.js';

/**
 * Chat answers → Responses answers: a chat completion becomes a Response object, and a chat stream
 * becomes the Responses event stream (`response.created` … `response.completed`), built by
 * {@link ResponsesStreamTranslator} one chat chunk at a time.
 */

/** A Response object (`object: "response"`), with the gateway's `zg_chat_ids` extension. */
export type ResponseObject = Record<string, unknown> & { id: string; output: OutputItem[]; status: string };
type OutputItem = Record<string, unknown> & { type: string; id: string };

/** A new id with OpenAI's prefixes (`resp_`, `call_`). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/**
 * An output item's id: its Response's id and its place in `output` (`msg_<hex>_0`, `fc_<hex>_1`), so an
 * `item_reference` to it leads back to the stored Response without an index of items.
 */
export function itemId(prefix: 'msg' | 'fc', responseId: string, outputIndex: number): string {
  return `${prefix}_${responseId.replace(/^resp_/, '')}_${outputIndex}`;
}

/** The Response id and output index an item id names; undefined for an id not made by {@link itemId}. */
export function parseItemId(id: string): { responseId: string; outputIndex: number } | undefined {
  const match = /^(?:msg|fc)_([0-9a-f]{48})_(\d{1,4})$/.exec(id);
  return match ? { responseId: `resp_${match[1]}`, outputIndex: Number(match[2]) } : undefined;
}

/** What a Response is built around: its id, when, and the request fields it echoes. */
export interface ResponseFrame {
  id: string;
  /** Epoch seconds. */
  createdAt: number;
  echo: ResponseEcho;
}

/** The facts of one chat answer that make the Response's tail. */
export interface ChatOutcome {
  chatId: string | undefined;
  model: string | undefined;
  finishReason: string | undefined;
  usage: Record<string, unknown> | undefined;
}

function responsesUsage(usage: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!usage) return null;
  const input = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const output = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  const cached = (usage.prompt_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens;
  const reasoning = (usage.completion_tokens_details as { reasoning_tokens?: unknown } | undefined)?.reasoning_tokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: typeof cached === 'number' ? cached : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: typeof reasoning === 'number' ? reasoning : 0 },
    total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : input + output,
  };
}

/** A Response object around `output`; `status` from the chat finish reason (`length` → incomplete). */
export function responseObject(frame: ResponseFrame, output: OutputItem[], outcome: ChatOutcome | undefined, status?: string): ResponseObject {
  const finish = outcome?.finishReason;
  const incomplete = finish === 'length' ? 'max_output_tokens' : finish === 'content_filter' ? 'content_filter' : undefined;
  return {
    id: frame.id,
    object: 'response',
    created_at: frame.createdAt,
    status: status ?? (incomplete ? 'incomplete' : 'completed'),
    error: null,
    incomplete_details: status === undefined && incomplete ? { reason: incomplete } : null,
    ...frame.echo,
    // The model group asked for (as chat answers name the provider's model, the provider's when none was).
    model: frame.echo.model ?? outcome?.model ?? '',
    output,
    truncation: 'disabled',
    usage: responsesUsage(outcome?.usage),
    // The chat completion(s) this Response was built from: what /v1/verify checks (it also takes the resp_ id).
    zg_chat_ids: outcome?.chatId ? [outcome.chatId] : [],
  };
}

function messageItem(id: string, text: string, status: string, refusal?: string): OutputItem {
  const content: Array<Record<string, unknown>> = [];
  if (text !== '' || refusal === undefined) content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  if (refusal !== undefined) content.push({ type: 'refusal', refusal });
  return { type: 'message', id, status, role: 'assistant', content };
}

function functionCallItem(id: string, callId: string, name: string, args: string, status: string): OutputItem {
  return { type: 'function_call', id, call_id: callId, name, arguments: args, status };
}

/** A chat completion (JSON) → its Response object. */
export function responseFromChat(frame: ResponseFrame, chat: Record<string, unknown>): ResponseObject {
  const choice = (Array.isArray(chat.choices) ? chat.choices[0] : undefined) as { message?: Record<string, unknown>; finish_reason?: unknown } | undefined;
  const message = choice?.message ?? {};
  const output: OutputItem[] = [];
  const text = typeof message.content === 'string' ? message.content : '';
  const refusal = typeof message.refusal === 'string' ? message.refusal : undefined;
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) : [];
  if (text !== '' || refusal !== undefined || calls.length === 0) output.push(messageItem(itemId('msg', frame.id, output.length), text, 'completed', refusal));
  for (const call of calls) {
    const callId = typeof call.id === 'string' ? call.id : newId('call');
    output.push(functionCallItem(itemId('fc', frame.id, output.length), callId, String(call.function?.name ?? ''), String(call.function?.arguments ?? ''), 'completed'));
  }
  return responseObject(frame, output, {
    chatId: typeof chat.id === 'string' ? chat.id : undefined,
    model: typeof chat.model === 'string' ? chat.model : undefined,
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : undefined,
    usage: chat.usage as Record<string, unknown> | undefined,
  });
}

/** A Response's output as chat messages: what a continued conversation sends back as history. */
export function outputToMessages(output: readonly OutputItem[]): ChatMessage[] {
  let text = '';
  const calls: Array<Record<string, unknown>> = [];
  for (const item of output) {
    if (item.type === 'message') {
      for (const part of item.content as Array<{ type: string; text?: string }>) if (part.type === 'output_text' && part.text) text += part.text;
    } else if (item.type === 'function_call') {
      calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  const message: ChatMessage = { role: 'assistant', content: calls.length > 0 && text === '' ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return [message];
}

/** One Responses stream event. */
export type ResponsesEvent = Record<string, unknown> & { type: string };

/** One event on the wire: `event:` names its type (as OpenAI sends them), `data:` holds it. */
export function eventBytes(event: ResponsesEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

interface OpenCall {
  item: OutputItem;
  outputIndex: number;
  args: string;
}

/**
 * Turns a chat stream into Responses events. `start()` once, `chunk(json)` per chat chunk, then
 * `finish()` (the stream ended well) or `fail(error)` (it ended with an error); each returns the
 * events to write, numbered by `sequence_number`.
 */
export class ResponsesStreamTranslator {
  readonly #frame: ResponseFrame;
  #sequence = 0;
  readonly #output: OutputItem[] = [];
  #message: { item: OutputItem; outputIndex: number; text: string } | undefined;
  readonly #calls = new Map<number, OpenCall>();
  readonly #outcome: ChatOutcome = { chatId: undefined, model: undefined, finishReason: undefined, usage: undefined };

  constructor(frame: ResponseFrame) {
    this.#frame = frame;
  }

  /** The chat completion id and model the stream named (its chat id is what verification checks). */
  get outcome(): ChatOutcome {
    return this.#outcome;
  }

  #event(type: string, fields: Record<string, unknown>): ResponsesEvent {
    return { type, sequence_number: this.#sequence++, ...fields };
  }

  #snapshot(status: string): ResponseObject {
    return responseObject(this.#frame, this.#output, this.#outcome, status);
  }

  start(): ResponsesEvent[] {
    const response = this.#snapshot('in_progress');
    return [this.#event('response.created', { response }), this.#event('response.in_progress', { response })];
  }

  chunk(json: Record<string, unknown>): ResponsesEvent[] {
    const events: ResponsesEvent[] = [];
    if (typeof json.id === 'string') this.#outcome.chatId ??= json.id;
    if (typeof json.model === 'string') this.#outcome.model ??= json.model;
    if (typeof json.usage === 'object' && json.usage !== null) this.#outcome.usage = json.usage as Record<string, unknown>;
    const choice = (Array.isArray(json.choices) ? json.choices[0] : undefined) as { delta?: Record<string, unknown>; finish_reason?: unknown } | undefined;
    if (!choice) return events;
    if (typeof choice.finish_reason === 'string') this.#outcome.finishReason = choice.finish_reason;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content !== '') events.push(...this.#text(delta.content));
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Array<{ index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) events.push(...this.#toolCall(call));
    }
    return events;
  }

  #text(piece: string): ResponsesEvent[] {
    const events: ResponsesEvent[] = [];
    if (!this.#message) {
      const item = messageItem(itemId('msg', this.#frame.id, this.#output.length), '', 'in_progress');
      item.content = [];
      const outputIndex = this.#output.length;
      this.#output.push(item);
      this.#message = { item, outputIndex, text: '' };
      events.push(this.#event('response.output_item.added', { output_index: outputIndex, item: { ...item, content: [] } }));
      events.push(this.#event('response.content_part.added', { item_id: item.id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }));
    }
    const message = this.#message;
    message.text += piece;
    events.push(this.#event('response.output_text.delta', { item_id: message.item.id, output_index: message.outputIndex, content_index: 0, delta: piece, logprobs: [] }));
    return events;
  }

  #closeMessage(): ResponsesEvent[] {
    const message = this.#message;
    if (!message) return [];
    this.#message = undefined;
    const part = { type: 'output_text', text: message.text, annotations: [], logprobs: [] };
    const done = messageItem(message.item.id, message.text, 'completed');
    this.#output[message.outputIndex] = done;
    return [
      this.#event('response.output_text.done', { item_id: done.id, output_index: message.outputIndex, content_index: 0, text: message.text, logprobs: [] }),
      this.#event('response.content_part.done', { item_id: done.id, output_index: message.outputIndex, content_index: 0, part }),
      this.#event('response.output_item.done', { output_index: message.outputIndex, item: done }),
    ];
  }

  #toolCall(call: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }): ResponsesEvent[] {
    const events: ResponsesEvent[] = [];
    const index = typeof call.index === 'number' ? call.index : 0;
    let open = this.#calls.get(index);
    if (!open) {
      // Text before the calls is its own item, done before the first call starts (as OpenAI orders them).
      events.push(...this.#closeMessage());
      const item = functionCallItem(itemId('fc', this.#frame.id, this.#output.length), typeof call.id === 'string' ? call.id : newId('call'), typeof call.function?.name === 'string' ? call.function.name : '', '', 'in_progress');
      open = { item, outputIndex: this.#output.length, args: '' };
      this.#output.push(item);
      this.#calls.set(index, open);
      events.push(this.#event('response.output_item.added', { output_index: open.outputIndex, item: { ...item } }));
    }
    const args = call.function?.arguments;
    if (typeof args === 'string' && args !== '') {
      open.args += args;
      events.push(this.#event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.outputIndex, delta: args }));
    }
    return events;
  }

  /** The stream ended well: closes every open item; the last event is `response.completed` (or `response.incomplete`). */
  finish(): { events: ResponsesEvent[]; response: ResponseObject } {
    const events = this.#closeMessage();
    for (const open of [...this.#calls.values()].sort((a, b) => a.outputIndex - b.outputIndex)) {
      const done: OutputItem = { ...open.item, arguments: open.args, status: 'completed' };
      this.#output[open.outputIndex] = done;
      events.push(this.#event('response.function_call_arguments.done', { item_id: done.id, output_index: open.outputIndex, name: done.name, arguments: open.args }));
      events.push(this.#event('response.output_item.done', { output_index: open.outputIndex, item: done }));
    }
    this.#calls.clear();
    const response = responseObject(this.#frame, this.#output, this.#outcome);
    events.push(this.#event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }));
    return { events, response };
  }

  /** The stream failed after it started: `response.failed`, then an `error` event (clients throw on it). */
  fail(error: { code: string; message: string; param?: string | null }): ResponsesEvent[] {
    const response = { ...this.#snapshot('failed'), error: { code: error.code, message: error.message } };
    return [this.#event('response.failed', { response }), this.#event('error', { code: error.code, message: error.message, param: error.param ?? null })];
  }
}
