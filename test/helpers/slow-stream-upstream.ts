/**
 * An OpenAI-compatible upstream whose streams take a while: `chunks` content chunks `gapMs` apart,
 * then usage and `[DONE]`; JSON answers come at once. For tests of what happens to a stream in
 * flight while the fleet changes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowStreamUpstream {
  readonly baseUrl: string;
  /** Streams being written now. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startSlowStreamUpstream(name: string, chunks = 10, gapMs = 100): Promise<SlowStreamUpstream> {
  let open = 0;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const body = JSON.parse(text || '{}') as { stream?: boolean; model?: string };
      const id = `chatcmpl-${name}-${Date.now()}`;
      const base = { id, object: 'chat.completion.chunk', created: 1, model: body.model ?? 'm' };
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id, object: 'chat.completion', created: 1, model: body.model ?? 'm', choices: [{ index: 0, message: { role: 'assistant', content: name }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
        return;
      }
      open += 1;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })}\n\n`);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < chunks) {
          response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: `${name}${sent} ` }, finish_reason: null }] })}\n\n`);
          sent += 1;
          return;
        }
        clearInterval(timer);
        response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: chunks, total_tokens: chunks + 1 } })}\n\n`);
        response.end('data: [DONE]\n\n');
        open -= 1;
      }, gapMs);
      response.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get open() {
      return open;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
