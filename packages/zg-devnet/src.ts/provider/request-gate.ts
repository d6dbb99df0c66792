import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProviderFault } from './fault-modes.js';
import type { SimulatedProviderStats } from './provider-stats.js';
import { sendError } from './reply-writer.js';
import { authenticate, type ChainAccounts } from './session-auth.js';

/** What the gate of a paid route needs from its provider. */
export interface GatedServing {
  readonly address: string;
  readonly stats: SimulatedProviderStats;
  readonly accounts: ChainAccounts;
}

/**
 * The gate every paid route (chat and media alike) passes before its body matters: the session token
 * (401 naming why), then the faults that answer in the request's place (`reject-auth`, `http-error`).
 * Returns the paying user's address, or undefined once it has answered.
 */
export async function passGate(serving: GatedServing, request: IncomingMessage, response: ServerResponse, fault: ProviderFault, countFault: () => void): Promise<string | undefined> {
  const authentication = await authenticate(request.headers.authorization, serving.address, serving.accounts);
  if (!authentication.ok) {
    serving.stats.rejectedAuth += 1;
    sendError(response, 401, `invalid session token: ${authentication.reason}`);
    return undefined;
  }
  if (fault.mode === 'reject-auth') {
    countFault();
    serving.stats.rejectedAuth += 1;
    sendError(response, 401, 'invalid session token: rejected by fault injection');
    return undefined;
  }
  if (fault.mode === 'http-error') {
    countFault();
    const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
    sendError(response, fault.status, `simulated HTTP ${fault.status}`, { headers });
    return undefined;
  }
  return authentication.user;
}
