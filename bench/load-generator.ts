/**
 * Child process: the load generator. Closed loop (a fixed number of requests in flight, each
 * worker sending the next as soon as the previous answered) over an undici `Pool` with one
 * keep-alive connection per worker, for a fixed duration or request count, whichever comes
 * first. Every latency is kept (no histogram) and sent back raw. Also runs the SSE stream burst.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { runChild } from './ipc.js';
import { runStreams, type StreamsArgs } from './stream-client.js';

export interface ClosedLoopArgs {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  requestTimeoutMs: number;
}

export interface ClosedLoopResult {
  /** Answered 200 with a completion body. */
  completed: number;
  errors: number;
  /** From the first request sent to the last answer, ms. */
  wallMs: number;
  /** Per completed request, ms. */
  latenciesMs: Float64Array;
  firstError?: string;
}

async function closedLoop(args: ClosedLoopArgs): Promise<ClosedLoopResult> {
  const pool = new Pool(args.origin, {
    connections: args.concurrency,
    pipelining: 1,
    headersTimeout: args.requestTimeoutMs,
    bodyTimeout: args.requestTimeoutMs,
    keepAliveTimeout: 10_000,
  });
  const latencies = new Float64Array(args.maxRequests);
  let completed = 0;
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + args.durationMs;
  const worker = async (): Promise<void> => {
    while (issued < args.maxRequests && performance.now() < deadline) {
      issued += 1;
      const sent = performance.now();
      try {
        const response = await pool.request({ path: args.path, method: 'POST', headers: args.headers, body: args.body });
        const text = await response.body.text();
        if (response.statusCode === 200 && text.includes('"choices"')) {
          latencies[completed++] = performance.now() - sent;
        } else {
          errors += 1;
          firstError ??= `HTTP ${response.statusCode}: ${text.slice(0, 200)}`;
        }
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const wallMs = performance.now() - start;
  await pool.close();
  return { completed, errors, wallMs, latenciesMs: latencies.slice(0, completed), ...(firstError ? { firstError } : {}) };
}

runChild<Record<string, never>>(async () => ({
  info: null,
  handlers: {
    closedLoop: (args) => closedLoop(args as ClosedLoopArgs),
    streams: (args) => runStreams(args as StreamsArgs),
  },
  stop: async () => undefined,
}));
