import { sendChatOverHttp } from '../http/chat-over-http.js';
import { probeOverHttp } from '../http/probe-over-http.js';
import type { UpstreamHttpClient } from '../http/upstream-http-client.js';
import type { ChatCallOptions, ChatCompletionRequest, InferenceProvider, ProviderChatResult } from '../inference-provider.js';

/** A plain OpenAI-compatible upstream. */
export interface OpenAICompatibleProviderOptions {
  /** Stable name (used as its id and address in responses). */
  name: string;
  /** Base URL up to `/v1`, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Model to request; when absent the client's `model` is forwarded. */
  model?: string;
  /** Bearer key, sent as `Authorization`. Never logged. */
  apiKey?: string;
  client: UpstreamHttpClient;
}

/**
 * An OpenAI-compatible upstream (vLLM, llama.cpp, a hosted API). It cannot prove its answers,
 * so `verify` always says false.
 */
export class OpenAICompatibleProvider implements InferenceProvider {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'openai-compatible' as const;
  readonly verifiable = false;
  readonly id: string;
  readonly address: string;
  readonly endpoint: string;
  readonly model: string;
  private readonly options: OpenAICompatibleProviderOptions;

  constructor(options: OpenAICompatibleProviderOptions) {
    this.options = options;
    this.id = options.name;
    this.address = options.name;
    this.endpoint = options.baseUrl.replace(/\/+$/, '');
    this.model = options.model ?? '';
  }

  private authorization(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  chat(request: ChatCompletionRequest, options: ChatCallOptions): Promise<ProviderChatResult> {
    return sendChatOverHttp({
      client: this.options.client,
      providerId: this.id,
      url: `${this.endpoint}/chat/completions`,
      headers: this.authorization(),
      request: this.options.model ? { ...request, model: this.options.model } : request,
      options,
    });
  }

  async verify(): Promise<boolean> {
    return false;
  }

  /** Probes `GET /models` with the configured key. */
  probe(signal: AbortSignal): Promise<void> {
    return probeOverHttp(this.options.client, this.id, `${this.endpoint}/models`, signal, this.authorization());
  }

  async close(): Promise<void> {}
}
