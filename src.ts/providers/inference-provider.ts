/**
 * The InferenceProvider port: what the gateway needs from one upstream, whatever it is
 * (a 0G provider through the SDK, or a plain OpenAI-compatible URL).
 * Version 1 of the interface; adapters declare it in `specificationVersion`.
 */

/** One chat message, as OpenAI's chat completions API defines it (content kept open). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  name?: string;
  [field: string]: unknown;
}

/** A chat completions request body. Fields the gateway does not know are passed through. */
export interface ChatCompletionRequest {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [field: string]: unknown };
  [field: string]: unknown;
}

/** Token counts as OpenAI reports them. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

/** A non-streaming answer: the parsed completion object. */
export interface ProviderJsonResult {
  kind: 'json';
  /** The id the provider signs and `verify` takes (0G: the `ZG-Res-Key` header, else the completion id). */
  chatId: string;
  /** The completion object, as the provider sent it. */
  body: Record<string, unknown>;
  usage: TokenUsage | undefined;
}

/** A streaming answer: SSE `data:` payloads in order, `[DONE]` excluded. */
export interface ProviderStreamResult {
  kind: 'stream';
  /** Known from the response headers for 0G providers; otherwise taken from the first chunk's `id`. */
  chatId: string | undefined;
  /** Each `data:` payload (a JSON text). Ends normally only after the upstream's `[DONE]`; any other end throws. */
  events: AsyncIterable<string>;
}

export type ProviderChatResult = ProviderJsonResult | ProviderStreamResult;

/** Timeouts an adapter applies to one chat call. */
export interface ChatCallOptions {
  /** Aborts the upstream request (client gone, deadline, shutdown). */
  signal: AbortSignal;
  /** Longest wait for a chunk after the previous one, in ms (streams). */
  chunkTimeoutMs?: number;
}

/** Static facts about a provider, shown in /health and /admin. */
export interface ProviderDescriptor {
  /** Stable id: the on-chain address for 0G providers, a name for others. */
  readonly id: string;
  /** The 0G provider address, or the configured name. */
  readonly address: string;
  /** The base URL requests go to. */
  readonly endpoint: string;
  /** The model this provider serves. */
  readonly model: string;
  /** Which adapter this is. */
  readonly kind: 'zg' | 'openai-compatible';
  /** Whether `verify` can check responses cryptographically. */
  readonly verifiable: boolean;
}

/** One upstream the gateway can send chats to. */
export interface InferenceProvider extends ProviderDescriptor {
  readonly specificationVersion: 'v1';
  /**
   * Sends one chat. Resolves once the provider has answered with a success status
   * (headers for streams, the whole body otherwise). Rejects with a GatewayError whose
   * `retryable` says whether another provider may succeed.
   */
  chat(request: ChatCompletionRequest, options: ChatCallOptions): Promise<ProviderChatResult>;
  /** Checks a served response's signature. `false` for a forged or unknown chat id. */
  verify(chatId: string, usage: TokenUsage | undefined, signal?: AbortSignal): Promise<boolean>;
  /** A cheap liveness probe; rejects when the provider is not reachable or not serving. */
  probe(signal: AbortSignal): Promise<void>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}
