import { GatewayError } from '../../errors/index.js';

/**
 * Turns a `POST /v1/responses` body into a chat completions body (the gateway serves the Responses
 * API over chat providers). Every field is either mapped or refused: a field that has no chat
 * equivalent is a 400 `invalid_request` naming it, never silently dropped.
 */

/** One chat message as the translation builds it (and as a stored conversation keeps it). */
export type ChatMessage = Record<string, unknown> & { role: string };

/** The request fields a Response object echoes back. */
export interface ResponseEcho {
  model: string | undefined;
  instructions: string | null;
  max_output_tokens: number | null;
  temperature: number | null;
  top_p: number | null;
  tool_choice: unknown;
  tools: unknown[];
  parallel_tool_calls: boolean;
  text: { format: Record<string, unknown> };
  metadata: Record<string, string>;
  user: string | null;
  store: boolean;
  previous_response_id: string | null;
}

/** A translated request. */
export interface TranslatedRequest {
  /** The chat body (without the history of `previous_response_id`, added by {@link withHistory}). */
  chatBody: Record<string, unknown>;
  /** This turn's input as chat messages (what a continued conversation keeps), without the instructions. */
  inputMessages: ChatMessage[];
  /** The system message of `instructions` (not carried to the next turn, as with OpenAI). */
  system: ChatMessage | undefined;
  echo: ResponseEcho;
  stream: boolean;
  store: boolean;
  previousResponseId: string | undefined;
}

/** Fields the Responses API has that this gateway cannot honour over chat, with why. */
const REFUSED: Readonly<Record<string, string>> = {
  background: 'background responses are not supported',
  conversation: 'conversation objects are not supported (use previous_response_id)',
  prompt: 'stored prompt templates are not supported',
  include: 'extra output (include) is not supported',
  reasoning: 'reasoning options are not supported over chat providers',
  max_tool_calls: 'max_tool_calls is not supported over chat providers',
  top_logprobs: 'logprobs are not supported over chat providers',
  truncation: 'only truncation "disabled" is supported',
  service_tier: 'service tiers are not supported',
  prompt_cache_key: 'prompt caching keys are not supported',
  safety_identifier: 'safety_identifier is not supported',
  stream_options: 'stream_options are not supported',
};

/** Fields taken as they are or mapped below; any other field is refused. */
const KNOWN = new Set(['model', 'input', 'instructions', 'tools', 'tool_choice', 'max_output_tokens', 'temperature', 'top_p', 'text', 'stream', 'store', 'previous_response_id', 'metadata', 'user', 'parallel_tool_calls', 'provider', 'user_level']);

function refuse(param: string, why: string): GatewayError {
  return new GatewayError('invalid_request', `Cannot serve \`${param}\`: ${why} (this gateway serves the Responses API by translation to chat completions)`, { param });
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid ${param}: ${message}`, { param });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number');
  return value;
}

/** A message item's content: a string, or parts (`input_text`, `output_text`, `refusal`; `input_image` for users). */
function messageContent(content: unknown, role: string, param: string): string | Array<Record<string, unknown>> {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(param, 'must be a string or an array of content parts');
  const parts: Array<Record<string, unknown>> = [];
  let imageSeen = false;
  content.forEach((part: unknown, index) => {
    const where = `${param}[${index}]`;
    if (!isObject(part)) throw invalid(where, 'must be an object');
    const type = part.type;
    if (type === 'input_text' || type === 'output_text' || type === 'text' || type === 'refusal') {
      const text = type === 'refusal' ? part.refusal : part.text;
      if (typeof text !== 'string') throw invalid(`${where}.text`, 'must be a string');
      parts.push({ type: 'text', text });
    } else if (type === 'input_image' && role === 'user') {
      if (typeof part.image_url !== 'string') throw refuse(`${where}.file_id`, 'images must be given as image_url (a URL or a data: URL), not a file id');
      imageSeen = true;
      parts.push({ type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) } });
    } else {
      throw refuse(`${where}.type`, `content parts of type ${JSON.stringify(type)} are not supported for role ${role}`);
    }
  });
  // Text only: one string (every chat upstream takes that); with an image, chat's parts.
  return imageSeen ? parts : parts.map((part) => part.text as string).join('\n');
}

/** `input`: a string (one user message) or items (messages, function calls and their outputs). */
export function inputToMessages(input: unknown): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) throw invalid('input', 'must be a string or an array of input items');
  if (input.length === 0) throw invalid('input', 'must not be empty');
  const messages: ChatMessage[] = [];
  input.forEach((item: unknown, index) => {
    const where = `input[${index}]`;
    if (!isObject(item)) throw invalid(where, 'must be an object');
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') throw invalid(`${where}.role`, 'must be user, assistant, system or developer');
      // `developer` is OpenAI's newer name for system; chat upstreams (vLLM, 0G) know `system`.
      messages.push({ role: role === 'developer' ? 'system' : role, content: messageContent(item.content, role, `${where}.content`) });
    } else if (type === 'function_call') {
      const { call_id: callId, name, arguments: args } = item;
      if (typeof callId !== 'string' || callId === '') throw invalid(`${where}.call_id`, 'must be a non-empty string');
      if (typeof name !== 'string' || name === '') throw invalid(`${where}.name`, 'must be a non-empty string');
      if (typeof args !== 'string') throw invalid(`${where}.arguments`, 'must be a string (JSON)');
      const call = { id: callId, type: 'function', function: { name, arguments: args } };
      // Calls that follow an assistant turn (or each other) belong to that one assistant message.
      const last = messages.at(-1);
      if (last?.role === 'assistant') last.tool_calls = [...((last.tool_calls as unknown[] | undefined) ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      const { call_id: callId, output } = item;
      if (typeof callId !== 'string' || callId === '') throw invalid(`${where}.call_id`, 'must be a non-empty string');
      if (typeof output !== 'string') throw refuse(`${where}.output`, 'only string outputs are supported');
      messages.push({ role: 'tool', tool_call_id: callId, content: output });
    } else {
      throw refuse(`${where}.type`, `input items of type ${JSON.stringify(type)} are not supported`);
    }
  });
  return messages;
}

/** Function tools, flat (Responses) → nested (chat). Built-in tools (web_search, file_search, ...) are refused. */
function toolsToChat(tools: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  return tools.map((tool: unknown, index) => {
    const where = `tools[${index}]`;
    if (!isObject(tool)) throw invalid(where, 'must be an object');
    if (tool.type !== 'function') throw refuse(`${where}.type`, `built-in tools (${JSON.stringify(tool.type)}) are not supported; only function tools`);
    if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`${where}.name`, 'must be a non-empty string');
    const fn: Record<string, unknown> = { name: tool.name };
    if (typeof tool.description === 'string') fn.description = tool.description;
    if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = tool.parameters;
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    return { type: 'function', function: fn };
  });
}

function toolChoiceToChat(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw refuse('tool_choice', 'only "auto", "none", "required" or {type:"function", name} are supported');
}

/** `text.format` → `response_format` (`text`, `json_object`, `json_schema`). */
function textFormatToChat(text: unknown): { format: Record<string, unknown>; responseFormat: Record<string, unknown> | undefined } {
  if (!isObject(text)) throw invalid('text', 'must be an object');
  for (const field of Object.keys(text)) if (field !== 'format') throw refuse(`text.${field}`, 'only text.format is supported');
  const format = text.format ?? { type: 'text' };
  if (!isObject(format)) throw invalid('text.format', 'must be an object');
  if (format.type === 'text') return { format, responseFormat: undefined };
  if (format.type === 'json_object') return { format, responseFormat: { type: 'json_object' } };
  if (format.type === 'json_schema') {
    if (typeof format.name !== 'string' || !isObject(format.schema)) throw invalid('text.format', 'json_schema needs a name and a schema object');
    const schema: Record<string, unknown> = { name: format.name, schema: format.schema };
    if (typeof format.description === 'string') schema.description = format.description;
    if (typeof format.strict === 'boolean') schema.strict = format.strict;
    return { format, responseFormat: { type: 'json_schema', json_schema: schema } };
  }
  throw refuse('text.format.type', `format ${JSON.stringify(format.type)} is not supported`);
}

/** Translates a Responses body; throws `invalid_request` naming the first field it cannot map. */
export function translateResponsesRequest(body: unknown): TranslatedRequest {
  if (!isObject(body)) throw new GatewayError('invalid_request', 'The request body must be a JSON object with an `input`', { param: null });
  for (const field of Object.keys(body)) {
    if (field === 'truncation' && (body.truncation === 'disabled' || body.truncation === null)) continue;
    if (field === 'include' && Array.isArray(body.include) && body.include.length === 0) continue;
    if (field === 'reasoning' && body.reasoning === null) continue;
    if (field === 'service_tier' && (body.service_tier === 'auto' || body.service_tier === null)) continue;
    if (field === 'background' && (body.background === false || body.background === null)) continue;
    const why = REFUSED[field];
    if (why) throw refuse(field, why);
    if (!KNOWN.has(field)) throw refuse(field, 'unknown Responses field');
  }
  if (body.input === undefined) throw invalid('input', 'is required');
  if (body.model !== undefined && typeof body.model !== 'string') throw invalid('model', 'must be a string');
  const instructions = body.instructions ?? null;
  if (instructions !== null && typeof instructions !== 'string') throw invalid('instructions', 'must be a string');
  const previous = body.previous_response_id ?? undefined;
  if (previous !== undefined && (typeof previous !== 'string' || previous === '')) throw invalid('previous_response_id', 'must be a non-empty string');
  const metadata = body.metadata ?? {};
  if (!isObject(metadata) || Object.values(metadata).some((value) => typeof value !== 'string')) throw invalid('metadata', 'must be an object of strings');
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string') throw invalid('user', 'must be a string');
  const maxOutputTokens = optionalNumber(body, 'max_output_tokens');
  const temperature = optionalNumber(body, 'temperature');
  const topP = optionalNumber(body, 'top_p');
  const inputMessages = inputToMessages(body.input);
  const system: ChatMessage | undefined = typeof instructions === 'string' ? { role: 'system', content: instructions } : undefined;
  const chatBody: Record<string, unknown> = { messages: system ? [system, ...inputMessages] : inputMessages };
  if (typeof body.model === 'string') chatBody.model = body.model;
  if (maxOutputTokens !== undefined) chatBody.max_tokens = maxOutputTokens;
  if (temperature !== undefined) chatBody.temperature = temperature;
  if (topP !== undefined) chatBody.top_p = topP;
  if (typeof body.user === 'string') chatBody.user = body.user;
  if (typeof body.parallel_tool_calls === 'boolean') chatBody.parallel_tool_calls = body.parallel_tool_calls;
  const tools = body.tools === undefined || body.tools === null ? [] : toolsToChat(body.tools);
  if (tools.length > 0) chatBody.tools = tools;
  const toolChoice = body.tool_choice === undefined || body.tool_choice === null ? undefined : toolChoiceToChat(body.tool_choice);
  if (toolChoice !== undefined) chatBody.tool_choice = toolChoice;
  const text = body.text === undefined || body.text === null ? { format: { type: 'text' }, responseFormat: undefined } : textFormatToChat(body.text);
  if (text.responseFormat) chatBody.response_format = text.responseFormat;
  // Gateway-only fields go on to the chat body, where the chat route's helpers take them out.
  if (body.provider !== undefined) chatBody.provider = body.provider;
  if (body.user_level !== undefined) chatBody.user_level = body.user_level;
  const stream = body.stream === true;
  if (stream) {
    chatBody.stream = true;
    // Usage is what the Response reports (and what the key is charged): always asked for.
    chatBody.stream_options = { include_usage: true };
  }
  const store = body.store !== false;
  return {
    chatBody,
    inputMessages,
    system,
    stream,
    store,
    previousResponseId: previous,
    echo: {
      model: typeof body.model === 'string' ? body.model : undefined,
      instructions: typeof instructions === 'string' ? instructions : null,
      max_output_tokens: maxOutputTokens ?? null,
      temperature: temperature ?? null,
      top_p: topP ?? null,
      tool_choice: body.tool_choice ?? 'auto',
      tools: Array.isArray(body.tools) ? body.tools : [],
      parallel_tool_calls: body.parallel_tool_calls !== false,
      text: { format: text.format },
      metadata: metadata as Record<string, string>,
      user: typeof body.user === 'string' ? body.user : null,
      store,
      previous_response_id: previous ?? null,
    },
  };
}

/** The chat body with a stored conversation's messages put between the instructions and this turn's input. */
export function withHistory(request: TranslatedRequest, history: readonly ChatMessage[]): Record<string, unknown> {
  if (history.length === 0) return request.chatBody;
  const messages = [...(request.system ? [request.system] : []), ...history, ...request.inputMessages];
  return { ...request.chatBody, messages };
}
