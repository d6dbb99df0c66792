/**
 * The shape of `GET /admin/status` (what the status page shows), as zod schemas the OpenAPI
 * document is built from. Amounts are neuron as decimal strings (1 0G = 10^18 neuron); times
 * are ISO 8601 unless named `…Ms` or `…Seconds`.
 */
import { z } from 'zod';

const nullableNumber = z.number().nullable();
const neuron = (what: string) => z.string().describe(`${what}, neuron (decimal string).`);

/** One provider on the status page. */
export const statusProviderSchema = z.object({
  id: z.string(),
  name: z.string().nullable().describe('What people call it (a configured or node name); null for a 0G provider known only by its address (not named in `providers`).'),
  address: z.string().describe('The 0G address, or the base URL of an OpenAI-compatible provider.'),
  kind: z.string(),
  models: z.array(z.string()),
  healthy: z.boolean(),
  inRotation: z.boolean(),
  outOfRotationReason: z.string().nullable(),
  breaker: z.string(),
  breakerReason: z.string().nullable(),
  breakerRetryInMs: nullableNumber.describe('While the breaker is open: ms until it lets a trial request through.'),
  funding: z.string(),
  trust: z.string(),
  fundingApplies: z.boolean().describe('Funding and trust mean something for this provider (0G); false for a plain upstream.'),
  membership: z.string(),
  inFlight: z.number().int(),
  served: z.number().int(),
  failures: z.number().int(),
  errorRate: z.number(),
  latencyMs: z.object({ p50: nullableNumber, p95: nullableNumber }),
  ewmaTtfbMs: nullableNumber,
  tokensPerSecond: nullableNumber.describe('Output tokens per second after the first byte (EWMA).'),
  share: z.number().describe("This provider's part of the requests served since start, 0..1."),
  spendNeuron: neuron('What its served requests cost since start'),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable().describe('Its last error, until an attempt on it succeeds (or its breaker closes) after it.'),
});

/** The last hour, in buckets, of one scope (overall or a provider). */
export const statusSeriesSchema = z.object({
  scope: z.string().describe('`overall` or a provider id.'),
  scopes: z.array(z.string()).describe('Providers with a series of their own.'),
  bucketMs: z.number().int(),
  time: z.array(z.number()).describe('Bucket starts, epoch seconds.'),
  requestsPerSecond: z.array(z.number()),
  errorRate: z.array(nullableNumber),
  ttftP50Ms: z.array(nullableNumber),
  ttftP95Ms: z.array(nullableNumber),
  latencyP50Ms: z.array(nullableNumber),
  latencyP95Ms: z.array(nullableNumber),
});

/** `GET /admin/status`: what the status page shows. */
export const statusViewSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'shutting_down']),
  generatedAt: z.string(),
  version: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number(),
  strategy: z.string(),
  inFlight: z.number().int(),
  served: z.number().int(),
  spendNeuron: neuron('Spend since start'),
  queue: z.object({ depth: z.number().int(), maxSize: z.number().int(), oldestWaitMs: z.number(), rejected: z.number().int(), timeouts: z.number().int() }),
  providers: z.array(statusProviderSchema),
  failedProviders: z.array(z.object({ address: z.string(), code: z.string(), message: z.string(), at: z.string() })),
  series: statusSeriesSchema,
  failures: z.array(
    z.object({ at: z.string(), kind: z.enum(['attempt', 'request']), provider: z.string().nullable(), model: z.string().nullable(), status: z.number().int().nullable(), code: z.string(), message: z.string(), requestId: z.string().nullable() }),
  ).describe('Recent failed attempts and failed requests, newest first (bounded).'),
  funds: z
    .object({
      ledger: z.object({ available: z.string(), total: z.string(), readAt: z.string() }).nullable(),
      ledgerFloor: z.string(),
      belowFloor: z.boolean(),
      subAccounts: z.array(z.object({ provider: z.string(), balance: z.string(), pendingRefund: z.string(), readAt: z.string(), needsFunds: z.boolean() })),
      needsFunds: z.array(z.string()),
    })
    .nullable()
    .describe('The 0G ledger and sub-accounts as the funding keeper last read them (neuron); null without 0G providers.'),
  billing: z
    .object({
      status: z.enum(['ok', 'pending', 'overcharging', 'unknown']),
      checkedAt: z.string(),
      served: z.string(),
      settled: z.string(),
      pending: z.string(),
      providers: z.array(z.object({ provider: z.string(), status: z.enum(['ok', 'pending', 'overcharging']), pending: z.string() })),
      error: z.string().nullable(),
    })
    .nullable()
    .describe('Settlement of served fees (read at most every 30 s); null without billing.'),
  keys: z
    .object({
      source: z.enum(['keys', 'request-log']),
      checkedAt: z.string(),
      keys: z.array(z.object({ id: z.string(), requests: z.number(), promptTokens: z.number(), completionTokens: z.number(), spendNeuron: z.string(), inFlight: z.number().int().nullable(), disabled: z.boolean() })),
    })
    .nullable()
    .describe('Usage per client key (read at most every 10 s); null without client keys.'),
});

/** The zod-inferred type of {@link statusViewSchema}. */
export type StatusView = z.infer<typeof statusViewSchema>;
/** One provider of {@link StatusView}. */
export type StatusProvider = z.infer<typeof statusProviderSchema>;
