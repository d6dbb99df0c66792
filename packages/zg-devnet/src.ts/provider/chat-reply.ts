import { randomBytes } from 'node:crypto';

/** Longest reply piece, in code points: a stream sends one piece per chunk, so text without spaces (CJK...) still streams in many chunks. */
export const CODE_POINTS_PER_PIECE = 16;

/** A deterministic answer to one chat. */
export interface ChatReply {
  readonly id: string;
  readonly created: number;
  /** The model that answered (named in the reply). */
  readonly model: string;
  readonly content: string;
  /** `content` cut for streaming: whole words of at most {@link CODE_POINTS_PER_PIECE} code points, longer words cut every that many; joined, they are `content`. */
  readonly pieces: readonly string[];
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens found in the provider's KV prefix cache; absent when it keeps none (then usage has no `prompt_tokens_details`). */
  readonly cachedTokens?: number;
}

/** The OpenAI `usage` object. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** As OpenAI and vLLM report it: the prompt tokens served from the prefix cache. */
  prompt_tokens_details?: { cached_tokens: number };
}

/** Cuts one word into runs of at most {@link CODE_POINTS_PER_PIECE} code points (never inside a surrogate pair). */
function cutWord(word: string): string[] {
  const codePoints = Array.from(word);
  if (codePoints.length <= CODE_POINTS_PER_PIECE) return [word];
  const runs: string[] = [];
  for (let start = 0; start < codePoints.length; start += CODE_POINTS_PER_PIECE) runs.push(codePoints.slice(start, start + CODE_POINTS_PER_PIECE).join(''));
  return runs;
}

/** Splits text into stream pieces: words (a space leads every word but the first), long words cut by code points. */
export function splitIntoPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const [index, word] of text.split(' ').entries()) {
    const runs = cutWord(word);
    if (index > 0) runs[0] = ` ${runs[0] ?? ''}`;
    pieces.push(...runs);
  }
  return pieces;
}

/** The simulated token count of a text: one per whitespace-separated word, one more per further {@link CODE_POINTS_PER_PIECE} code points of a long word. */
export function countTokens(text: string): number {
  let tokens = 0;
  for (const word of text.trim().split(/\s+/)) {
    if (word) tokens += Math.ceil(Array.from(word).length / CODE_POINTS_PER_PIECE);
  }
  return tokens;
}

/** The text of an OpenAI message content (a string, or the text parts of an array). */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .join(' ');
  }
  return '';
}

/** Answers a chat: `[<provider name>] <model> heard: <the last user message>`, with token counts. */
export function buildReply(providerName: string, model: string, messages: ReadonlyArray<{ role?: unknown; content?: unknown }>, cachedTokens?: number): ChatReply {
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const said = messageText(lastUser?.content).trim();
  const content = `[${providerName}] ${model} heard: ${said || '(nothing)'}`;
  return {
    id: `chatcmpl-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    content,
    pieces: splitIntoPieces(content),
    promptTokens: messages.reduce((total, message) => total + countTokens(messageText(message.content)) + 1, 0),
    completionTokens: countTokens(content),
    ...(cachedTokens === undefined ? {} : { cachedTokens }),
  };
}

/** The OpenAI `usage` object of a reply. */
export function usageOf(reply: ChatReply): Usage {
  const usage: Usage = { prompt_tokens: reply.promptTokens, completion_tokens: reply.completionTokens, total_tokens: reply.promptTokens + reply.completionTokens };
  if (reply.cachedTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: reply.cachedTokens };
  return usage;
}
