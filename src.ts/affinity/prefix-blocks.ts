import * as cryptoModule from 'node:crypto';
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

/** SHA-1 of `data` as base64: `crypto.hash` (one call, no Hash object; Node 20.12+) when there is one. */
const sha1: (data: string) => string =
  typeof (cryptoModule as { hash?: unknown }).hash === 'function'
    ? (data) => (cryptoModule as unknown as { hash(algorithm: string, data: string, encoding: string): string }).hash('sha1', data, 'base64')
    : (data) => createHash('sha1').update(data).digest('base64');

/**
 * The chained block hashes of `text`'s whole blocks of `blockChars` characters, seeded with the
 * model group: hash `i` is SHA-1 (base64, 28 characters) of hash `i - 1` and block `i` (hash `-1`
 * being that of the seed), so it names the whole prefix up to the end of block `i`. A partial last
 * block is left out: the next turn's text goes on past it, so it would never match. At most
 * `maxBlocks` hashes (the first ones): a prompt longer than that is keyed on its beginning.
 * One-shot hashes of (previous hash + block) cost about a third of a running hash copied at each
 * block end (measured with `scripts/affinity-cost.mjs`).
 */
export function prefixBlockHashes(seed: string, text: string, blockChars: number, maxBlocks: number): string[] {
  const count = Math.min(Math.floor(text.length / blockChars), maxBlocks);
  const hashes: string[] = new Array<string>(count);
  let previous = sha1(seed);
  for (let index = 0; index < count; index++) {
    previous = sha1(previous + text.slice(index * blockChars, (index + 1) * blockChars));
    hashes[index] = previous;
  }
  return hashes;
}
