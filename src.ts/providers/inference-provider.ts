/**
 * The InferenceProvider port: what the gateway needs from one upstream, whatever it is
 * (a 0G provider through the SDK, or a plain OpenAI-compatible URL).
 * Version 2 of the interface; adapters declare it in `specificationVersion`.
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
  stream_options?: { include_usage?: boolean; [field: string]: unknown } | null;
  [field: string]: unknown;
}

/** A legacy text completions request body (`POST /v1/completions`). */
export interface TextCompletionRequest {
  model?: string;
  prompt: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [field: string]: unknown } | null;
  [field: string]: unknown;
}

/**
 * An embeddings request body (`POST /v1/embeddings`): `input` is a string, strings, or token
 * arrays. Fields the gateway does not know are passed through.
 */
export interface EmbeddingRequest {
  model?: string;
  input: unknown;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  stream?: undefined;
  stream_options?: undefined;
  [field: string]: unknown;
}

/**
 * Which OpenAI endpoint a call is for. Added in v2 without a version bump (additive): `embeddings`
 * (`POST /v1/embeddings`), `image-generations` (`POST /v1/images/generations`), `image-edits`
 * (`POST /v1/images/edits`, multipart) and `transcriptions` (`POST /v1/audio/transcriptions`,
 * multipart), each answered as one body, never streamed. An adapter that does not serve a route
 * rejects with `route_not_supported`; the planner sends a route only to providers whose offer of
 * the model has the route's service type ({@link serviceTypeOfRoute}).
 */
export type CompletionRoute = 'chat' | 'completions' | 'embeddings' | MediaRoute;

/** The routes of the 0G media services (images and speech). */
export type MediaRoute = 'image-generations' | 'image-edits' | 'transcriptions';

/** True for a media route. */
export function isMediaRoute(route: CompletionRoute): route is MediaRoute {
  return route === 'image-generations' || route === 'image-edits' || route === 'transcriptions';
}

/**
 * What kind of service a model offer is: `chat` (chat and text completions, the default),
 * `embedding`, or one of the 0G media services (`text-to-image`, `image-editing`, `speech-to-text`,
 * as the serving contract names them). Model groups are per service type: a request only goes to
 * offers of its type.
 */
export type ServiceType = 'chat' | 'embedding' | 'text-to-image' | 'image-editing' | 'speech-to-text';

/** Every service type, chat first. */
export const SERVICE_TYPES: readonly ServiceType[] = Object.freeze(['chat', 'embedding', 'text-to-image', 'image-editing', 'speech-to-text']);

const ROUTE_SERVICE_TYPES: Readonly<Record<CompletionRoute, ServiceType>> = Object.freeze({
  chat: 'chat',
  completions: 'chat',
  embeddings: 'embedding',
  'image-generations': 'text-to-image',
  'image-edits': 'image-editing',
  transcriptions: 'speech-to-text',
});

/** The service type a route needs from the model offer it is sent to. */
export function serviceTypeOfRoute(route: CompletionRoute): ServiceType {
  return ROUTE_SERVICE_TYPES[route];
}

/** The service type of an offer (`chat` when it declares none). */
export function serviceTypeOf(offer: ModelOffer): ServiceType {
  return offer.serviceType ?? 'chat';
}

/** Token counts as OpenAI reports them. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

/** How a service proves its answers (as the 0G contract names it); `none` for plain upstreams. */
export type Verifiability = 'TeeML' | 'OpML' | 'ZKML' | 'none';

/** A price multiplier that applies from a prompt size on (0G tiered pricing). */
export interface PriceTier {
  /** The tier applies to prompts of at most this many tokens (tiers sorted ascending). */
  readonly maxInputTokens: number;
  readonly inputMultiplier: number;
  readonly outputMultiplier: number;
}

/** A request feature not every provider serves (see `routing/request-needs.ts`). */
export type RequestFeature = 'tools' | 'json_schema' | 'vision' | 'logprobs';

/** What a provider or model declares it serves, per feature: true served, false not; absent: not said (allowed). */
export type DeclaredCapabilities = Readonly<Partial<Record<RequestFeature, boolean>>>;

/** One model a provider serves, with its price. */
export interface ModelOffer {
  /** The model id clients ask for. */
  readonly id: string;
  /** The id sent upstream, when it differs from `id`. Default: `id`. */
  readonly upstreamId?: string;
  /** Neuron per prompt token (0 when free or unknown). */
  readonly inputPrice: bigint;
  /** Neuron per completion token (0 when free or unknown). */
  readonly outputPrice: bigint;
  readonly contextLength?: number;
  readonly maxCompletionTokens?: number;
  /** Multipliers by prompt size; absent: flat price. */
  readonly tiers?: readonly PriceTier[];
  /** What it is offered as; absent: `chat`. */
  readonly serviceType?: ServiceType;
  /** Features this model declares (over the provider's own declaration); absent: the provider's. */
  readonly capabilities?: DeclaredCapabilities;
}

/** Facts about a provider: who it is, where, which models at which prices, whether it can prove its answers. */
export interface ProviderDescriptor {
  /** Stable id: the on-chain address for 0G providers, a name for others. */
  readonly id: string;
  /** Which adapter this is. */
  readonly kind: 'zg' | 'openai-compatible' | (string & {});
  /** The 0G provider address, or the configured name. */
  readonly address: string;
  /** The base URL requests go to. */
  readonly endpoint: string;
  /** The models it serves (the first is its default). Empty: it takes whatever model the client names. */
  readonly models: readonly ModelOffer[];
  /** Whether `verify` can check responses cryptographically. */
  readonly verifiable: boolean;
  readonly verifiability: Verifiability;
  /** Features it declares for all its models (a model's own declaration wins); absent: not said. */
  readonly capabilities?: DeclaredCapabilities;
}

/**
 * A `multipart/form-data` request body as the client sent it, kept once as the chunks it arrived in
 * (never concatenated): forwarded byte for byte, and again on failover.
 */
export interface MultipartUpload {
  /** The client's Content-Type, boundary included. */
  readonly contentType: string;
  readonly chunks: readonly Buffer[];
  /** Total bytes of `chunks`. */
  readonly size: number;
  /** The form's `model` field as sent (an adapter rewrites it only when the provider knows the model by another id). */
  readonly model: string | undefined;
  /** The form's file parts as read (name, size in bytes), in order; absent on a form the gateway made. */
  readonly files?: readonly { readonly name: string; readonly size: number }[];
}

/**
 * A media request's fields (`POST /v1/images/generations` as sent; the text fields of a multipart
 * form for edits and transcriptions). Fields the gateway does not know are passed through.
 */
export interface MediaRequest {
  model?: string;
  stream?: undefined;
  stream_options?: undefined;
  [field: string]: unknown;
}

/** A request as an adapter sends it: the body is final (model chosen, gateway-only fields removed). */
export interface UpstreamCall {
  readonly route: CompletionRoute;
  readonly body: ChatCompletionRequest | TextCompletionRequest | EmbeddingRequest | MediaRequest;
  /** A multipart route's form, sent instead of `body` (which holds its text fields). */
  readonly upload?: MultipartUpload;
}

/** Bounds an adapter enforces on what a provider sends back. */
export interface ResponseLimits {
  /** Largest JSON answer body, in bytes. */
  readonly maxResponseBytes: number;
  /** Largest single SSE event (or line), in bytes. */
  readonly maxSseEventBytes: number;
}

/** Timeouts and limits an adapter applies to one call. */
export interface ChatCallOptions {
  /** Aborts the upstream request (client gone, deadline, shutdown); its reason is what the call rejects with. */
  signal: AbortSignal;
  /** Longest wait for a chunk after the previous one, in ms (streams). Default: none. */
  chunkTimeoutMs?: number;
  /** Default: 32 MiB per JSON answer, 1 MiB per SSE event. */
  limits?: ResponseLimits;
  /** Headers to add to the upstream request (W3C `traceparent` when tracing is on). Default none. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * What a media answer is billed by, as the 0G SDK's extractor for its service type counts it: fee =
 * `input` × input price + `output` × output price. Images: `input` = the request's `n`; speech:
 * billable seconds (or input tokens, `output` = output tokens).
 */
export interface BilledUnits {
  readonly unit: 'image' | 'second' | 'token';
  readonly input: number;
  readonly output: number;
  /** The content the SDK's extractor reads (`processResponse`'s third argument). */
  readonly content: string;
  /** The gateway measured the units itself (a transcription answered without usage: the WAV's duration). */
  readonly estimated?: boolean;
}

/** What the gateway reads from an answer; the bytes themselves are relayed untouched. */
export interface AnswerFacts {
  /** The completion's `id`, when it has one. */
  readonly responseId: string | undefined;
  /** The model the provider says answered. */
  readonly model: string | undefined;
  readonly usage: TokenUsage | undefined;
  /** Media answers: what the answer is billed by (they have no token usage). */
  readonly billed?: BilledUnits;
}

/** A non-streaming answer: the body exactly as the provider sent it, and what was read from it. */
export interface ProviderJsonResult {
  readonly kind: 'json';
  /** The id the provider signs and `verify` takes (0G: the `ZG-Res-Key` header, else the completion id). */
  readonly chatId: string;
  /** The body, byte for byte. */
  readonly bytes: Buffer;
  readonly facts: AnswerFacts;
  /** Its Content-Type when not `application/json` (a transcription as text, srt or vtt). */
  readonly contentType?: string;
}

/** One server-sent event, as received. */
export interface SseEvent {
  /** The event's bytes exactly as received, including the blank line that ended it. */
  readonly raw: Buffer;
  /** The parsed JSON of its `data`, or undefined for an event without data (a comment or keep-alive). */
  readonly json: Record<string, unknown> | undefined;
}

/** A streaming answer: SSE events in order; `[DONE]` ends the iteration and is not yielded. */
export interface ProviderStreamResult {
  readonly kind: 'stream';
  /** Known from the response headers for 0G providers; otherwise taken from the first event's `id`. */
  readonly chatId: string | undefined;
  /**
   * The events. Ends normally only after the upstream's `[DONE]`; any other end, an `error`
   * event, or an event whose data is not a JSON object throws a GatewayError.
   */
  readonly events: AsyncIterator<SseEvent, undefined>;
}

export type ProviderChatResult = ProviderJsonResult | ProviderStreamResult;

/** What checking one response's signature found. */
export type VerifyVerdict = 'valid' | 'invalid' | 'unsigned';

/** One upstream the gateway can send chats to. */
export interface InferenceProvider {
  readonly specificationVersion: 'v2';
  /** Stable id, equal to `descriptor.id`. */
  readonly id: string;
  /** Current facts; may be replaced when the catalog learns of a change (price, URL, models). */
  readonly descriptor: ProviderDescriptor;
  /**
   * Sends one call. Resolves once the provider has answered with a success status (headers
   * for streams, the whole body otherwise). Rejects with a GatewayError whose `retryable` says
   * whether another provider may succeed.
   */
  chat(call: UpstreamCall, options: ChatCallOptions): Promise<ProviderChatResult>;
  /**
   * Checks a served response's signature, adding no fee: `valid`; `invalid` (forged, or signed by
   * another key than the acknowledged signer); `unsigned` (the provider has no signature for it).
   * Rejects with `verify_unavailable` when the provider cannot be asked.
   */
  verify(chatId: string, model: string, signal: AbortSignal): Promise<VerifyVerdict>;
  /** Told once per served answer with its usage (0G: the SDK's fee cache). Must not throw. */
  recordUsage?(usage: TokenUsage, model: string): void;
  /** Told once per served media answer with what it is billed by (0G: the SDK's fee cache). Must not throw. */
  recordBilled?(billed: BilledUnits, model: string): void;
  /** A cheap liveness probe; rejects when the provider is not reachable or not serving. */
  probe(signal: AbortSignal): Promise<void>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** The model a descriptor serves under `id`, if any (a provider with no listed models takes any). */
export function findModelOffer(descriptor: ProviderDescriptor, id: string): ModelOffer | undefined {
  for (const offer of descriptor.models) if (offer.id === id) return offer;
  return undefined;
}
