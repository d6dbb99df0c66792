import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { headerSafe } from '../../providers/http/provider-url.js';
import { clientClosedReason } from '../../dispatch/request-scope.js';
import type { ClientKeys, KeyTicket } from '../../keys/index.js';
import { clientKeyOf } from '../client-auth.js';
import { readJsonBody } from '../read-json-body.js';
import { factsOf } from '../request-log.js';
import { validateVerifyRequest } from '../validate-request.js';
import { writeJson } from '../write-error.js';

/**
 * `POST /v1/verify {id}`: asks the provider that served `id` to prove it. With client keys, the call
 * counts against the key's `rpm` and `maxConcurrent` (it costs no tokens), and only ids served to
 * that key are found: another key's id is `response_not_found`, as an unknown one.
 */
export function verifyRoute(gateway: Gateway, bodyLimit: number, clientKeys?: ClientKeys) {
  return async (request: Request, response: Response): Promise<void> => {
    const { id } = validateVerifyRequest(await readJsonBody(request, bodyLimit));
    const key = clientKeyOf(response);
    let ticket: KeyTicket | undefined;
    try {
      if (key && clientKeys) ticket = await clientKeys.admitUnmetered(key);
      const client = new AbortController();
      response.once('close', () => {
        if (!response.writableFinished) client.abort(clientClosedReason());
      });
      const result = await gateway.verify(id, client.signal, key?.id, factsOf(response).requestId);
      factsOf(response).provider = result.provider;
      writeJson(response, result, 200, { 'x-provider-address': headerSafe(result.provider) });
    } finally {
      await ticket?.release();
    }
  };
}
