/**
 * Child process: a counting JSON-RPC relay. An HTTP proxy in front of anvil that the gateway is
 * given as its RPC endpoint; every JSON-RPC call passing through is counted by method (a batch
 * counts each of its calls). The orchestrator resets the counts before a burst of chats and
 * reads them after, which gives the chain calls the gateway makes per chat.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runChild } from './ipc.js';

export interface RpcRelayArgs {
  /** The chain's JSON-RPC URL (anvil). */
  target: string;
}

export interface RpcRelayInfo {
  url: string;
}

export interface RpcCounts {
  /** JSON-RPC calls (batch members counted one by one). */
  calls: number;
  /** HTTP requests (a batch is one). */
  httpRequests: number;
  byMethod: Record<string, number>;
}

/** `eth_call` and gas estimates are told apart by the 4-byte selector of the contract function called. */
function keyOf(call: unknown): string {
  if (typeof call !== 'object' || call === null) return '(unknown)';
  const { method, params } = call as { method?: unknown; params?: unknown };
  if (typeof method !== 'string') return '(unknown)';
  if ((method === 'eth_call' || method === 'eth_estimateGas') && Array.isArray(params)) {
    const transaction: unknown = params[0];
    if (typeof transaction === 'object' && transaction !== null) {
      const { data, input } = transaction as { data?: unknown; input?: unknown };
      const payload = typeof data === 'string' ? data : typeof input === 'string' ? input : '';
      if (payload.length >= 10) return `${method} ${payload.slice(0, 10)}`;
    }
  }
  return method;
}

function methodsOf(body: string): string[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    return calls.map(keyOf);
  } catch {
    return ['(unparsable)'];
  }
}

runChild<RpcRelayArgs>(async ({ target }) => {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let counts: RpcCounts = { calls: 0, httpRequests: 0, byMethod: {} };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      counts.httpRequests += 1;
      for (const method of methodsOf(body.toString('utf8'))) {
        counts.calls += 1;
        counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: upstream.pathname,
          method: request.method,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          agent,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forward.on('error', (error) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `relay: ${error.message}` } }));
      });
      forward.end(body);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    info: { url: `http://127.0.0.1:${port}` } satisfies RpcRelayInfo,
    handlers: {
      reset: () => {
        counts = { calls: 0, httpRequests: 0, byMethod: {} };
        return null;
      },
      counts: (): RpcCounts => counts,
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
});
