/**
 * A vLLM-like OpenAI-compatible upstream faked at its network edge: it runs at most `slots`
 * requests at once (the rest queue), each taking `delayMs` before its answer starts, and serves
 * Prometheus `/metrics` with `vllm:num_requests_running` and `vllm:num_requests_waiting` gauges
 * that count its own requests plus `externalRunning` / `externalWaiting` (load from clients that do
 * not come through the gateway under test). JSON and SSE answers carry usage.
 *
 * With `kvCache` it keeps the devnet's simulated KV prefix cache (the same `KvPrefixCache`): once
 * it has a slot, the answer waits `delayMs` plus the cache's prefill time, usage counts the
 * prompt's tokens and reports `prompt_tokens_details.cached_tokens`, `/metrics` adds vLLM's
 * `vllm:prefix_cache_queries` / `vllm:prefix_cache_hits` counters (tokens), and `restart()`
 * empties the cache.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KvPrefixCache, type KvCacheSpec } from 'zg-devnet';

export interface VllmLikeUpstream {
  readonly name: string;
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  /** Time before each answer starts, once it has a slot, ms. */
  delayMs: number;
  /** Requests run at once; the rest wait. */
  slots: number;
  /** Extra running requests reported on `/metrics`. */
  externalRunning: number;
  /** Extra queued requests reported on `/metrics`. */
  externalWaiting: number;
  /** Chat requests received. */
  requests: number;
  /** `/metrics` reads received. */
  metricsReads: number;
  /** Most of its own requests in flight at once. */
  peak: number;
  /** Its KV prefix cache, when `kvCache` was given. */
  readonly kvCache: KvPrefixCache | undefined;
  /** Empties the KV cache, as a restarted vLLM starts cold. */
  restart(): void;
  close(): Promise<void>;
}

export interface VllmLikeOptions {
  delayMs: number;
  slots?: number;
  externalRunning?: number;
  externalWaiting?: number;
  /** Keep a simulated KV prefix cache with these options (see the devnet's `KvCacheSpec`). Default: none (usage is a fixed 5 + 3 tokens). */
  kvCache?: KvCacheSpec;
}

export async function startVllmLikeUpstream(name: string, options: VllmLikeOptions): Promise<VllmLikeUpstream> {
  const sockets = new Set<Socket>();
  let running = 0;
  const queue: Array<() => void> = [];
  const state: VllmLikeUpstream = {
    name,
    baseUrl: '',
    delayMs: options.delayMs,
    slots: options.slots ?? 4,
    externalRunning: options.externalRunning ?? 0,
    externalWaiting: options.externalWaiting ?? 0,
    requests: 0,
    metricsReads: 0,
    peak: 0,
    kvCache: options.kvCache ? new KvPrefixCache(options.kvCache) : undefined,
    restart: () => state.kvCache?.clear(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const acquire = async (): Promise<void> => {
    if (running < state.slots) {
      running += 1;
      return;
    }
    await new Promise<void>((resolve) => queue.push(resolve));
  };
  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else running -= 1;
  };
  const metrics = (response: ServerResponse): void => {
    state.metricsReads += 1;
    const labels = `{engine="0",model_name="${name}"}`;
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
      [
        '# HELP vllm:num_requests_running Number of requests in model execution batches.',
        '# TYPE vllm:num_requests_running gauge',
        `vllm:num_requests_running${labels} ${running + state.externalRunning}.0`,
        '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
        '# TYPE vllm:num_requests_waiting gauge',
        `vllm:num_requests_waiting${labels} ${queue.length + state.externalWaiting}.0`,
        ...(state.kvCache
          ? [
              '# TYPE vllm:prefix_cache_queries_total counter',
              `vllm:prefix_cache_queries_total${labels} ${state.kvCache.stats().promptTokens}.0`,
              '# TYPE vllm:prefix_cache_hits_total counter',
              `vllm:prefix_cache_hits_total${labels} ${state.kvCache.stats().cachedTokens}.0`,
            ]
          : []),
        '',
      ].join('\n'),
    );
  };
  const chat = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    const body = JSON.parse(text) as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: Array<{ role?: unknown; content?: unknown }>; tools?: unknown };
    state.requests += 1;
    const id = `chatcmpl-${name}-${state.requests}`;
    const answer = `${name} says hi`;
    const cache = state.kvCache;
    const lookup = cache?.lookup(body.tools === undefined ? String(body.model) : `${String(body.model)}\u0000${JSON.stringify(body.tools)}`, body.messages ?? []);
    const usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } } = lookup
      ? { prompt_tokens: lookup.promptTokens, completion_tokens: 3, total_tokens: lookup.promptTokens + 3, prompt_tokens_details: { cached_tokens: lookup.cachedTokens } }
      : { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 };
    await acquire();
    state.peak = Math.max(state.peak, running);
    try {
      await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      if (cache && lookup) {
        const gone = new AbortController();
        const onClose = (): void => gone.abort();
        response.once('close', onClose);
        await cache.prefill(lookup, gone.signal);
        response.off('close', onClose);
        cache.admit(lookup, answer);
      }
      if (response.destroyed) return;
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }], usage }));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, string>, finish: string | null): string =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.write(chunk({ role: 'assistant', content: `${name} ` }, null));
      response.write(chunk({ content: 'says hi' }, null));
      response.write(chunk({}, 'stop'));
      if (body.stream_options?.include_usage) response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
      response.end('data: [DONE]\n\n');
    } finally {
      release();
    }
  };
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') return metrics(response);
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
      return;
    }
    chat(request, response).catch(() => response.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (state as { baseUrl: string }).baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}
