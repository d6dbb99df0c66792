import express, { type Express } from 'express';
import { GatewayError } from '../errors/index.js';
import type { GatewayState } from '../gateway/gateway-state.js';
import { adminAuth } from './admin-auth.js';
import { errorMiddleware } from './error-middleware.js';
import { requestContext } from './request-context.js';
import { adminProvidersRoute } from './routes/admin-providers.js';
import { chatCompletionsRoute } from './routes/chat-completions.js';
import { healthRoute } from './routes/health.js';
import { modelsRoute } from './routes/models.js';
import { verifyRoute } from './routes/verify.js';

/** Builds the express app (it does not listen): thin routes over the gateway state. */
export function createApp(state: GatewayState): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(state.logger));
  // Any content type is parsed as JSON: clients such as `curl -d` send form content types.
  const json = express.json({ limit: state.bodyLimit, type: () => true, strict: true });
  app.post('/v1/chat/completions', json, chatCompletionsRoute(state));
  app.post('/v1/verify', json, verifyRoute(state));
  app.get('/v1/models', modelsRoute(state));
  app.get('/health', healthRoute(state));
  app.use('/admin', adminAuth(state.adminToken));
  app.get('/admin/providers', adminProvidersRoute(state));
  app.use((request, _response, next) => {
    next(new GatewayError('not_found', `No route ${request.method} ${request.path}`));
  });
  app.use(errorMiddleware(state.logger));
  return app;
}
