import { GatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';
import type { ResponseRecord, SessionStore } from '../stores/index.js';
import type { VerifyVerdict } from '../providers/inference-provider.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';

/** The answer of `POST /v1/verify`. */
export interface VerifyResult {
  id: string;
  isValid: boolean;
  /** The provider that served it (0G address or upstream name). */
  provider: string;
  chatId: string;
  model: string;
  verifiable: boolean;
}

/**
 * Looks `id` up in the response store and asks the provider that served it for its signature,
 * within `timeoutMs` (and while the client waits). `response_not_found` (404) for an unknown or
 * expired id, and for an id served to another client key than `keyId` (undefined: no keys);
 * `verify_unavailable` (503) when the store or the provider cannot be asked.
 */
export async function verifyResponse(
  responses: SessionStore<ResponseRecord>,
  registry: ProviderRegistry,
  id: string,
  clientSignal: AbortSignal,
  timeoutMs: number,
  onVerdict?: (entry: ProviderEntry, verdict: VerifyVerdict | undefined) => void,
  keyId?: string,
): Promise<VerifyResult> {
  let record: ResponseRecord | undefined;
  try {
    record = await responses.get(id);
  } catch (error) {
    throw new GatewayError('verify_unavailable', `The response store cannot be read now, so ${id} cannot be looked up; try again`, { cause: error, retryAfterMs: 1000 });
  }
  // Another client key's response is answered exactly as an unknown one: its existence is not revealed.
  if (record && record.keyId !== keyId) record = undefined;
  if (!record) throw new GatewayError('response_not_found', `No response with id ${id} is known (unknown, or its session expired)`, { param: 'id' });
  const entry = registry.get(record.providerId);
  if (!entry) {
    throw new GatewayError('verify_unavailable', `The provider that served ${id} is no longer in the fleet`, { details: { provider: record.providerId } });
  }
  const descriptor = entry.descriptor;
  const controller = new AbortController();
  const unfollow = followAbort(clientSignal, controller);
  const timer = setTimeout(() => controller.abort(new GatewayError('upstream_timeout', `Verification took longer than ${timeoutMs} ms`)), timeoutMs);
  try {
    const verdict = descriptor.verifiable ? await raceAbort(entry.provider.verify(record.chatId, record.upstreamModel, controller.signal), controller.signal, entry.id) : undefined;
    onVerdict?.(entry, verdict);
    return { id, isValid: verdict === 'valid', provider: descriptor.address, chatId: record.chatId, model: record.model, verifiable: descriptor.verifiable };
  } finally {
    clearTimeout(timer);
    unfollow();
  }
}

/** Settles with `work`, or rejects as soon as `signal` aborts (an adapter that ignores its signal cannot hang the client). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, providerId: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(
        GatewayError.isInstance(reason) && reason.code === 'client_closed_request'
          ? reason
          : new GatewayError('verify_unavailable', `Provider ${providerId} did not return its signature in time`, { cause: reason, details: { provider: providerId } }),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
