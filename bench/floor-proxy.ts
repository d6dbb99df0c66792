/**
 * Child process: the floor. The least a Node reverse proxy can do on this machine: a `node:http`
 * server and a keep-alive `http.Agent`, piping the request to the upstream and the response
 * back (status, headers and body as they come; SSE chunks flow through unbuffered). No parsing,
 * no validation, no routing. The gateway is measured against this, not against zero.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runChild } from './ipc.js';

export interface FloorProxyArgs {
  upstreamPort: number;
}

export interface FloorProxyInfo {
  port: number;
  url: string;
}

runChild<FloorProxyArgs>(async (args) => {
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity, maxFreeSockets: 4096 });
  let served = 0;
  const server = createServer((request, response) => {
    served += 1;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: args.upstreamPort, method: request.method, path: request.url, headers: request.headers, agent },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"upstream failed","type":"proxy_error","code":"bad_gateway"}}');
      } else {
        response.destroy();
      }
    });
    // A client that goes away mid-stream takes the upstream request with it.
    response.once('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  server.requestTimeout = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node's default listen backlog (511), as the gateway has.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    info: { port, url: `http://127.0.0.1:${port}` } satisfies FloorProxyInfo,
    handlers: { served: () => served },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
});
