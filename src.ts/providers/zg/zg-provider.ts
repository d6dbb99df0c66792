import { GatewayError } from '../../errors/index.js';
import { sendChatOverHttp } from '../http/chat-over-http.js';
import { probeOverHttp } from '../http/probe-over-http.js';
import { errorForTransportFailure } from '../http/upstream-errors.js';
import { discardBody, type UpstreamHttpClient, type UpstreamResponse } from '../http/upstream-http-client.js';
import type { BilledUnits, ChatCallOptions, InferenceProvider, ModelOffer, ProviderChatResult, ProviderDescriptor, TokenUsage, UpstreamCall, VerifyVerdict } from '../inference-provider.js';
import type { SessionHeaderCache } from './session-header-cache.js';
import { verifyResponseSignature } from './zg-sdk.js';
import { describeService, signingAddressOf, type ZgService } from './zg-service.js';

/** Largest signature answer read, in bytes. */
const MAX_SIGNATURE_BYTES = 64 * 1024;

/** What a ZgProvider needs; the SDK calls come in as functions so this file never imports the SDK broker. */
export interface ZgProviderInit {
  /** The service as the chain publishes it. */
  service: ZgService;
  /** Its per-model catalog, for a multi-model service. */
  models?: readonly ModelOffer[];
  client: UpstreamHttpClient;
  /** Signed request headers, reused until their token nears expiry. */
  headers: SessionHeaderCache;
  /** Adds one answer's fee to the SDK's fee cache (`processResponse` without a chat id). */
  recordFee(usageJson: string): Promise<unknown>;
  stopAutoFunding(): void;
}

/** A 0G provider reached through the SDK: signed request headers, verification by TEE signature. */
export class ZgProvider implements InferenceProvider {
  readonly specificationVersion = 'v2' as const;
  readonly id: string;
  #descriptor: ProviderDescriptor;
  #service: ZgService;
  readonly #init: ZgProviderInit;

  constructor(init: ZgProviderInit) {
    this.#init = init;
    this.#service = init.service;
    this.id = init.service.provider;
    this.#descriptor = describeService(init.service, init.models);
  }

  get descriptor(): ProviderDescriptor {
    return this.#descriptor;
  }

  /** The service as last read from the chain. */
  get service(): ZgService {
    return this.#service;
  }

  /** Takes a changed service (price, URL, model, signer) or catalog, as the chain or provider now publish it. */
  update(service: ZgService, models?: readonly ModelOffer[]): void {
    this.#service = service;
    this.#descriptor = describeService(service, models);
  }

  /** How many times request headers were signed (not once per request: they are reused). */
  get headerFetches(): number {
    return this.#init.headers.fetches;
  }

  /** The request headers a chat is sent with now; exposed for diagnostics and benchmarks. */
  signRequestHeaders(): Promise<Record<string, string>> {
    return this.#init.headers.get();
  }

  async chat(call: UpstreamCall, options: ChatCallOptions): Promise<ProviderChatResult> {
    // No 0G service type offers embeddings (SDK 0.9.0: chatbot, text-to-image, image-editing, speech-to-text); the planner never sends one here.
    if (call.route === 'embeddings') {
      throw new GatewayError('route_not_supported', `Provider ${this.id} (0G) does not serve POST /v1/embeddings`, { retryable: true, details: { provider: this.id } });
    }
    const headers = this.#init.headers.current() ?? (await this.#init.headers.get());
    if (options.signal.aborted) throw errorForTransportFailure(undefined, options.signal, this.id);
    try {
      return await sendChatOverHttp({ client: this.#init.client, providerId: this.id, baseUrl: this.#descriptor.endpoint, headers, call, options });
    } catch (error) {
      // Refused headers (expired, revoked, generation changed): sign a new token for the next request.
      if (GatewayError.isInstance(error) && error.code === 'upstream_auth_rejected') this.#init.headers.invalidate();
      throw error;
    }
  }

  recordUsage(usage: TokenUsage): void {
    this.#init.recordFee(JSON.stringify(usage)).catch(() => undefined);
  }

  /** A media answer's fee, given to the SDK as its extractor reads it (images: the request payload, so `n` counts; speech: the answer's usage). */
  recordBilled(billed: BilledUnits): void {
    this.#init.recordFee(billed.content).catch(() => undefined);
  }

  /**
   * Fetches the provider's signature for `chatId` (bounded by `signal`) and checks it with the
   * SDK against the signer registered and acknowledged on chain: `unsigned` for a chat id it has
   * no signature for; `invalid` for a forged signature or a signer the contract owner has not
   * acknowledged. Adds no fee.
   */
  async verify(chatId: string, model: string, signal: AbortSignal): Promise<VerifyVerdict> {
    const service = this.#service;
    const url = `${service.url}/v1/proxy/signature/${encodeURIComponent(chatId)}?model=${encodeURIComponent(model)}`;
    let answer: { text?: unknown; signature?: unknown };
    try {
      const response = await this.#init.client.send('GET', url, { signal });
      if (response.status === 404) {
        discardBody(response.body);
        return 'unsigned';
      }
      if (response.status !== 200) {
        discardBody(response.body);
        throw new GatewayError('verify_unavailable', `Provider ${this.id} did not return the signature (HTTP ${response.status})`, {
          details: { provider: this.id, upstreamStatus: response.status },
        });
      }
      answer = await readSmallJson(response.body, MAX_SIGNATURE_BYTES);
    } catch (error) {
      if (GatewayError.isInstance(error) && error.code === 'verify_unavailable') throw error;
      const reason: unknown = signal.reason;
      const timedOut = signal.aborted && (!GatewayError.isInstance(reason) || reason.code === 'upstream_timeout');
      throw new GatewayError('verify_unavailable', `Provider ${this.id} could not be asked for the signature${timedOut ? ' in time' : ''}`, {
        cause: error,
        details: { provider: this.id },
      });
    }
    if (typeof answer.text !== 'string' || typeof answer.signature !== 'string') return 'invalid';
    if (!service.teeSignerAcknowledged || this.#descriptor.verifiability === 'none') return 'invalid';
    try {
      return verifyResponseSignature(answer.text, answer.signature, signingAddressOf(service)) ? 'valid' : 'invalid';
    } catch {
      return 'invalid';
    }
  }

  /**
   * What the provider says the wallet owes it and has not settled yet, in neuron
   * (`GET /v1/user/:address/unsettledfee`, with the session token). Rejects when it cannot say.
   */
  async unsettledFee(walletAddress: string, signal: AbortSignal): Promise<bigint> {
    const headers = this.#init.headers.current() ?? (await this.#init.headers.get());
    const response = await this.#init.client.send('GET', `${this.#service.url}/v1/user/${walletAddress}/unsettledfee`, { headers, signal });
    if (response.status !== 200) {
      discardBody(response.body);
      throw new GatewayError('upstream_error', `Provider ${this.id} did not report the unsettled fee (HTTP ${response.status})`, { upstreamStatus: response.status });
    }
    const answer = (await readSmallJson(response.body, MAX_SIGNATURE_BYTES)) as { unsettledFee?: unknown };
    const fee = answer.unsettledFee;
    if ((typeof fee !== 'string' && typeof fee !== 'number') || !/^\d+$/.test(String(fee))) throw new GatewayError('upstream_error', `Provider ${this.id} reported an unreadable unsettled fee`);
    return BigInt(fee);
  }

  /** Probes the service URL's `/v1/quote` (cheap, served without a session token). */
  probe(signal: AbortSignal): Promise<void> {
    return probeOverHttp(this.#init.client, this.id, `${this.#service.url}/v1/quote`, signal);
  }

  async close(): Promise<void> {
    this.#init.stopAutoFunding();
  }
}

async function readSmallJson(body: UpstreamResponse['body'], limit: number): Promise<Record<string, unknown>> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      discardBody(body);
      throw new Error(`signature answer larger than ${limit} bytes`);
    }
    pieces.push(buffer);
  }
  const value: unknown = JSON.parse(Buffer.concat(pieces).toString('utf8'));
  if (typeof value !== 'object' || value === null) throw new Error('signature answer is not a JSON object');
  return value as Record<string, unknown>;
}
