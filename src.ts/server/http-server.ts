import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackHost, type TracingConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import type { FleetControl } from '../fleet/fleet-source.js';
import type { ClientKeys } from '../keys/index.js';
import type { RequestLog } from '../request-log/index.js';
import { GatewayTelemetry } from '../telemetry/gateway-telemetry.js';
import type { GatewayTracer } from '../telemetry/gateway-tracer.js';
import { StatusHistory } from '../observability/status-history.js';
import { createAdminApp, type ServedRoute } from './admin-app.js';
import { requestLogUsage } from './status/request-log-usage.js';
import { corsHeaders } from './cors.js';
import { requestBoundary, type RequestBoundary } from './request-boundary.js';
import { beginRequest } from './request-log.js';
import { writeError } from './write-error.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { parseByteLimit } from './read-json-body.js';
import { completionRoute } from './routes/completions.js';
import { responsesRoute } from './routes/responses.js';

/** How the HTTP server listens and what it bounds. */
export interface HttpServerOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Largest request body (`1mb`, or bytes). */
  bodyLimit: string | number;
  /** Longest a client may take to send a whole request, ms (uploads included). */
  requestTimeout: number;
  /** Largest multipart upload (`/v1/images/edits`, `/v1/audio/transcriptions`), bytes. Default 25 MiB. */
  maxUploadBytes?: number | undefined;
  /** Longest a client may take to send its headers, ms. */
  headersTimeout: number;
  /** Bearer token required on `/admin/*` and `/nodes/*`; undefined: those routes are closed (401). */
  adminToken: string | undefined;
  /** Bearer token accepted on `/metrics` (besides the admin token), for scrapers. Default none. */
  metricsToken?: string | undefined;
  /**
   * Serve `/metrics` without a token on a loopback listener. Default false. The gateway sets it
   * when the operator configured neither `adminToken` nor `metricsToken` (a generated admin token
   * does not close `/metrics` to a local scraper).
   */
  openMetricsOnLoopback?: boolean | undefined;
  /** Host names answered besides the listen address (and loopback names on loopback); `*`: any. Default none. */
  allowedHosts?: readonly string[] | undefined;
  /** Add the Node process series to `/metrics`. Default true. */
  processMetrics?: boolean | undefined;
  /** Origins allowed by CORS (`*` for any); empty: CORS off. */
  corsOrigins: readonly string[];
  /** Client keys; undefined: none needed. */
  clientKeys?: ClientKeys | undefined;
  /** What `GET /admin/billing` shows; undefined: that route answers 404. */
  billing?: { report(): Promise<object>; overchargingProviders?(): readonly string[] } | undefined;
  /** Run-time membership for the node API and `POST/DELETE/PATCH /admin/providers`; undefined: those answer 404. */
  fleetControl?: FleetControl | undefined;
  /** OpenTelemetry traces; undefined: off (nothing of OpenTelemetry is loaded). */
  tracing?: TracingConfig | undefined;
  /** The durable request log (`/admin/requests`, `/admin/usage`, its `/metrics` series); undefined: off. */
  requestLog?: RequestLog | undefined;
}

/** A listening server. */
export interface HttpServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:3000` (a wildcard host is reported as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Every route served (method and OpenAPI-style path), as `/openapi.json` documents them. */
  readonly routes: readonly ServedRoute[];
  /** This server's metrics: the prom-client registry `/metrics` serves, fed from the gateway's events. */
  readonly telemetry: GatewayTelemetry;
  /** This server's tracer when tracing is on. */
  readonly tracer: GatewayTracer | undefined;
  /**
   * Stops taking requests: from now on every request that arrives (on a new connection or a
   * kept-alive one) is answered 503 `shutting_down` with `Connection: close`; requests already
   * received are still answered. The listener stays open, so connections waiting in the kernel's
   * backlog get that answer rather than a reset.
   */
  stopAccepting(): Promise<void>;
  /**
   * Closes the listener once no connection arrived for a moment (the backlog is drained; bounded by
   * `flushMs`), closes idle connections, waits up to `flushMs` for the rest, then drops them; stops
   * the metrics' subscriptions.
   */
  closeConnections(flushMs: number): Promise<void>;
}

/** Loads OpenTelemetry (only now: tracing off costs no import) and subscribes a tracer to the gateway's events. */
async function startTracer(gateway: Gateway, logger: Logger, config: TracingConfig): Promise<GatewayTracer> {
  const { GatewayTracer } = await import('../telemetry/gateway-tracer.js');
  logger.info({ event: 'tracing_on', endpoint: config.endpoint.replace(/\/\/[^/@]*@/, '//'), sampleRatio: config.sampleRatio }, 'exporting traces over OTLP/HTTP');
  return new GatewayTracer({ gatewayId: gateway.id, logger, config, providerKind: (id) => gateway.registry.get(id)?.descriptor.kind });
}

/** How long a connection must have been idle before shutdown closes it, ms. */
const IDLE_BEFORE_CLOSE_MS = 150;
/** At shutdown, the listener closes once no connection arrived for this long (the backlog is empty), ms. */
const QUIET_BEFORE_UNLISTEN_MS = 100;

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
  const routeOptions = { gateway, logger: options.logger, bodyLimit, extraHeaders, clientKeys: options.clientKeys, ...(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {}) };
  const chat = completionRoute('chat', routeOptions);
  const completions = completionRoute('completions', routeOptions);
  const embeddings = completionRoute('embeddings', routeOptions);
  const imageGenerations = completionRoute('image-generations', routeOptions);
  const imageEdits = completionRoute('image-edits', routeOptions);
  const transcriptions = completionRoute('transcriptions', routeOptions);
  const responses = responsesRoute(routeOptions);
  const knownRoutes = new Set<string>();
  const billing = options.billing;
  const overcharging = billing?.overchargingProviders ? () => billing.overchargingProviders?.() ?? [] : undefined;
  const telemetry = new GatewayTelemetry({ gateway, knownRoutes, processMetrics: options.processMetrics ?? true, overcharging });
  const tracer = options.tracing ? await startTracer(gateway, options.logger, options.tracing) : undefined;
  const statusHistory = new StatusHistory({ gatewayId: gateway.id });
  const openApiDocument = buildOpenApiDocument({ clientKeys: options.clientKeys !== undefined, adminToken: Boolean(options.adminToken), metricsToken: Boolean(options.metricsToken) });
  const { app, routes: appRoutes } = createAdminApp({
    gateway,
    logger: options.logger,
    bodyLimit,
    adminToken: options.adminToken,
    metricsToken: options.metricsToken,
    openMetrics: loopbackOnly && options.openMetricsOnLoopback === true,
    clientKeys: options.clientKeys,
    telemetry,
    openApiDocument,
    billing: options.billing,
    fleetControl: options.fleetControl,
    requestLog: options.requestLog,
    statusHistory,
    // With client keys and a request log, /status shows each key's last 24 h from the log (all instances).
    statusUsage: options.requestLog && options.clientKeys ? requestLogUsage(options.requestLog, options.clientKeys) : undefined,
  });
  options.requestLog?.registerMetrics(telemetry.registry);
  const routes: ServedRoute[] = [
    { method: 'POST', path: '/v1/chat/completions' },
    { method: 'POST', path: '/v1/completions' },
    { method: 'POST', path: '/v1/embeddings' },
    { method: 'POST', path: '/v1/images/generations' },
    { method: 'POST', path: '/v1/images/edits' },
    { method: 'POST', path: '/v1/audio/transcriptions' },
    { method: 'POST', path: '/v1/responses' },
    ...appRoutes,
  ];
  for (const route of routes) knownRoutes.add(route.path);
  let boundary: RequestBoundary | undefined;
  let draining = false;
  const refuse = (request: IncomingMessage, response: ServerResponse, path: string, error: GatewayError): void => {
    beginRequest(request, response, options.logger, path, gateway.id);
    if (error.code === 'shutting_down') response.setHeader('connection', 'close');
    writeError(response, error, options.logger);
  };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (draining) return refuse(request, response, path, new GatewayError('shutting_down', 'The gateway is shutting down', { retryAfterMs: 1000 }));
    boundary ??= requestBoundary({ host: options.host, allowedHosts: options.allowedHosts ?? [], corsOrigins: options.corsOrigins });
    const refused = boundary(request.method, path, request.headers);
    if (refused) return refuse(request, response, path, refused);
    const cors = extraHeaders(request);
    if (request.method === 'OPTIONS' && cors) {
      response.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS', 'access-control-allow-headers': request.headers['access-control-request-headers'] ?? 'authorization, content-type, x-affinity, x-priority, x-pool, x-session-id', 'access-control-max-age': '600' });
      response.end();
      return;
    }
    if (request.method === 'POST') {
      if (path === '/v1/chat/completions') return void chat(request, response);
      if (path === '/v1/completions') return void completions(request, response);
      if (path === '/v1/embeddings') return void embeddings(request, response);
      if (path === '/v1/images/generations') return void imageGenerations(request, response);
      if (path === '/v1/images/edits') return void imageEdits(request, response);
      if (path === '/v1/audio/transcriptions') return void transcriptions(request, response);
      if (path === '/v1/responses') return void responses(request, response);
    }
    if (cors) for (const [name, value] of Object.entries(cors)) response.setHeader(name, value);
    app(request, response);
  };
  const server = createServer(
    {
      requestTimeout: options.requestTimeout,
      headersTimeout: options.headersTimeout,
      keepAliveTimeout: 5000,
      // How often Node checks those timeouts (its default, 30 s, would let a slow client linger that long past them).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(options.requestTimeout, options.headersTimeout) / 2))),
    },
    handle,
  );
  // Each connection's idle time: a just-accepted connection whose request is not parsed yet is
  // not idle for long, so shutdown never resets a request the server had accepted.
  const idleSince = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    idleSince.set(socket, Date.now());
    socket.once('close', () => idleSince.delete(socket));
  });
  const unanswered = new Set<ServerResponse>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    idleSince.set(socket, Number.POSITIVE_INFINITY);
    unanswered.add(response);
    response.once('close', () => {
      unanswered.delete(response);
      if (!socket.destroyed) idleSince.set(socket, Date.now());
    });
  });
  try {
    await listen(server, options.port, options.host);
  } catch (error) {
    telemetry.close();
    await tracer?.close();
    statusHistory.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const reportedHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${reportedHost.includes(':') ? `[${reportedHost}]` : reportedHost}:${address.port}`;
  let lastConnectionAt = 0;
  server.on('connection', () => (lastConnectionAt = Date.now()));
  let stopped: Promise<void> | undefined;
  const stopListening = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      // net.Server's close: stops accepting without http.Server's closing of "idle" connections,
      // which would also reset connections whose request has arrived but is not parsed yet.
      net.Server.prototype.close.call(server, () => resolve());
    }));
  return {
    url,
    port: address.port,
    host: options.host,
    routes,
    telemetry,
    tracer,
    stopAccepting() {
      draining = true;
      // Answers not started yet tell their client to close the connection after them.
      for (const response of unanswered) if (!response.headersSent) response.setHeader('connection', 'close');
      return Promise.resolve();
    },
    async closeConnections(flushMs: number) {
      draining = true;
      const deadline = Date.now() + flushMs;
      // Closing the listener resets every connection still in the kernel's backlog (connected,
      // request maybe sent, not accepted yet): it closes only once none arrived for a moment.
      while (Date.now() - lastConnectionAt < QUIET_BEFORE_UNLISTEN_MS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // net.Server's close calls back only once every connection has ended: awaiting it first
      // would wait on clients that keep their connections busy (a status page polling every
      // 2 s never lets its socket idle out), so the sockets are closed first.
      const listenerClosed = stopListening();
      while (idleSince.size > 0 && Date.now() < deadline) {
        const now = Date.now();
        for (const [socket, since] of idleSince) if (now - since >= IDLE_BEFORE_CLOSE_MS) socket.destroy();
        if (idleSince.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of idleSince.keys()) socket.destroy();
      await listenerClosed;
      // Clears Node's timeout checker; nothing is left to close.
      server.close(() => undefined);
      telemetry.close();
      // The spans of the last requests are sent (bounded: the exporter gives up after its timeout).
      await tracer?.close();
      statusHistory.close();
    },
  };
}
