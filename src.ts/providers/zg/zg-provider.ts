import { GatewayError } from '../../errors/index.js';
import { errorForTransportFailure, sendChatOverHttp } from '../http/chat-over-http.js';
import { probeOverHttp } from '../http/probe-over-http.js';
import { discardBody, type UpstreamHttpClient } from '../http/upstream-http-client.js';
import type { ChatCallOptions, ChatCompletionRequest, InferenceProvider, ProviderChatResult, TokenUsage } from '../inference-provider.js';

/** What a ZgProvider needs; the SDK calls come in as functions so this file never imports the SDK. */
export interface ZgProviderInit {
  address: string;
  /** `<service url>/v1/proxy`, from the SDK. */
  endpoint: string;
  model: string;
  client: UpstreamHttpClient;
  getRequestHeaders(): Promise<Record<string, string>>;
  processResponse(chatId: string, usageJson: string | undefined): Promise<boolean | null>;
  stopAutoFunding(): void;
}

/** A 0G provider reached through the SDK: signed request headers, verification by TEE signature. */
export class ZgProvider implements InferenceProvider {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'zg' as const;
  readonly verifiable = true;
  readonly id: string;
  readonly address: string;
  readonly endpoint: string;
  readonly model: string;
  private readonly init: ZgProviderInit;

  constructor(init: ZgProviderInit) {
    this.init = init;
    this.id = init.address;
    this.address = init.address;
    this.endpoint = init.endpoint;
    this.model = init.model;
  }

  /** Signs a fresh set of 0G request headers (the SDK's `getRequestHeaders`); exposed for diagnostics and benchmarks. */
  signRequestHeaders(): Promise<Record<string, string>> {
    return this.init.getRequestHeaders();
  }

  async chat(request: ChatCompletionRequest, options: ChatCallOptions): Promise<ProviderChatResult> {
    const headers = await this.init.getRequestHeaders();
    if (options.signal.aborted) throw errorForTransportFailure(undefined, options.signal, this.id);
    return sendChatOverHttp({
      client: this.init.client,
      providerId: this.id,
      url: `${this.endpoint}/chat/completions`,
      headers,
      // The provider serves the model registered on chain; clients' model names are not forwarded.
      request: { ...request, model: this.model },
      options,
    });
  }

  /**
   * Verifies through the SDK's `processResponse` (fee accounting + TEE signature check).
   * When the SDK cannot fetch the signature, asks the provider once directly: a 404 means it
   * never signed that chat id (false); anything else means it could not be asked (typed error).
   */
  async verify(chatId: string, usage: TokenUsage | undefined, signal?: AbortSignal): Promise<boolean> {
    try {
      const result = await this.init.processResponse(chatId, usage ? JSON.stringify(usage) : undefined);
      return result === true;
    } catch (sdkError) {
      const url = `${this.endpoint}/signature/${encodeURIComponent(chatId)}?model=${encodeURIComponent(this.model)}`;
      const probeSignal = signal ?? AbortSignal.timeout(5000);
      try {
        const response = await this.init.client.send('GET', url, { signal: probeSignal });
        discardBody(response.body);
        if (response.status === 404) return false;
        throw new GatewayError('verify_unavailable', `Provider ${this.id} did not return the signature (HTTP ${response.status})`, {
          cause: sdkError,
          details: { provider: this.id, upstreamStatus: response.status },
        });
      } catch (error) {
        if (GatewayError.isInstance(error)) throw error;
        throw new GatewayError('verify_unavailable', `Provider ${this.id} could not be asked for the signature`, {
          cause: error,
          details: { provider: this.id },
        });
      }
    }
  }

  /** Probes the service URL's `/v1/quote` (cheap, served without a session token). */
  probe(signal: AbortSignal): Promise<void> {
    const serviceUrl = this.endpoint.replace(/\/v1\/proxy\/?$/, '');
    return probeOverHttp(this.init.client, this.id, `${serviceUrl}/v1/quote`, signal);
  }

  async close(): Promise<void> {
    this.init.stopAutoFunding();
  }
}
