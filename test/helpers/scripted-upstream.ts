/**
 * An OpenAI-compatible upstream faked at its network edge whose streamed answers a test writes
 * itself: `script` gets the response (headers not yet sent) and writes whatever the test wants a
 * provider to send (floods, malformed chunks, events cut short). Writes through `write` respect
 * backpressure and stop once the gateway hangs up, like a real server's would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

/** What a script is given to write one answer. */
export interface ScriptContext {
  readonly response: ServerResponse;
  /** The parsed request body. */
  readonly body: { model?: string; stream?: boolean; messages?: Array<{ role?: string; content?: unknown }> };
  /** A completion id unique to this request. */
  readonly id: string;
  /** Writes bytes, waiting for drain when the gateway is behind; false once the gateway hung up. */
  write(bytes: string | Buffer): Promise<boolean>;
  /** One `data:` event with a chat chunk holding `delta` (and `finish_reason`). */
  chunk(delta: Record<string, unknown>, finish?: string | null): string;
}

export type Script = (context: ScriptContext) => Promise<void>;

export interface ScriptedUpstream {
  readonly baseUrl: string;
  script: Script;
  requests: number;
  /** Bytes written for answers (all requests). */
  bytesWritten: number;
  close(): Promise<void>;
}

export async function startScriptedUpstream(name: string, script: Script): Promise<ScriptedUpstream> {
  const state: ScriptedUpstream = {
    baseUrl: '',
    script,
    requests: 0,
    bytesWritten: 0,
    close: () => loopback.close(),
  };
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    state.requests += 1;
    const body = JSON.parse(text) as ScriptContext['body'];
    const id = `chatcmpl-${name}-${state.requests}`;
    const gone = (): boolean => response.destroyed || response.writableEnded;
    const context: ScriptContext = {
      response,
      body,
      id,
      write: async (bytes) => {
        if (gone()) return false;
        const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
        state.bytesWritten += buffer.length;
        if (!response.write(buffer)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              response.off('drain', done).off('close', done);
              resolve();
            };
            response.once('drain', done).once('close', done);
          });
        }
        return !gone();
      },
      chunk: (delta, finish = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
    };
    try {
      await state.script(context);
    } catch {
      response.destroy();
    }
  });
  const loopback = loopbackListener(server);
  (state as { baseUrl: string }).baseUrl = await loopback.listen();
  return state;
}
