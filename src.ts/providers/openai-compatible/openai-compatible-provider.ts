import { sendChatOverHttp } from '../http/chat-over-http.js';
import { probeOverHttp } from '../http/probe-over-http.js';
import type { UpstreamHttpClient } from '../http/upstream-http-client.js';
import { withoutCredentials } from '../http/provider-url.js';
import { capabilityTable } from '../capability-table.js';
import type { ChatCallOptions, InferenceProvider, ModelOffer, ServiceType, ProviderChatResult, ProviderDescriptor, UpstreamCall, VerifyVerdict } from '../inference-provider.js';

/** A model a plain upstream serves: its id, or the id clients use, what the upstream calls it and its price. */
export type OpenAICompatibleModel =
  | string
  | {
      id: string;
      upstreamId?: string;
      inputPrice?: bigint | number | string;
      outputPrice?: bigint | number | string;
      contextLength?: number;
      /** Features this model serves (`tools`, `json_schema`, `vision`, `logprobs`), over the provider's `capabilities`; absent: the provider's. */
      capabilities?: readonly string[];
      /** What it is offered as: `chat` (default) or `embedding` (served on `POST /v1/embeddings` only). */
      type?: ServiceType;
    };

/** A plain OpenAI-compatible upstream. */
export interface OpenAICompatibleProviderOptions {
  /** Stable name (used as its id and address in responses). */
  name: string;
  /** Base URL up to `/v1`, e.g. `http://127.0.0.1:8000/v1`. A user name or password in it is dropped (never sent, never shown): use `apiKey`. */
  baseUrl: string;
  /** The models it serves. Empty or absent: it takes whatever model the client names. */
  models?: readonly OpenAICompatibleModel[];
  /** Bearer key, sent as `Authorization`. Never logged. */
  apiKey?: string;
  /** Features it serves for every model; a feature not listed is not served; absent: not said (allowed). */
  capabilities?: readonly string[];
  client: UpstreamHttpClient;
}

function toOffer(model: OpenAICompatibleModel): ModelOffer {
  if (typeof model === 'string') return { id: model, inputPrice: 0n, outputPrice: 0n };
  return {
    id: model.id,
    ...(model.upstreamId && model.upstreamId !== model.id ? { upstreamId: model.upstreamId } : {}),
    inputPrice: BigInt(model.inputPrice ?? 0),
    outputPrice: BigInt(model.outputPrice ?? 0),
    ...(model.contextLength !== undefined ? { contextLength: model.contextLength } : {}),
    ...(model.type !== undefined && model.type !== 'chat' ? { serviceType: model.type } : {}),
    ...(model.capabilities !== undefined ? { capabilities: capabilityTable(model.capabilities) } : {}),
  };
}

/**
 * An OpenAI-compatible upstream (vLLM, llama.cpp, a hosted API). It cannot prove its answers,
 * so `verify` always says false.
 */
export class OpenAICompatibleProvider implements InferenceProvider {
  readonly specificationVersion = 'v2' as const;
  readonly id: string;
  #descriptor: ProviderDescriptor;
  readonly #options: OpenAICompatibleProviderOptions;
  readonly #authorization: Record<string, string>;

  constructor(options: OpenAICompatibleProviderOptions) {
    this.#options = options;
    this.id = options.name;
    this.#authorization = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.#descriptor = {
      id: options.name,
      kind: 'openai-compatible',
      address: options.name,
      endpoint: withoutCredentials(options.baseUrl).replace(/\/+$/, ''),
      models: (options.models ?? []).map(toOffer),
      verifiable: false,
      verifiability: 'none',
      ...(options.capabilities !== undefined ? { capabilities: capabilityTable(options.capabilities) } : {}),
    };
  }

  get descriptor(): ProviderDescriptor {
    return this.#descriptor;
  }

  /** Replaces the served models (e.g. after a config reload). */
  setModels(models: readonly OpenAICompatibleModel[]): void {
    this.#descriptor = { ...this.#descriptor, models: models.map(toOffer) };
  }

  chat(call: UpstreamCall, options: ChatCallOptions): Promise<ProviderChatResult> {
    return sendChatOverHttp({ client: this.#options.client, providerId: this.id, baseUrl: this.#descriptor.endpoint, headers: this.#authorization, call, options });
  }

  async verify(): Promise<VerifyVerdict> {
    return 'unsigned';
  }

  /** Probes `GET /models` with the configured key. */
  probe(signal: AbortSignal): Promise<void> {
    return probeOverHttp(this.#options.client, this.id, `${this.#descriptor.endpoint}/models`, signal, this.#authorization);
  }

  async close(): Promise<void> {}
}
