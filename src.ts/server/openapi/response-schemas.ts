/**
 * The shapes of what the gateway answers, as zod schemas, for the OpenAPI document (requests are
 * documented from the very schemas that validate them, in `validate-request.ts`). Nothing
 * validates responses at run time; the tests parse real responses with these, so they cannot
 * drift from what the routes send. Provider answers are relayed byte for byte, so their schemas
 * name the fields the gateway relies on and let the provider's others through.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../errors/index.js';
import { SERVICE_TYPES, type ServiceType } from '../../providers/inference-provider.js';

const nullableNumber = z.number().nullable();

/** The body of every error response (OpenAI's shape), and of an in-band stream error event. */
export const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().describe('OpenAI-style error type, e.g. `invalid_request_error`.'),
    param: z.string().nullable().describe('The parameter at fault, when one is.'),
    code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]),
    details: z.record(z.string(), z.unknown()).optional().describe('e.g. `attempts` for `all_providers_failed`.'),
  }),
});

const usageSchema = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }).passthrough();

/** A chat completion, as the provider sent it. */
export const chatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int().optional(),
    model: z.string().optional(),
    choices: z.array(
      z
        .object({
          index: z.number().int(),
          message: z.object({ role: z.string(), content: z.string().nullable() }).passthrough(),
          finish_reason: z.string().nullable(),
        })
        .passthrough(),
    ),
    usage: usageSchema.optional(),
  })
  .passthrough();

/** One `data:` event of a chat stream (the stream ends with `data: [DONE]`, or an in-band error and no `[DONE]`). */
export const chatCompletionChunkSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    model: z.string().optional(),
    choices: z.array(z.object({ index: z.number().int(), delta: z.record(z.string(), z.unknown()), finish_reason: z.string().nullable() }).passthrough()),
    usage: usageSchema.nullable().optional(),
  })
  .passthrough();

/** `POST /v1/images/generations` and `/v1/images/edits`: the provider's answer, relayed byte for byte. */
export const imagesAnswerSchema = z
  .object({
    created: z.number().int().optional(),
    data: z
      .array(
        z
          .object({
            url: z.string().optional().describe('Where the image is served (`response_format: "url"`).'),
            b64_json: z.string().optional().describe('The PNG, base64 (`response_format: "b64_json"`).'),
            revised_prompt: z.string().optional(),
          })
          .passthrough(),
      )
      .min(1),
  })
  .passthrough();

/** `POST /v1/audio/transcriptions` (`json`, `verbose_json`): the provider's answer, relayed byte for byte. */
export const transcriptionSchema = z
  .object({
    text: z.string(),
    usage: z
      .union([
        z.object({ type: z.literal('duration'), seconds: z.number() }).passthrough(),
        z.object({ type: z.literal('tokens'), input_tokens: z.number().optional(), output_tokens: z.number().optional() }).passthrough(),
      ])
      .optional()
      .describe('What it is billed by: seconds of audio (rounded, at least 1) or tokens.'),
  })
  .passthrough();

/** `POST /v1/embeddings`: the upstream's list, relayed byte for byte. */
export const embeddingListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z
        .object({
          object: z.literal('embedding'),
          index: z.number().int(),
          embedding: z.union([z.array(z.number()), z.string()]).describe('The vector: numbers, or base64 of little-endian float32 with `encoding_format: "base64"`.'),
        })
        .passthrough(),
    ),
    model: z.string().optional(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }).passthrough().optional(),
  })
  .passthrough();

/** A legacy text completion. */
export const textCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('text_completion'),
    model: z.string().optional(),
    choices: z.array(z.object({ index: z.number().int(), text: z.string(), finish_reason: z.string().nullable() }).passthrough()),
    usage: usageSchema.optional(),
  })
  .passthrough();

/** `POST /v1/verify`. */
export const verifyResultSchema = z.object({
  id: z.string(),
  isValid: z.boolean().describe("The provider's TEE signature checks out against the signer registered on chain."),
  provider: z.string().describe('The provider that served it (0G address or upstream name).'),
  chatId: z.string(),
  model: z.string(),
  verifiable: z.boolean().describe('False for providers that cannot prove their answers (isValid is then false).'),
});

const priceRange = z.object({ min: z.string(), max: z.string() });

/** One model group (`GET /v1/models/{id}`, and each entry of the list). */
export const modelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  providers: z.number().int().describe('Providers in the fleet serving it.'),
  healthy_providers: z.number().int().describe('Of those, in rotation now.'),
  catalog_providers: z.number().int().describe('Services on chain offering it that the gateway has not funded (yet).'),
  pricing: z
    .object({ unit: z.literal('0G per 1M tokens'), prompt: priceRange, completion: priceRange })
    .nullable()
    .describe('Price range over its providers; null when none states a price.'),
  verifiability: z.array(z.string()).describe('How its providers prove their answers (TeeML, ZKML, ...; none for plain upstreams).'),
  context_length: z.number().int().nullable(),
  service_type: z
    .enum(SERVICE_TYPES as [ServiceType, ...ServiceType[]])
    .describe('What it is served as: `chat` (chat and text completions), `embedding` (`POST /v1/embeddings`), `text-to-image` (`POST /v1/images/generations`), `image-editing` (`POST /v1/images/edits`) or `speech-to-text` (`POST /v1/audio/transcriptions`). Model groups are per service type.'),
  service_types: z.array(z.enum(SERVICE_TYPES as [ServiceType, ...ServiceType[]])).optional().describe('Every type it is served as, when providers offer the same id as more than one.'),
  alias_of: z.string().optional().describe('For an alias: the model it stands for.'),
});

/** `GET /v1/models`. */
export const modelListSchema = z.object({
  object: z.literal('list'),
  data: z.array(modelSchema),
});

/** `POST /admin/catalog/refresh`. */
export const catalogRefreshSchema = z.object({
  services: z.number().int(),
  matching: z.number().int(),
  joined: z.array(z.string()),
  left: z.array(z.string()),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  durationMs: z.number(),
});

/** `POST /admin/providers/{address}/readmit`. */
export const readmitSchema = z.object({
  provider: z.string(),
  trust: z.literal('trusted'),
  previous: z.object({ state: z.string(), reason: z.string().nullable() }),
});

const failedProviderSchema = z.object({ address: z.string(), code: z.string(), message: z.string(), at: z.string() }).describe('A configured provider not initialised (yet), tried again on every health check.');

/** `GET /health`. */
/** The admission queue's figures (`/health`, `/admin/providers`, `/admin/queue`, `/nodes/status`). */
export const queueStatsSchema = z.object({
  depth: z.number().int().describe('Requests waiting now.'),
  maxSize: z.number().int(),
  timeoutMs: z.number().int(),
  depthByPriority: z.record(z.string(), z.number().int()).describe('Waiting now, per priority (0-10).'),
  queued: z.number().int().describe('Requests that waited, since start.'),
  admitted: z.number().int(),
  timeouts: z.number().int().describe('Answered 503 `queue_timeout`.'),
  abandoned: z.number().int().describe('Left while waiting (client gone, shutdown).'),
  rejected: z.number().int().describe('Answered 429 `queue_full`.'),
  maxWaitMs: z.number(),
  lastWaitMs: z.number(),
  oldestWaitMs: z.number().describe('How long the oldest waiter has waited.'),
});

export const healthSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'shutting_down']),
  timestamp: z.string(),
  loadBalancer: z.object({
    strategy: z.string(),
    totalProviders: z.number().int(),
    healthyProviders: z.number().int(),
    providersInRotation: z.number().int(),
    totalConnections: z.number().int(),
    activeSessions: z.number().int().nullable(),
    providers: z.array(
      z.object({
        address: z.string(),
        endpoint: z.string(),
        model: z.string(),
        models: z.array(z.string()),
        isHealthy: z.boolean(),
        inRotation: z.boolean(),
        outOfRotationReason: z.string().nullable(),
        state: z.string(),
        funding: z.string(),
        trust: z.string(),
        membership: z.string(),
        connections: z.number().int(),
        lastHealthCheck: z.string().nullable(),
      }),
    ),
  }),
  failedProviders: z.array(failedProviderSchema),
  queue: queueStatsSchema,
});

const stateNoteSchema = z.object({ state: z.string(), since: z.string(), reason: z.string().nullable() });

/** One provider as `describeProviders()` shows it (`/admin/providers`). */
export const providerViewSchema = z.object({
  id: z.string(),
  name: z.string().nullable().describe('The name given in the `providers` option (`{ address, name }`); null when not named.'),
  address: z.string(),
  kind: z.string(),
  endpoint: z.string(),
  models: z.array(
    z.object({
      id: z.string(),
      upstreamId: z.string().optional(),
      inputPrice: z.string().describe('neuron per token, decimal'),
      outputPrice: z.string().describe('neuron per token, decimal'),
      contextLength: z.number().int().optional(),
    }),
  ),
  verifiable: z.boolean(),
  verifiability: z.string(),
  weight: z.number(),
  maxConcurrent: nullableNumber,
  throughput: nullableNumber,
  pool: z.string().nullable(),
  inRotation: z.boolean(),
  outOfRotationReason: z.string().nullable(),
  healthy: z.boolean(),
  membership: stateNoteSchema,
  funding: stateNoteSchema,
  trust: stateNoteSchema,
  breaker: z.object({
    state: z.string(),
    reason: z.string().nullable(),
    retryAt: z.string().nullable(),
    windowRequests: z.number().int(),
    windowFailures: z.number().int(),
    consecutiveFailures: z.number().int(),
  }),
  inFlight: z.number().int(),
  attempts: z.number().int(),
  served: z.number().int(),
  failures: z.number().int(),
  clientAborts: z.number().int().describe('Attempts that ended because the client left or stopped reading: not failures of the provider.'),
  errorRate: z.number(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  ewmaTtfbMs: nullableNumber,
  ewmaLatencyMs: nullableNumber,
  outputTokensPerSecond: nullableNumber,
  latencyMs: z.object({ count: z.number().int(), mean: nullableNumber, p50: nullableNumber, p95: nullableNumber, max: nullableNumber }),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  lastHealthCheck: z.string().nullable(),
  lastProbeError: z.string().nullable(),
  joinedAt: z.string(),
});

/** `GET /admin/providers`. */
export const adminProvidersSchema = z.object({
  strategy: z.string(),
  totalInFlight: z.number().int(),
  sessions: z.object({ responses: z.number().int().nullable(), pinned: z.number().int().nullable(), store: z.string() }),
  providers: z.array(providerViewSchema),
  failedProviders: z.array(failedProviderSchema),
  catalog: z.array(z.record(z.string(), z.unknown()).describe('A service on chain not in the fleet, with why (address, models, verifiability, status)')),
  funding: z.record(z.string(), z.unknown()).nullable(),
  queue: queueStatsSchema,
  pools: z.record(z.string(), z.object({ overflow: z.union([z.boolean(), z.array(z.string())]), models: z.array(z.string()), acceptOverflow: z.boolean() })),
});

/** `GET /admin/keys` (never a key or its hash). */
export const adminKeysSchema = z.object({
  keys: z.array(z.record(z.string(), z.unknown()).describe('id, limits, usage and spend of one client key')),
  enabled: z.boolean(),
});

// The status page's view lives beside the page (server/status/).
export { statusProviderSchema, statusViewSchema, type StatusView } from '../status/status-view-schema.js';
