import type { Request, Response } from 'express';
import type { GatewayState } from '../../gateway/gateway-state.js';
import { route } from '../request-context.js';

/** `GET /v1/models`: the models the configured providers serve (OpenAI list shape). */
export function modelsRoute(state: GatewayState) {
  return route(async (_request: Request, response: Response) => {
    const models = [...new Set(state.registry.list().map((entry) => entry.provider.model).filter(Boolean))];
    response.json({ object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'zg-gateway' })) });
  });
}
