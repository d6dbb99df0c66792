import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { GatewayState } from '../../gateway/gateway-state.js';
import { factsOf, route } from '../request-context.js';
import { validateVerifyRequest } from '../validate-chat-request.js';

/** `POST /v1/verify {id}`: asks the provider that served `id` to prove it, through the SDK. */
export function verifyRoute(state: GatewayState) {
  return route(async (request: Request, response: Response) => {
    const { id } = validateVerifyRequest(request.body);
    const record = await state.responses.get(id);
    if (!record) {
      throw new GatewayError('response_not_found', `No response with id ${id} is known (unknown, or its session expired)`, { param: 'id' });
    }
    const entry = state.registry.get(record.providerId);
    if (!entry) {
      throw new GatewayError('verify_unavailable', `The provider that served ${id} is no longer configured`, { details: { provider: record.providerId } });
    }
    factsOf(response).provider = entry.provider.id;
    response.setHeader('X-Provider-Address', entry.provider.address);
    const isValid = await entry.provider.verify(record.chatId, record.usage, AbortSignal.timeout(state.verifyTimeoutMs));
    response.json({ id, isValid, provider: entry.provider.address, chatId: record.chatId, model: record.model, verifiable: entry.provider.verifiable });
  });
}
