/**
 * Attempts spent on an oversize-prompt workload: `requests` chats (default 100), `oversize` of them
 * (default 30 %) with a prompt of ~6000 tokens, over three plain upstreams that enforce their
 * context window like vLLM (400 "maximum context length is N tokens"): `small` (4096) and two of
 * 32768. Prints the chats served and the upstream calls (attempts) it took.
 *
 *   node build/bench/oversize-attempts.js [lib] [declared|undeclared] [requests] [oversize]
 *
 * `lib`: the gateway library to load (`this`, the default: this checkout's `lib.commonjs`; give another
 * checkout's to compare). `declared`: the config states each upstream's `contextLength`;
 * `undeclared`: it does not (the gateway can only learn from the 400s).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

type Lib = typeof import('zg-gateway');

interface Upstream {
  name: string;
  window: number;
  calls: number;
  url: string;
  close(): Promise<void>;
}

async function upstream(name: string, window: number): Promise<Upstream> {
  const state = { name, window, calls: 0, url: '', close: async () => undefined as void };
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    if (request.method !== 'POST') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
    state.calls += 1;
    const body = JSON.parse(text) as { messages: Array<{ content: string }>; model: string };
    const tokens = Math.ceil(body.messages.reduce((sum, message) => sum + message.content.length, 0) / 4) + 16;
    if (tokens > window) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'error', message: `This model's maximum context length is ${window} tokens. However, you requested ${tokens} tokens.`, code: 400 }));
      return;
    }
    const answer = { id: `chatcmpl-${name}-${state.calls}`, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: tokens, completion_tokens: 1, total_tokens: tokens + 1 } };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise<void>((done) => server.close(() => done()));
  return state;
}

async function main(): Promise<void> {
  const [libArg, mode = 'declared', requestsArg = '100', oversizeArg = '0.3'] = process.argv.slice(2);
  const libPath = resolve(libArg && libArg !== 'this' ? libArg : join(__dirname, '..', '..', 'lib.commonjs', 'index.js'));
  const lib = require(libPath) as Lib;
  const requests = Number(requestsArg);
  const oversize = Number(oversizeArg);
  const upstreams = [await upstream('small', 4096), await upstream('big-1', 32_768), await upstream('big-2', 32_768)];
  const gateway = await lib.runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: upstreams.map((entry) => ({ name: entry.name, baseUrl: entry.url, models: [mode === 'declared' ? { id: 'm', contextLength: entry.window } : 'm'] })),
      strategy: 'round-robin',
      port: 0,
      healthCheckInterval: 3_600_000,
    },
    { logger: (await import('pino')).default({ level: 'silent' }) },
  );
  let served = 0;
  const statuses: Record<string, number> = {};
  try {
    // Which requests are oversize: a seeded shuffle (the same for every run), `oversize` of them.
    let seed = 20;
    const random = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const order = [...Array(requests).keys()].map((index) => ({ index, key: random() })).sort((left, right) => left.key - right.key);
    const longOnes = new Set(order.slice(0, Math.round(requests * oversize)).map((entry) => entry.index));
    for (let index = 0; index < requests; index++) {
      const long = longOnes.has(index);
      const content = long ? 'word '.repeat(4800) : `short question ${index}`;
      const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 64 }) });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 200) served += 1;
    }
  } finally {
    await gateway.close();
    await Promise.all(upstreams.map((entry) => entry.close()));
  }
  const attempts = upstreams.reduce((sum, entry) => sum + entry.calls, 0);
  console.log(JSON.stringify({ lib: libPath, mode, requests, oversize: Math.round(requests * oversize), served, statuses, attempts, wasted: attempts - served, perUpstream: Object.fromEntries(upstreams.map((entry) => [entry.name, entry.calls])) }));
}

void main();
