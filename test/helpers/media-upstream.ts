/**
 * A plain OpenAI-compatible media upstream, faked at its network edge: `POST /v1/audio/transcriptions`
 * reads the upload as it streams in without keeping it (counting bytes, and how many uploads are in
 * flight at once) and answers `{ text, usage: { type: 'duration', seconds } }` at 32000 bytes a
 * second; `POST /v1/images/generations` answers `n` tiny images; `POST /v1/chat/completions` answers
 * a chat (so a request routed to it by mistake is counted, never hidden by an error).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

export interface MediaUpstream {
  /** `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  /** Requests received, by path. */
  readonly requests: Map<string, number>;
  /** Bytes of every upload received. */
  uploadedBytes: number;
  /** Most uploads being received at the same time. */
  maxConcurrentUploads: number;
  close(): Promise<void>;
}

export async function startMediaUpstream(): Promise<MediaUpstream> {
  let inFlight = 0;
  const upstream = {
    baseUrl: '',
    requests: new Map<string, number>(),
    uploadedBytes: 0,
    maxConcurrentUploads: 0,
    close: async () => undefined,
  } satisfies MediaUpstream as MediaUpstream;
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = request.url ?? '/';
    upstream.requests.set(path, (upstream.requests.get(path) ?? 0) + 1);
    const json = (body: unknown): void => {
      const bytes = Buffer.from(JSON.stringify(body));
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      response.end(bytes);
    };
    if (path === '/v1/audio/transcriptions') {
      inFlight += 1;
      upstream.maxConcurrentUploads = Math.max(upstream.maxConcurrentUploads, inFlight);
      let size = 0;
      try {
        for await (const chunk of request) size += (chunk as Buffer).length;
      } finally {
        inFlight -= 1;
      }
      upstream.uploadedBytes += size;
      return json({ text: `received ${size} bytes`, usage: { type: 'duration', seconds: size / 32_000 } });
    }
    const pieces: Buffer[] = [];
    for await (const chunk of request) pieces.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(pieces).toString('utf8') || '{}') as { n?: number; model?: string };
    if (path === '/v1/images/generations') return json({ created: 1, data: Array.from({ length: body.n ?? 1 }, () => ({ b64_json: 'iVBORw0KGgo=' })) });
    if (path === '/v1/chat/completions') {
      return json({ id: 'chatcmpl-plain', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error' } }));
  };
  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  const listener = loopbackListener(server);
  upstream.baseUrl = await listener.listen();
  upstream.close = () => listener.close();
  return upstream;
}
