import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { Gateway } from '../../gateway/gateway.js';
import { describeModels } from '../../gateway/describe-models.js';
import { writeJson } from '../write-error.js';

function models(gateway: Gateway) {
  return describeModels(gateway.registry, gateway.planner, gateway.fleet.catalogModels?.() ?? new Map());
}

/** `GET /v1/models`: the model groups served (OpenAI list shape, with providers, prices and verifiability). */
export function modelsRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    writeJson(response, { object: 'list', data: models(gateway) });
  };
}

/** `GET /v1/models/:id`: one model group (or visible alias); 404 `model_not_found` otherwise. */
export function modelRoute(gateway: Gateway) {
  return async (request: Request, response: Response): Promise<void> => {
    // Model ids may hold slashes (`Qwen/Qwen2.5-7B`): the route's wildcard gives the segments.
    const segments: unknown = (request.params as Record<string, unknown>).id;
    const id = Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
    const model = models(gateway).find((view) => view.id === id);
    if (!model) throw new GatewayError('model_not_found', `The model \`${id}\` does not exist or no provider serves it; GET /v1/models lists the models served`, { param: 'model' });
    writeJson(response, model);
  };
}
