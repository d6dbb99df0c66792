/**
 * A plain OpenAI-compatible upstream whose answers a test holds and lets go one by one (or sends
 * after a fixed delay): it records the order requests arrived in, their bodies, and how many it
 * served at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GatedUpstream {
  readonly name: string;
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<port>` (what the node API registers). */
  readonly origin: string;
  /** Hold every answer until `open()` (true), or answer after `delayMs` (false). */
  hold: boolean;
  delayMs: number;
  /** The last user message of each chat request, in arrival order. */
  readonly arrived: string[];
  /** Every chat request body received. */
  readonly bodies: Array<Record<string, unknown>>;
  /** Requests being answered now, and the most at once. */
  readonly active: number;
  readonly peak: number;
  /** Answers held now. */
  readonly held: number;
  /** Answers the oldest held request. */
  open(): void;
  close(): Promise<void>;
}

function lastUser(body: Record<string, unknown>): string {
  const messages = (body.messages as Array<{ role?: string; content?: unknown }> | undefined) ?? [];
  const user = [...messages].reverse().find((message) => message.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

export async function startGatedUpstream(name: string, options: { hold?: boolean; delayMs?: number } = {}): Promise<GatedUpstream> {
  const gates: Array<() => void> = [];
  const sockets = new Set<Socket>();
  let active = 0;
  let peak = 0;
  let served = 0;
  const state = { hold: options.hold ?? false, delayMs: options.delayMs ?? 0, arrived: [] as string[], bodies: [] as Array<Record<string, unknown>> };
  const answer = (response: ServerResponse, body: Record<string, unknown>): void => {
    const id = `chatcmpl-${name}-${++served}`;
    const payload = JSON.stringify({
      id,
      object: 'chat.completion',
      created: 1,
      model: body.model ?? 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: `${name}: ${lastUser(body)}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url?.endsWith('/models')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      state.arrived.push(lastUser(body));
      state.bodies.push(body);
      active += 1;
      peak = Math.max(peak, active);
      const finish = (): void => {
        active -= 1;
        if (!response.destroyed) answer(response, body);
      };
      if (state.hold) gates.push(finish);
      else setTimeout(finish, state.delayMs);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    name,
    baseUrl: `${origin}/v1`,
    origin,
    get hold() {
      return state.hold;
    },
    set hold(value: boolean) {
      state.hold = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    arrived: state.arrived,
    bodies: state.bodies,
    get active() {
      return active;
    },
    get peak() {
      return peak;
    },
    get held() {
      return gates.length;
    },
    open() {
      gates.shift()?.();
    },
    async close() {
      while (gates.length > 0) gates.shift()?.();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
