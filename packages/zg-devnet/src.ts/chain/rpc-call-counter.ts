import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A JSON-RPC relay in front of anvil that counts the calls passing through it. */
export interface RpcCallCounter {
  /** The relay's URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** Calls relayed since start or the last reset, by JSON-RPC method (a batch counts each call). */
  calls(): Record<string, number>;
  reset(): void;
  /** Stops the relay and drops its connections. Idempotent. */
  close(): Promise<void>;
}

/** The methods named by a JSON-RPC request body (one per call of a batch). */
export function methodsOf(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return ['(unparsable)'];
  }
  const calls = Array.isArray(parsed) ? parsed : [parsed];
  return calls.map((call) => {
    const method = typeof call === 'object' && call !== null ? (call as { method?: unknown }).method : undefined;
    return typeof method === 'string' ? method : '(no method)';
  });
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a counting relay on 127.0.0.1 (a free port) forwarding every POST to `targetUrl`. */
export async function startRpcCallCounter(targetUrl: string): Promise<RpcCallCounter> {
  const counts = new Map<string, number>();
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const target = new URL(targetUrl);

  const relay = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    if (incoming.method !== 'POST') {
      outgoing.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const body = await readAll(incoming);
    for (const method of methodsOf(body.toString('utf8'))) counts.set(method, (counts.get(method) ?? 0) + 1);
    await new Promise<void>((resolve, reject) => {
      const forward = httpRequest(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
        answer.pipe(outgoing);
        answer.once('end', resolve);
        answer.once('error', reject);
      });
      forward.once('error', reject);
      forward.end(body);
    });
  };

  const server = createServer((incoming, outgoing) => {
    relay(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `relay: ${error instanceof Error ? error.message : 'failed'}` } }));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => Object.fromEntries([...counts.entries()].sort(([left], [right]) => left.localeCompare(right))),
    reset: () => counts.clear(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}
