import { CODE_POINTS_PER_PIECE, messageText } from './chat-reply.js';

/** One chat message as a provider reads it (role and content; anything else is ignored). */
export interface PromptMessage {
  role?: unknown;
  content?: unknown;
}

/**
 * The simulated tokens of a text, the devnet's one token estimate: one per whitespace-separated
 * word, a word longer than {@link CODE_POINTS_PER_PIECE} code points one more per further that
 * many (so `countTokens(text)` equals the length of this list).
 */
export function textTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (!word) continue;
    const codePoints = Array.from(word);
    for (let start = 0; start < codePoints.length; start += CODE_POINTS_PER_PIECE) tokens.push(codePoints.slice(start, start + CODE_POINTS_PER_PIECE).join(''));
  }
  return tokens;
}

/**
 * A chat rendered canonically as simulated tokens: per message one role token (`<|user|>`...)
 * then its text's tokens. Its length is the `prompt_tokens` the devnet reports (one per word,
 * plus one per message).
 */
export function promptTokens(messages: readonly PromptMessage[]): string[] {
  const tokens: string[] = [];
  for (const message of messages) {
    tokens.push(`<|${typeof message.role === 'string' ? message.role : '?'}|>`);
    for (const token of textTokens(messageText(message.content))) tokens.push(token);
  }
  return tokens;
}
