import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ClientKeys } from '../keys/index.js';
import type { GatewayTelemetry } from '../telemetry/gateway-telemetry.js';
import { adminAuth, metricsAuth } from './admin-auth.js';
import { clientAuth } from './client-auth.js';
import { beginRequest } from './request-log.js';
import { adminKeysRoute } from './routes/admin-keys.js';
import { adminBillingRoute } from './routes/admin-billing.js';
import { adminRequestsRoute, adminUsageRoute } from './routes/admin-requests.js';
import type { RequestLog } from '../request-log/index.js';
import { adminProvidersRoute, adminQueueRoute } from './routes/admin-providers.js';
import { adminProviderAddRoute, adminProviderPatchRoute, adminProviderRemoveRoute, nodeAddRoute, nodeRemoveRoute, nodesStatusRoute } from './routes/fleet-members.js';
import type { FleetControl } from '../fleet/fleet-source.js';
import { apiDocsAssetRoute, apiDocsPageRoute, openApiRoute } from './routes/api-docs.js';
import { healthRoute } from './routes/health.js';
import { catalogRefreshRoute, readmitRoute } from './routes/admin-fleet.js';
import { metricsRoute } from './routes/metrics.js';
import { modelRoute, modelsRoute } from './routes/models.js';
import { statusAssetRoute, statusPageRoute, statusViewRoute } from './routes/status.js';
import { StatusSources, type StatusUsageSource } from './status/status-sources.js';
import type { StatusHistory } from '../observability/status-history.js';
import { verifyRoute } from './routes/verify.js';
import { getResponseRoute } from './routes/responses.js';
import { writeError } from './write-error.js';

/** What the non-hot routes need. */
export interface AdminAppOptions {
  gateway: Gateway;
  logger: Logger;
  bodyLimit: number;
  /** Required on `/admin/*` and `/nodes/*`; undefined: those routes are closed. */
  adminToken: string | undefined;
  /** Serve `/metrics` without a token. */
  openMetrics: boolean;
  clientKeys: ClientKeys | undefined;
  /** Accepted on `/metrics` besides the admin token. */
  metricsToken: string | undefined;
  /** This gateway's metrics (`/metrics`) and spend (`/admin/status`). */
  telemetry: GatewayTelemetry;
  /** The OpenAPI document `/openapi.json` serves. */
  openApiDocument: object;
  /** What `GET /admin/billing` shows; undefined: 404. */
  billing?: { report(): Promise<object> } | undefined;
  /** Run-time membership (the node API, `POST/DELETE/PATCH /admin/providers`); undefined: those routes answer 404. */
  fleetControl?: FleetControl | undefined;
  /** The durable request log (`/admin/requests`, `/admin/usage`); undefined: those routes answer 404. */
  requestLog?: RequestLog | undefined;
  /** The last hour and recent failures the status page charts (fed by the events); undefined: no charts. */
  statusHistory?: StatusHistory | undefined;
  /** Per-key usage for the status page from the request log (else the client keys' counters). */
  statusUsage?: StatusUsageSource | undefined;
}

/** A route the server serves: method and OpenAPI-style path (`/docs/{asset}`). */
export interface ServedRoute {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
}

/** Wraps an async route so a rejection reaches the error handler. */
function route(handler: (request: Request, response: Response) => Promise<void>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    handler(request, response).catch(next);
  };
}

/**
 * The express app for every route but the completions (which run on Node's HTTP objects
 * directly): health, models, verify, admin, metrics, docs, status. Thin routes over the core;
 * one error handler. Also returns the routes it registered.
 */
export function createAdminApp(options: AdminAppOptions): { app: Express; routes: ServedRoute[] } {
  const { gateway, logger } = options;
  const app = express();
  const routes: ServedRoute[] = [];
  const serve = (method: ServedRoute['method'], path: string, handler: RequestHandler): void => {
    routes.push({ method, path: path.replace(/[:*](\w+)/g, '{$1}') });
    if (method === 'GET') app.get(path, handler);
    else if (method === 'DELETE') app.delete(path, handler);
    else if (method === 'PATCH') app.patch(path, handler);
    else app.post(path, handler);
  };
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((request, response, next) => {
    beginRequest(request, response, logger, request.path, gateway.id);
    next();
  });
  app.use('/v1', clientAuth(options.clientKeys));
  serve('POST', '/v1/verify', route(verifyRoute(gateway, options.bodyLimit, options.clientKeys)));
  serve('GET', '/v1/responses/:id', route(getResponseRoute(gateway, options.clientKeys)));
  serve('GET', '/v1/models', route(modelsRoute(gateway)));
  serve('GET', '/v1/models/*id', route(modelRoute(gateway)));
  serve('GET', '/health', route(healthRoute(gateway)));
  app.use('/metrics', metricsAuth(options.adminToken, options.metricsToken, options.openMetrics));
  serve('GET', '/metrics', route(metricsRoute(options.telemetry)));
  serve('GET', '/openapi.json', route(openApiRoute(options.openApiDocument)));
  serve('GET', '/docs', route(apiDocsPageRoute()));
  serve('GET', '/docs/:asset', route(apiDocsAssetRoute()));
  serve('GET', '/status', route(statusPageRoute()));
  serve('GET', '/status/assets/:asset', route(statusAssetRoute()));
  app.use('/admin', adminAuth(options.adminToken));
  serve('GET', '/admin/providers', route(adminProvidersRoute(gateway)));
  serve('POST', '/admin/providers', route(adminProviderAddRoute(gateway, options.fleetControl, options.bodyLimit)));
  serve('PATCH', '/admin/providers/:id', route(adminProviderPatchRoute(gateway, options.bodyLimit)));
  serve('DELETE', '/admin/providers/:id', route(adminProviderRemoveRoute(gateway, options.fleetControl)));
  serve('GET', '/admin/queue', route(adminQueueRoute(gateway)));
  serve('GET', '/admin/keys', route(adminKeysRoute(options.clientKeys)));
  serve('GET', '/admin/billing', route(adminBillingRoute(options.billing)));
  serve('GET', '/admin/requests', route(adminRequestsRoute(options.requestLog)));
  serve('GET', '/admin/usage', route(adminUsageRoute(options.requestLog)));
  const statusSources = new StatusSources({ billing: options.billing, clientKeys: options.clientKeys, usage: options.statusUsage });
  serve('GET', '/admin/status', route(statusViewRoute(gateway, options.telemetry, options.statusHistory, statusSources)));
  serve('POST', '/admin/catalog/refresh', route(catalogRefreshRoute(gateway)));
  serve('POST', '/admin/providers/:address/readmit', route(readmitRoute(gateway)));
  // lmdeploy's proxy interface: servers register themselves; guarded like /admin.
  app.use('/nodes', adminAuth(options.adminToken));
  serve('POST', '/nodes/add', route(nodeAddRoute(gateway, options.fleetControl, options.bodyLimit)));
  serve('POST', '/nodes/remove', route(nodeRemoveRoute(gateway, options.fleetControl)));
  serve('GET', '/nodes/status', route(nodesStatusRoute(gateway)));
  app.use((request, _response, next) => {
    next(new GatewayError('not_found', `No route ${request.method} ${request.path}`));
  });
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    void _next;
    writeError(response, error, logger);
  });
  return { app, routes };
}
