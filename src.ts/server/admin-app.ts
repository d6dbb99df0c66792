import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ClientKeys } from '../keys/index.js';
import { adminAuth } from './admin-auth.js';
import { clientAuth } from './client-auth.js';
import { beginRequest } from './request-log.js';
import { adminKeysRoute } from './routes/admin-keys.js';
import { adminProvidersRoute } from './routes/admin-providers.js';
import { healthRoute } from './routes/health.js';
import { modelsRoute } from './routes/models.js';
import { verifyRoute } from './routes/verify.js';
import { writeError } from './write-error.js';

/** What the non-hot routes need. */
export interface AdminAppOptions {
  gateway: Gateway;
  logger: Logger;
  bodyLimit: number;
  adminToken: string | undefined;
  /** True when the server listens on a loopback address only. */
  loopbackOnly: boolean;
  clientKeys: ClientKeys | undefined;
}

/** Wraps an async route so a rejection reaches the error handler. */
function route(handler: (request: Request, response: Response) => Promise<void>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    handler(request, response).catch(next);
  };
}

/**
 * The express app for every route but the completions (which run on Node's HTTP objects
 * directly): health, models, verify, admin. Thin routes over the core; one error handler.
 */
export function createAdminApp(options: AdminAppOptions): Express {
  const { gateway, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((request, response, next) => {
    beginRequest(request, response, logger, request.path, gateway.id);
    next();
  });
  app.use('/v1', clientAuth(options.clientKeys));
  app.post('/v1/verify', route(verifyRoute(gateway, options.bodyLimit)));
  app.get('/v1/models', route(modelsRoute(gateway)));
  app.get('/health', route(healthRoute(gateway)));
  app.use('/admin', adminAuth(options.adminToken, options.loopbackOnly));
  app.get('/admin/providers', route(adminProvidersRoute(gateway)));
  app.get('/admin/keys', route(adminKeysRoute(options.clientKeys)));
  app.use((request, _response, next) => {
    next(new GatewayError('not_found', `No route ${request.method} ${request.path}`));
  });
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    void _next;
    writeError(response, error, logger);
  });
  return app;
}
