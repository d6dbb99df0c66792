import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { writeJson } from '../write-error.js';

/** `GET /v1/models`: the model groups the fleet serves (OpenAI list shape). */
export function modelsRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    const models = gateway.planner.servedModels().sort();
    writeJson(response, { object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'zg-gateway' })) });
  };
}
