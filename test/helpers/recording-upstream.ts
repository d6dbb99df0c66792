/**
 * A plain OpenAI-compatible upstream that records the `traceparent` header of every chat it gets
 * and answers with a fixed JSON completion (usage 7 + 3 tokens, model `<name>-served`), or, when
 * `failWith` is set, with that HTTP status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

export interface RecordingUpstream {
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  /** The `traceparent` header of each chat request, in order (undefined when absent). */
  readonly traceparents: Array<string | undefined>;
  close(): Promise<void>;
}

export async function startRecordingUpstream(name: string, failWith?: number): Promise<RecordingUpstream> {
  const traceparents: Array<string | undefined> = [];
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    for await (const _piece of request) void _piece;
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    const header = request.headers.traceparent;
    traceparents.push(typeof header === 'string' ? header : undefined);
    if (failWith !== undefined) {
      response.writeHead(failWith, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `${name} is failing` } }));
      return;
    }
    const body = {
      id: `chatcmpl-${name}-${traceparents.length}`,
      object: 'chat.completion',
      created: 1,
      model: `${name}-served`,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const loopback = loopbackListener(server);
  const baseUrl = await loopback.listen();
  return { baseUrl, traceparents, close: () => loopback.close() };
}
