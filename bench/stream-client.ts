/**
 * Many concurrent SSE chat streams against one origin, each on its own keep-alive connection,
 * started evenly over `rampMs` (so the listen backlog and the kernel's SYN handling are not
 * what is measured). Per stream: time to first token (request sent → first `data:` event whose
 * `choices[0].delta.content` is not empty), whether it completed (`[DONE]` seen), and how long
 * it took. The client parses only until the first content event; later events are counted.
 */
import { sseData } from './sse-data.js';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface StreamsArgs {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  count: number;
  rampMs: number;
  /** Per stream, from its start to its end. */
  timeoutMs: number;
}

export interface StreamsResult {
  started: number;
  completed: number;
  failed: number;
  /** Per completed-or-not stream that saw content, ms. */
  ttftMs: Float64Array;
  /** Per completed stream, ms. */
  streamMs: Float64Array;
  /** Most streams open at once, as this client counted them. */
  peakOpen: number;
  wallMs: number;
  /** Data events seen, all streams together (content chunks, final and usage chunks). */
  events: number;
  firstError?: string;
}

interface StreamOutcome {
  ttft: number;
  total: number;
  done: boolean;
  events: number;
}

function hasContent(data: string): boolean {
  try {
    const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
    const content = parsed.choices?.[0]?.delta?.content;
    return typeof content === 'string' && content.length > 0;
  } catch {
    return false;
  }
}

async function runOneStream(pool: Pool, args: StreamsArgs): Promise<StreamOutcome> {
  const start = performance.now();
  const response = await pool.request({
    path: args.path,
    method: 'POST',
    headers: args.headers,
    body: args.body,
    signal: AbortSignal.timeout(args.timeoutMs),
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
  }
  let ttft = Number.NaN;
  let done = false;
  let events = 0;
  for await (const data of sseData(response.body)) {
    events += 1;
    if (data === '[DONE]') done = true;
    else if (Number.isNaN(ttft) && hasContent(data)) ttft = performance.now() - start;
  }
  return { ttft, total: performance.now() - start, done, events };
}

/** Runs `count` streams, started evenly over `rampMs`, and waits for all of them. */
export async function runStreams(args: StreamsArgs): Promise<StreamsResult> {
  const pool = new Pool(args.origin, {
    connections: args.count,
    pipelining: 1,
    headersTimeout: args.timeoutMs,
    bodyTimeout: args.timeoutMs,
    keepAliveTimeout: 10_000,
  });
  const ttft: number[] = [];
  const durations: number[] = [];
  let open = 0;
  let peakOpen = 0;
  let completed = 0;
  let failed = 0;
  let events = 0;
  let firstError: string | undefined;
  const wallStart = performance.now();
  const runs: Array<Promise<void>> = [];
  for (let index = 0; index < args.count; index++) {
    const delay = args.count > 1 ? (index * args.rampMs) / args.count : 0;
    runs.push(
      new Promise<void>((resolve) => setTimeout(resolve, delay)).then(async () => {
        open += 1;
        peakOpen = Math.max(peakOpen, open);
        try {
          const outcome = await runOneStream(pool, args);
          events += outcome.events;
          if (!Number.isNaN(outcome.ttft)) ttft.push(outcome.ttft);
          if (outcome.done) {
            completed += 1;
            durations.push(outcome.total);
          } else {
            failed += 1;
            firstError ??= 'stream ended without [DONE]';
          }
        } catch (error) {
          failed += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        } finally {
          open -= 1;
        }
      }),
    );
  }
  await Promise.all(runs);
  const wallMs = performance.now() - wallStart;
  await pool.destroy();
  return {
    started: args.count,
    completed,
    failed,
    ttftMs: Float64Array.from(ttft),
    streamMs: Float64Array.from(durations),
    peakOpen,
    wallMs,
    events,
    ...(firstError ? { firstError } : {}),
  };
}
