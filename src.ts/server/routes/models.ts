import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { Gateway } from '../../gateway/gateway.js';
import { clientKeyOf } from '../client-auth.js';
import { writeJson } from '../write-error.js';

/**
 * `GET /v1/models`: the model groups served (OpenAI list shape, with providers, prices and
 * verifiability); for a client key with a `models` list, only the models it names. Served from the
 * gateway's cache (rebuilt when the fleet or the catalog changes).
 */
export function modelsRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    writeJson(response, { object: 'list', data: gateway.models.list(clientKeyOf(response)?.limits.models) });
  };
}

/** `GET /v1/models/:id`: one model group (or visible alias) the client may see; 404 `model_not_found` otherwise. */
export function modelRoute(gateway: Gateway) {
  return async (request: Request, response: Response): Promise<void> => {
    // Model ids may hold slashes (`Qwen/Qwen2.5-7B`): the route's wildcard gives the segments.
    const segments: unknown = (request.params as Record<string, unknown>).id;
    const id = Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
    const model = gateway.models.get(id, clientKeyOf(response)?.limits.models);
    if (!model) throw new GatewayError('model_not_found', `The model \`${id}\` does not exist or no provider serves it; GET /v1/models lists the models served`, { param: 'model' });
    writeJson(response, model);
  };
}
