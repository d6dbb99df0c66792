import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { headerSafe } from '../../providers/http/provider-url.js';
import { clientClosedReason } from '../../gateway/request-scope.js';
import { readJsonBody } from '../read-json-body.js';
import { factsOf } from '../request-log.js';
import { validateVerifyRequest } from '../validate-request.js';
import { writeJson } from '../write-error.js';

/** `POST /v1/verify {id}`: asks the provider that served `id` to prove it. */
export function verifyRoute(gateway: Gateway, bodyLimit: number) {
  return async (request: Request, response: Response): Promise<void> => {
    const { id } = validateVerifyRequest(await readJsonBody(request, bodyLimit));
    const client = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) client.abort(clientClosedReason());
    });
    const result = await gateway.verify(id, client.signal);
    factsOf(response).provider = result.provider;
    writeJson(response, result, 200, { 'x-provider-address': headerSafe(result.provider) });
  };
}
