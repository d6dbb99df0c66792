import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackHost } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ClientKeys } from '../keys/index.js';
import { createAdminApp } from './admin-app.js';
import { corsHeaders } from './cors.js';
import { parseByteLimit } from './read-json-body.js';
import { completionRoute } from './routes/completions.js';

/** How the HTTP server listens and what it bounds. */
export interface HttpServerOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Largest request body (`1mb`, or bytes). */
  bodyLimit: string | number;
  /** Longest a client may take to send a whole request, ms. */
  requestTimeout: number;
  /** Longest a client may take to send its headers, ms. */
  headersTimeout: number;
  adminToken: string | undefined;
  /** Origins allowed by CORS (`*` for any); empty: CORS off. */
  corsOrigins: readonly string[];
  /** Client keys; undefined: none needed. */
  clientKeys?: ClientKeys | undefined;
}

/** A listening server. */
export interface HttpServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:3000` (a wildcard host is reported as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Stops accepting connections now (requests already accepted are still answered). */
  stopAccepting(): Promise<void>;
  /** Closes idle keep-alive connections, waits `flushMs` for the rest, then drops them. */
  closeConnections(flushMs: number): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new GatewayError('listen_failed', `Cannot listen on ${host}:${port}${error.code ? ` (${error.code})` : ''}`, { cause: error, details: { host, port } }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Puts a gateway on a port: the completions routes on Node's HTTP objects (the hot path), every
 * other route through a small express app. Slow clients are bounded (`headersTimeout`,
 * `requestTimeout`); streams, once the request is in, are bounded by the gateway's own timeouts.
 */
export async function startHttpServer(gateway: Gateway, options: HttpServerOptions): Promise<HttpServerHandle> {
  const bodyLimit = parseByteLimit(options.bodyLimit);
  const loopbackOnly = isLoopbackHost(options.host);
  const extraHeaders = (request: IncomingMessage): Record<string, string> | undefined => corsHeaders(options.corsOrigins, request.headers.origin);
  const routeOptions = { gateway, logger: options.logger, bodyLimit, extraHeaders, clientKeys: options.clientKeys };
  const chat = completionRoute('chat', routeOptions);
  const completions = completionRoute('completions', routeOptions);
  const app = createAdminApp({ gateway, logger: options.logger, bodyLimit, adminToken: options.adminToken, loopbackOnly, clientKeys: options.clientKeys });
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (gateway.shuttingDown) response.setHeader('connection', 'close');
    const cors = extraHeaders(request);
    if (request.method === 'OPTIONS' && cors) {
      response.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': request.headers['access-control-request-headers'] ?? 'authorization, content-type', 'access-control-max-age': '600' });
      response.end();
      return;
    }
    if (request.method === 'POST') {
      const path = request.url?.split('?', 1)[0];
      if (path === '/v1/chat/completions') return void chat(request, response);
      if (path === '/v1/completions') return void completions(request, response);
    }
    if (cors) for (const [name, value] of Object.entries(cors)) response.setHeader(name, value);
    app(request, response);
  };
  const server = createServer({ requestTimeout: options.requestTimeout, headersTimeout: options.headersTimeout, keepAliveTimeout: 5000 }, handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await listen(server, options.port, options.host);
  const address = server.address() as AddressInfo;
  const reportedHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${reportedHost.includes(':') ? `[${reportedHost}]` : reportedHost}:${address.port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: options.host,
    stopAccepting() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return Promise.resolve();
    },
    async closeConnections(flushMs: number) {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const flushed = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), flushMs).unref())]);
      if (!flushed) {
        for (const socket of sockets) socket.destroy();
        await closed;
      }
    },
  };
}
