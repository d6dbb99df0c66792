/**
 * Child process: the client of the cache-aware routing benchmark. `concurrency` requests in
 * flight, each the next turn of a conversation (streamed, with usage), every answer appended to
 * its history; requests go to the gateway instances in turn (a round-robin client). Per request it keeps: when it started and ended, time to first content, the provider
 * that served it (`X-Provider-Address`) and the usage's prompt and cached tokens. A failed turn
 * ends its conversation (counted). `progress` answers while a run is going.
 */
import { sseData } from './sse-data.js';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Conversation } from './affinity-workload.js';
import { runChild } from './ipc.js';

export interface ConversationRunArgs {
  /** Gateway origins (`http://127.0.0.1:port`), used in turn. */
  origins: string[];
  conversations: Conversation[];
  concurrency: number;
  model: string;
  /** Send `X-Session-Id: <sessionPrefix><conversation id>` (the oracle). */
  sessionPrefix?: string;
  requestTimeoutMs: number;
  /** A user's pause between an answer and the conversation's next turn, ms (mean; 0.5–1.5× it). */
  thinkMs: number;
}

export interface TurnRecord {
  conversation: number;
  turn: number;
  startMs: number;
  endMs: number;
  ttftMs: number;
  provider: string;
  promptTokens: number;
  cachedTokens: number;
}

export interface ConversationRunResult {
  turns: TurnRecord[];
  failures: number;
  /** Turns never sent because an earlier turn of their conversation failed. */
  skipped: number;
  firstError?: string;
  wallMs: number;
}

interface Usage {
  prompt_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

let completedTurns = 0;

async function oneTurn(pool: Pool, args: ConversationRunArgs, conversationId: number, messages: unknown[]): Promise<{ record: Omit<TurnRecord, 'conversation' | 'turn'>; content: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (args.sessionPrefix !== undefined) headers['x-session-id'] = `${args.sessionPrefix}${conversationId}`;
  const startMs = performance.now();
  const response = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers,
    body: JSON.stringify({ model: args.model, messages, stream: true, stream_options: { include_usage: true } }),
    signal: AbortSignal.timeout(args.requestTimeoutMs),
  });
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 200)}`);
  const providerHeader = response.headers['x-provider-address'];
  let ttftMs = Number.NaN;
  let content = '';
  let usage: Usage | undefined;
  let done = false;
  for await (const data of sseData(response.body)) {
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }>; usage?: Usage };
    const piece = parsed.choices?.[0]?.delta?.content;
    if (typeof piece === 'string' && piece.length > 0) {
      if (Number.isNaN(ttftMs)) ttftMs = performance.now() - startMs;
      content += piece;
    }
    if (parsed.usage) usage = parsed.usage;
  }
  if (!done) throw new Error('stream ended without [DONE]');
  if (!usage) throw new Error('stream without usage');
  return {
    record: {
      startMs,
      endMs: performance.now(),
      ttftMs,
      provider: typeof providerHeader === 'string' ? providerHeader : '?',
      promptTokens: usage.prompt_tokens ?? 0,
      cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    },
    content,
  };
}

interface Open {
  conversation: Conversation;
  messages: unknown[];
  turn: number;
}

/**
 * Closed loop over turns: `concurrency` workers each send the next ready turn. A conversation's
 * next turn is ready `thinkMs` × (0.5–1.5, seeded) after its answer; while none is ready, a worker
 * opens the next conversation. So requests from many conversations interleave, and a provider's
 * in-flight count does not simply hand the same conversation back to it.
 */
async function runConversations(args: ConversationRunArgs): Promise<ConversationRunResult> {
  completedTurns = 0;
  const pools = args.origins.map((origin) => new Pool(origin, { connections: args.concurrency, pipelining: 1, headersTimeout: args.requestTimeoutMs, bodyTimeout: args.requestTimeoutMs, keepAliveTimeout: 10_000 }));
  const turns: TurnRecord[] = [];
  let failures = 0;
  let skipped = 0;
  let firstError: string | undefined;
  let opened = 0;
  let nextOrigin = 0;
  let thinking = 0;
  let sending = 0;
  const ready: Open[] = [];
  let wake: Array<() => void> = [];
  const wakeAll = (): void => {
    const waiting = wake;
    wake = [];
    for (const resolve of waiting) resolve();
  };
  const thinkFor = (conversation: number, turn: number): number => args.thinkMs * (0.5 + (((conversation * 7919 + turn * 104_729) % 1000) / 1000));
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      let open = ready.shift();
      if (!open && opened < args.conversations.length) {
        const conversation = args.conversations[opened++] as Conversation;
        open = { conversation, messages: [{ role: 'system', content: conversation.system }], turn: 0 };
      }
      if (!open) {
        if (thinking === 0 && sending === 0) return;
        await new Promise<void>((resolve) => wake.push(resolve));
        continue;
      }
      const { conversation, messages, turn } = open;
      messages.push({ role: 'user', content: conversation.userTurns[turn] });
      const pool = pools[nextOrigin++ % pools.length] as Pool;
      sending += 1;
      try {
        const { record, content } = await oneTurn(pool, args, conversation.id, messages);
        turns.push({ conversation: conversation.id, turn, ...record });
        messages.push({ role: 'assistant', content });
        completedTurns += 1;
        if (turn + 1 < conversation.userTurns.length) {
          const next = { ...open, turn: turn + 1 };
          thinking += 1;
          setTimeout(() => {
            thinking -= 1;
            ready.push(next);
            wakeAll();
          }, thinkFor(conversation.id, turn));
        }
      } catch (error) {
        failures += 1;
        skipped += conversation.userTurns.length - turn - 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      } finally {
        sending -= 1;
      }
      wakeAll();
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const wallMs = performance.now() - started;
  await Promise.all(pools.map((pool) => pool.close()));
  return { turns, failures, skipped, wallMs, ...(firstError ? { firstError } : {}) };
}

runChild<Record<string, never>>(async () => ({
  info: null,
  handlers: {
    run: (args) => runConversations(args as ConversationRunArgs),
    progress: () => completedTurns,
  },
  stop: async () => undefined,
}));
