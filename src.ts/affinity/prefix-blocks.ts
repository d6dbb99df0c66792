import { createHash } from 'node:crypto';

/** Separators that cannot be confused with text a client sends as one field (control characters). */
const FIELD = '\u0001';
const MESSAGE = '\u0002';
const PART = '\u0003';

function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  // Tool calls, tools and structured parts: JSON keeps their order as sent, which is what a provider's template sees.
  return JSON.stringify(value) ?? '';
}

function renderContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return renderValue(content);
  let out = '';
  for (const part of content) {
    if (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string') {
      out += (part as { text: string }).text + PART;
    } else out += renderValue(part) + PART;
  }
  return out;
}

/**
 * The request's prompt as one canonical text, in the order a provider's chat template lays it out:
 * the tools first, then each message's role, name, content (text parts as their text, other parts as
 * JSON) and tool calls. A later turn of a conversation sends the same messages and more, so its
 * rendering extends the earlier one's: their block hashes agree up to where they differ.
 * `/v1/completions` bodies render their `prompt` (a string or an array). Undefined when the body has
 * neither messages nor a prompt (nothing to key on).
 */
export function renderPrompt(body: Readonly<Record<string, unknown>>): string | undefined {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    let out = body.tools === undefined ? '' : `tools${FIELD}${renderValue(body.tools)}${MESSAGE}`;
    for (const message of messages) {
      if (typeof message !== 'object' || message === null) continue;
      const { role, name, content, tool_calls: toolCalls, tool_call_id: toolCallId } = message as Record<string, unknown>;
      out += renderValue(role) + FIELD;
      if (name !== undefined) out += renderValue(name) + FIELD;
      if (toolCallId !== undefined) out += renderValue(toolCallId) + FIELD;
      out += renderContent(content);
      if (toolCalls !== undefined) out += FIELD + renderValue(toolCalls);
      out += MESSAGE;
    }
    return out;
  }
  const prompt = body.prompt;
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return renderValue(prompt);
  return undefined;
}

/**
 * The chained hashes of `text`'s whole blocks of `blockChars` characters, seeded with the model
 * group: hash `i` is SHA-1 of the seed and characters `[0, (i + 1) × blockChars)`, so it names the
 * whole prefix up to the end of block `i` (one running hash, copied at each block end: the text
 * is hashed once). A partial last block is left out: the next turn's text goes on past it, so it
 * would never match. Keys are the 20 raw digest bytes as a one-byte string (20 characters).
 * At most `maxBlocks` hashes (the first ones): a prompt longer than that is keyed on its beginning.
 */
export function prefixBlockHashes(seed: string, text: string, blockChars: number, maxBlocks: number): string[] {
  const count = Math.min(Math.floor(text.length / blockChars), maxBlocks);
  const hashes: string[] = new Array<string>(count);
  if (count === 0) return hashes;
  const running = createHash('sha1').update(seed).update(MESSAGE);
  for (let index = 0; index < count; index++) {
    running.update(text.slice(index * blockChars, (index + 1) * blockChars));
    hashes[index] = running.copy().digest().toString('latin1');
  }
  return hashes;
}
