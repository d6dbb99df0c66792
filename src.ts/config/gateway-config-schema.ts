import { z } from 'zod';
import { STRATEGY_NAMES } from '../strategies/index.js';
import { apiKeysConfigSchema } from '../keys/index.js';
import { requestLogConfigSchema } from './request-log-config-schema.js';
import { billingConfigSchema } from './billing-config-schema.js';
import { tracingConfigSchema } from './tracing-config-schema.js';
import { poolsConfigSchema, queueConfigSchema } from './admission-config-schema.js';
import { isAddressRule, providerUrlProblem } from '../providers/http/provider-url.js';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address');
/** What operators call a 0G provider on `/status` and `/admin/providers`: 1–64 printable characters. */
export const providerName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\p{C}\p{Zl}\p{Zp}]+$/u, 'must be printable (no control characters)');
/** One configured 0G provider: its address, or `{ address, name }`. */
export const zgProviderEntry = z.union([address, z.object({ address, name: providerName }).strict()]);
const privateKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key');
const positiveMs = z.number().int().positive();

/** A provider URL: http or https only (`file:`, `gopher:`, `redis:`... are refused). */
export const providerUrlSchema = z
  .string()
  .max(2048)
  .superRefine((value, context) => {
    const problem = providerUrlProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: `must be an http or https URL (it ${problem})` });
  });

/** A provider name: it becomes its id and the `X-Provider-Address` header, so visible ASCII (and inner spaces) only: no CR, LF or other control character. */
export const providerNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'must be visible ASCII characters (inner spaces allowed; no control characters such as CR or LF)');

/** Which provider URLs the node API (and providers' self-published chain URLs) may point to; checked before anything connects. */
export const providerUrlsSchema = z
  .object({
    /** Accept link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata services (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal). Default false. */
    allowLinkLocal: z.boolean().default(false),
    /** More addresses or CIDR ranges to refuse, e.g. `["10.0.0.0/8", "fd00::/8"]`. Loopback and private addresses are allowed unless listed. Default none. */
    deny: z.array(z.string().refine(isAddressRule, 'must be an IP address or a CIDR range such as 10.0.0.0/8')).max(1000).default([]),
  })
  .strict();
const neuron = z.union([z.string().regex(/^\d+$/, 'must be a whole number of neuron'), z.number().int().min(0), z.bigint().min(0n)]);

/** Which of the chain's services `providers: { discover }` serves; every field optional. */
export const discoverSchema = z
  .object({
    /** Only these models (a multi-model service keeps the ones listed). */
    models: z.array(z.string().min(1).max(256)).min(1).optional(),
    /** Only these ways of proving answers. */
    verifiability: z.array(z.enum(['TeeML', 'OpML', 'ZKML'])).min(1).optional(),
    /** Highest price per prompt token, neuron. */
    maxInputPrice: neuron.optional(),
    /** Highest price per completion token, neuron. */
    maxOutputPrice: neuron.optional(),
    /** Only these provider addresses. */
    include: z.array(address).optional(),
    /** Never these provider addresses. */
    exclude: z.array(address).optional(),
  })
  .strict();

/** How a provider takes part in the fleet (shared by every kind of provider entry). */
export const membershipShape = {
  /** Relative share for weighted strategies (1..1000). Default 1. */
  weight: z.number().int().min(1).max(1000).optional(),
  /** Most requests in flight at once on this provider. Default: no cap. */
  maxConcurrent: z.number().int().positive().optional(),
  /** Declared throughput (relative, e.g. requests/s), for throughput-aware strategies. */
  throughput: z.number().positive().optional(),
  /** Named pool. */
  pool: z.string().min(1).max(100).optional(),
  /** Requests the backend runs at once, for `least-load` (load = (running + 0.5 × waiting) ÷ capacity). Default: unknown. */
  capacity: z.number().int().positive().optional(),
  /** Requests per minute the provider accepts, for `usage-based`. Default: no limit. */
  rpm: z.number().int().positive().optional(),
  /** Tokens (prompt + completion) per minute the provider accepts, for `usage-based`. Default: no limit. */
  tpm: z.number().int().positive().optional(),
};

const backoffSchema = z
  .object({
    /** The first wait, ms. */
    initialMs: z.number().int().min(0).max(600_000),
    /** The longest wait, ms. */
    maxMs: z.number().int().min(0).max(600_000),
    /** Each wait is the previous one times this. Default 2. */
    multiplier: z.number().min(1).max(100).default(2),
    /** Share (0..1) of each wait taken off at random. Default 0.5. */
    jitter: z.number().min(0).max(1).default(0.5),
  })
  .strict();

const classPolicySchema = z
  .object({
    /** Most further attempts after failures of this class in one request; absent: as `maxRetries` and the retry budget allow. */
    retries: z.number().int().min(0).max(20).optional(),
    /** The wait before each further attempt; absent: the class's default (none except `server_error` and `rate_limited`). */
    backoff: backoffSchema.optional(),
  })
  .strict();

/** `retryPolicy`: any class left out keeps its default. */
const retryPolicySchema = z
  .object({
    /** Connection refused, reset, DNS (`upstream_unreachable`). Default: at once, as many as allowed. */
    connect: classPolicySchema.optional(),
    /** Nothing within `timeouts.firstByte`, or a 408 (`upstream_timeout`). Default: at once, as many as allowed. */
    timeout: classPolicySchema.optional(),
    /** 5xx, 3xx, 401/403, an unusable or oversized answer. Default: as many as allowed, after `{ initialMs: 50, maxMs: 1000, multiplier: 2, jitter: 0.5 }`. */
    server_error: classPolicySchema.optional(),
    /** 429. Default: as many as allowed, after `{ initialMs: 100, maxMs: 2000, multiplier: 2, jitter: 0.5 }`. */
    rate_limited: classPolicySchema.optional(),
    /** A provider's 400/422. Default `retries: 1` (one more provider confirms it is the client's). */
    client_error: classPolicySchema.optional(),
    /** 402 (`insufficient_funds`). Default: at once, as many as allowed. */
    funds: classPolicySchema.optional(),
  })
  .strict();

/** A declared feature list: `['tools', 'json_schema', 'vision', 'logprobs']` (others are kept, for later gateways). */
const capabilitiesSchema = z.array(z.string().min(1).max(64)).max(64);

/**
 * A model served by a plain upstream: an id, or `{ id, upstreamId?, inputPrice?, outputPrice?, contextLength?, type? }`
 * (prices in neuron per token; `type`: `chat`, the default; `embedding` for a model served on `POST /v1/embeddings`; `text-to-image`,
 * `image-editing` or `speech-to-text` for `POST /v1/images/generations`, `/v1/images/edits`, `/v1/audio/transcriptions`;
 * a media model's `inputPrice` is per image or per second of audio).
 */
export const upstreamModelSchema = z.union([
  z.string().min(1).max(256),
  z
    .object({
      /** The model's name at the gateway (what clients send as `model`). */
      id: z.string().min(1).max(256),
      /** The name sent to the upstream instead, when it differs. Default: `id`. */
      upstreamId: z.string().min(1).max(256).optional(),
      /** Price per prompt token, neuron (per image or per second of audio for a media model). Default: none stated. */
      inputPrice: neuron.optional(),
      /** Price per completion token, neuron. Default: none stated. */
      outputPrice: neuron.optional(),
      /** Most tokens (prompt + completion) one request may use; longer requests go elsewhere. Default: unknown (any length). */
      contextLength: z.number().int().positive().optional(),
      /** What the model serves: `chat` (also `/v1/completions`), `embedding`, `text-to-image`, `image-editing`, `speech-to-text`. Default `chat`. */
      type: z.enum(['chat', 'embedding', 'text-to-image', 'image-editing', 'speech-to-text']).optional(),
      /** Features this model serves, over the provider's `capabilities`. */
      capabilities: capabilitiesSchema.optional(),
    })
    .strict(),
]);

/** A plain OpenAI-compatible upstream served beside (or instead of) 0G providers. */
export const openAICompatibleProviderSchema = z
  .object({
    name: providerNameSchema,
    baseUrl: providerUrlSchema,
    /** The one model it serves (shorthand for `models: [model]`). */
    model: z.string().min(1).max(256).optional(),
    /** The models it serves. Neither `model` nor `models`: it takes whatever model the client names. */
    models: z.array(upstreamModelSchema).max(1000).optional(),
    /** Sent to the upstream as `Authorization: Bearer <apiKey>`; never logged or shown. Default: none. */
    apiKey: z.string().min(1).optional(),
    /** Features it serves (`tools`, `json_schema`, `vision`, `logprobs`): a request using one not listed never goes to it. Default: not said (any request may). */
    capabilities: capabilitiesSchema.optional(),
    ...membershipShape,
  })
  .strict();

/** Where response ids, session pins and client-key counters live. */
export const storeConfigSchema = z.discriminatedUnion('type', [
  /** In this process (LRU and memory counters): one instance. */
  z.object({ type: z.literal('memory') }).strict(),
  /** In Redis, shared by every instance with the same URL and prefix. */
  z
    .object({
      type: z.literal('redis'),
      /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). Never logged unredacted. */
      url: z.string().regex(/^rediss?:\/\/\S+$/i, 'must be a redis:// or rediss:// URL'),
      /** First part of every key (`<prefix>:v1:...`); instances that share state share it. Default `zgw`. */
      prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -').default('zgw'),
      /** Longest wait for one Redis reply, ms, before the store counts as down. Default 1000. */
      commandTimeout: positiveMs.default(1000),
      /** Most writes per store kept for catch-up while Redis is down (the oldest are dropped beyond). Default 10000. */
      catchUpLimit: z.number().int().min(0).default(10_000),
    })
    .strict(),
]);

/**
 * The one schema of the gateway's configuration: serialisable (what a file, env or CLI can
 * produce), with its defaults stated here. The parsed result is frozen.
 */
export const gatewayConfigSchema = z
  .object({
    /**
     * The 0G providers to serve: a list of addresses (or `{ address, name }`, the name shown on `/status`); `'auto'` (every acknowledged chat service on
     * chain); or `{ discover: { models?, verifiability?, maxInputPrice?, maxOutputPrice?, include?, exclude? } }`.
     */
    providers: z.union([z.array(zgProviderEntry), z.literal('auto'), z.object({ discover: discoverSchema }).strict()]).default([]),
    /** Serve only providers that can prove their answers (TeeML, ZKML): plain upstreams and OpML services are left out. Default false. */
    requireVerifiable: z.boolean().default(false),
    /** Share (0..1) of served answers the gateway verifies itself in the background; a provider failing one is ejected. Default 0.02. */
    verifySampleRate: z.number().min(0).max(1).default(0.02),
    /** After this long, an ejected (untrusted) provider gets one trial answer, verified; absent: only an operator readmits it. */
    trustCoolDownMs: positiveMs.optional(),
    /** How often the chain's catalog is read again (discovery), ms. Default 300000 (5 min). */
    catalogRefreshInterval: positiveMs.default(300_000),
    /** Most discovered providers whose sub-accounts are funded at once. Default 10. */
    maxFundedProviders: z.number().int().min(1).max(1000).default(10),
    /** Plain OpenAI-compatible upstreams (no on-chain verification). */
    openAICompatibleProviders: z.array(openAICompatibleProviderSchema).default([]),
    /** Balancing strategy. Default `round-robin`. `cache-aware` is `round-robin` with `affinity.enabled`. */
    strategy: z.enum([...STRATEGY_NAMES, 'cache-aware'] as unknown as [string, ...string[]]).default('round-robin'),
    /** What the adaptive strategies are tuned with; each reads only its own. */
    strategyOptions: z
      .object({
        /** `min-observed-latency`: probability of measuring another provider than the fastest, in [0, 1]. Default 0.05. */
        explore: z.number().min(0).max(1).default(0.05),
        /** `min-observed-latency`: a provider's latency figure not refreshed for this long counts as unknown (and is re-measured), ms. Default 60000. */
        staleAfterMs: positiveMs.default(60_000),
        /** `least-load`: providers below this load are preferred. Default 0.5. */
        loadThreshold: z.number().gt(0).max(100).default(0.5),
        /** `least-load`: how often each backend's metrics page is read, ms. Default 2000. */
        metricsInterval: positiveMs.default(2000),
        /** `least-load`: bound on one round of metrics reads, ms. Default 1000. */
        metricsTimeout: positiveMs.default(1000),
        /** `least-load`: a reading older than this is not used (the gateway's own count is), ms. Default 3 × `metricsInterval`. */
        metricsStaleAfterMs: positiveMs.optional(),
        /** `least-load`: path of the metrics page on each provider's origin. Default `/metrics`. */
        metricsPath: z.string().regex(/^\/[^\s]*$/, 'must be a path starting with /').default('/metrics'),
        /** `least-load`: gauge of requests running. Default `vllm:num_requests_running`. */
        runningMetric: z.string().min(1).default('vllm:num_requests_running'),
        /** `least-load`: gauge of requests queued. Default `vllm:num_requests_waiting`. */
        waitingMetric: z.string().min(1).default('vllm:num_requests_waiting'),
        /** `least-load`: gauge of a backend's capacity, when it exposes one (a configured `capacity` wins). Default: none. */
        capacityMetric: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Cache-aware routing (docs/routing.md, "Cache-aware routing"): a request goes to the provider most likely to
     * hold its prompt's prefix in its KV cache, within load bounds; else the strategy decides.
     */
    affinity: z
      .object({
        /** Route by prefix affinity before the strategy (`strategy: 'cache-aware'` turns it on too). Default false. */
        enabled: z.boolean().default(false),
        /** Characters per block of the rendered prompt (about blockChars ÷ 4 tokens). Default 1024. */
        blockChars: z.number().int().min(16).max(1_000_000).default(1024),
        /** Least share of the prompt's blocks the warm provider must hold (SGLang's cache_threshold). Default 0.3. */
        minMatch: z.number().min(0).max(1).default(0.3),
        /** In-flight requests the warm provider may have above the least loaded candidate. Default 4. */
        balanceAbs: z.number().min(0).default(4),
        /** Multiple of the least loaded candidate's in-flight count the warm provider may exceed it by (with balanceAbs). Default 1.5. */
        balanceRel: z.number().min(1).default(1.5),
        /** Memory budget of the prefix index, MiB (LRU eviction past it). Default 64. */
        maxIndexMiB: z.number().gt(0).max(65_536).default(64),
        /** A provider's record of a prefix counts for this long after it last served it, s. Default 600. */
        ttlSeconds: z.number().gt(0).max(7 * 24 * 3600).default(600),
        /** Prompt tokens one provider's KV cache is assumed to hold at most (the estimate shrinks on reported misses). Default 1000000. */
        providerCapacityTokens: z.number().int().positive().default(1_000_000),
        /** Most blocks of one prompt keyed (its beginning). Default 256. */
        maxBlocks: z.number().int().min(1).max(100_000).default(256),
        /** With the Redis store: longest wait for the shared index, ms, then the local index alone decides. Default 5. */
        sharedReadTimeoutMs: z.number().int().min(1).max(1000).default(5),
        /** With the Redis store: every how many blocks a served prompt is written to the shared index (and the last). Default 4. */
        sharedEvery: z.number().int().min(1).max(1000).default(4),
      })
      .strict()
      .prefault({}),
    /** The admission queue (`maxSize`, `timeoutMs`, `retryAfterMs`, `defaultPriority`); see `admission-config-schema.ts`. */
    queue: queueConfigSchema.prefault({}),
    /** Named pools of providers `{ name: { overflow?, models?, acceptOverflow? } }`; see `admission-config-schema.ts`. Default none. */
    pools: poolsConfigSchema.default({}),
    /** Weights per provider id (0G address or upstream name), for `weighted-round-robin`. Default 1 each. */
    weights: z.record(z.string(), z.number().int().min(1).max(1000)).default({}),
    /** The model of requests that name none. Default: the only model served, when there is one. */
    defaultModel: z.string().min(1).max(256).optional(),
    /** Client-facing names for models: `{ "gpt-4o-mini": "qwen-2.5-7b" }`, or `{ model, hidden: true }` to keep one out of `/v1/models`. */
    modelAliases: z
      .record(z.string().min(1).max(256), z.union([z.string().min(1).max(256), z.object({ model: z.string().min(1).max(256), hidden: z.boolean().default(false) }).strict()]))
      .default({}),
    /** Models tried in order when a model's providers cannot serve: `{ "qwen-2.5-7b": ["llama-3-8b"] }`. */
    fallbacks: z.record(z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(10)).default({}),
    /** Bigger models for requests longer than every provider of a model can take: `{ "llama-8k": ["llama-128k"] }`. Default none. */
    contextWindowFallbacks: z.record(z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(10)).default({}),
    /** Wallet private key; falls back to env `ZG_PRIVATE_KEY`. */
    key: privateKey.optional(),
    /** 0G chain JSON-RPC URL; falls back to env `RPC_ENDPOINT`. */
    rpc: z.string().url().optional(),
    /** Chain id (skips asking the RPC for it). */
    chainId: z.number().int().positive().optional(),
    /** Contract addresses; absent ones are picked by the SDK from the chain id. */
    ledgerContract: address.optional(),
    inferenceContract: address.optional(),
    fineTuningContract: address.optional(),
    /** Gas price (neuron) for the wallet's transactions. */
    gasPrice: z.number().int().positive().optional(),
    /** Create the wallet's 0G ledger with this deposit (0G) when it has none. Default: don't. */
    ledgerDeposit: z.number().positive().optional(),
    /** RPC receipt polling interval, ms. Default 1000. */
    rpcPollingInterval: positiveMs.optional(),
    /** Auto-funding check interval per provider, ms. Default 30000. */
    autoFundingInterval: positiveMs.default(30_000),
    /** Listening port (0 = any free port). Default 3000. */
    port: z.number().int().min(0).max(65535).default(3000),
    /** Listening address. Default `127.0.0.1`; another address needs `apiKeys` or `allowUnauthenticated`. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Active health probe interval, ms. Default 30000. */
    healthCheckInterval: positiveMs.default(30_000),
    /** Most providers tried for one request (per model). Default 3. */
    maxRetries: z.number().int().min(1).max(20).default(3),
    /** Life of a response id / session binding, ms. Default 30 min. */
    sessionTimeout: positiveMs.default(30 * 60 * 1000),
    /** Most response ids and sessions remembered (each). Default 10000. */
    sessionCacheSize: z.number().int().positive().default(10_000),
    /** Where state lives: `{ type: 'memory' }` (default; env `REDIS_URL` makes it `{ type: 'redis', url }`) or `{ type: 'redis', url, prefix?, commandTimeout?, catchUpLimit? }`. */
    store: storeConfigSchema.default({ type: 'memory' }),
    /** Timeouts, ms. */
    timeouts: z
      .object({
        /** TCP connect. Default 5000. */
        connect: positiveMs.default(5000),
        /** Until the provider's first content (JSON: the whole answer; streams: the first event of substance, not a comment or a role-only chunk). Default 30000. */
        firstByte: positiveMs.default(30_000),
        /** Longest silence between two stream chunks (not counted while the gateway paused the provider for a slow client). Default 30000. */
        chunkGap: positiveMs.default(30_000),
        /** Longest a streaming client may stop reading (the gateway pauses the provider meanwhile, without counting it as the provider's silence); then the client is cut. Default 60000. */
        clientStall: positiveMs.default(60_000),
        /** Whole request, streams included. Default 600000. */
        total: positiveMs.default(600_000),
        /** A `/v1/verify` call (asking the provider for its signature). Default 10000. */
        verify: positiveMs.default(10_000),
      })
      .strict()
      .prefault({}),
    /** Bounds on what clients and providers send. */
    limits: z
      .object({
        /** Largest JSON answer from a provider, bytes. Default 32 MiB. */
        maxResponseBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
        /** Largest single SSE event from a provider, bytes. Default 1 MiB. */
        maxSseEventBytes: z.number().int().min(1024).default(1024 * 1024),
        /** Most bytes a stream may send before its first content (comments, role-only chunks), all held for a retry elsewhere; past it the provider is replaced. Default 256 KiB. */
        maxPreambleBytes: z.number().int().min(1024).default(256 * 1024),
        /** Most events a stream may send before its first content; past it the provider is replaced. Default 1000. */
        maxPreambleEvents: z.number().int().min(1).default(1000),
        /** Longest a client may take to send its whole request (headers and body), ms. Default 60000. */
        requestTimeout: positiveMs.default(60_000),
        /** Longest a client may take to send its headers, ms. Default 10000. */
        headersTimeout: positiveMs.default(10_000),
        /** Largest multipart upload (`/v1/images/edits`, `/v1/audio/transcriptions`), counted as it streams in, bytes. Default 25 MiB (OpenAI's limit). */
        maxUploadBytes: z.number().int().min(1024).default(25 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** The upstream connection pool. */
    upstream: z
      .object({
        /** Most sockets per provider origin. Default 4096. */
        connectionsPerOrigin: z.number().int().min(1).max(65_536).default(4096),
        /** Idle keep-alive sockets close after this, ms. Default 30000. */
        keepAliveTimeout: positiveMs.default(30_000),
      })
      .strict()
      .prefault({}),
    /** Passive health per provider (circuit breaker). */
    circuitBreaker: z
      .object({
        /** Sliding window for the failure rate, ms. Default 30000. */
        windowMs: positiveMs.default(30_000),
        /** Fewest attempts in the window before the rate counts. Default 5. */
        minimumRequests: z.number().int().min(1).default(5),
        /** Failure rate (0..1] that opens the breaker. Default 0.5. */
        failureRateThreshold: z.number().gt(0).max(1).default(0.5),
        /** Consecutive failures that open it. Default 3. */
        consecutiveFailures: z.number().int().min(1).default(3),
        /** Rest after opening, ms (doubles per failed trial, up to 8x). Default 10000. */
        coolDownMs: positiveMs.default(10_000),
        /** Longest Retry-After honoured, ms. Default 60000. */
        maxRetryAfterMs: positiveMs.default(60_000),
      })
      .strict()
      .prefault({}),
    /** Retries and backoff per failure class (`connect`, `timeout`, `server_error`, `rate_limited`, `client_error`, `funds`); see `retry-policy.ts` for the defaults. */
    retryPolicy: retryPolicySchema.default({}),
    /** Retries may add at most `ratio` of recent requests plus `minPerSecond`. Defaults 0.5 and 10. */
    retryBudget: z
      .object({
        /** Share of the recent requests that retries may add. Default 0.5. */
        ratio: z.number().min(0).max(10).default(0.5),
        /** Retries per second always allowed on top of the ratio. Default 10. */
        minPerSecond: z.number().min(0).default(10),
      })
      .strict()
      .prefault({}),
    /** The wallet's funds. */
    funding: z
      .object({
        /** Warn when the ledger's available balance falls under this many 0G. Default 1. */
        ledgerFloor: z.number().min(0).default(1),
        /** Fewest ms between two top-up transactions for one provider after a 402 (a provider whose sub-account holds enough returns at once; a deposit seen on the ledger lifts it). Default 10000. */
        topUpCooldownMs: positiveMs.default(10_000),
        /** How often providers that need funds (and the ledger) are checked, ms. Default 5000. */
        checkIntervalMs: positiveMs.default(5000),
      })
      .strict()
      .prefault({}),
    /** Settlement auditing and idle funds (see `billing-config-schema.ts`): `stateFile`, `reconcileInterval`, `tolerance`, `reclaimAfter`, ... */
    billing: billingConfigSchema.prefault({}),
    /** The durable request log (see `request-log-config-schema.ts`): `path` (PGlite) or `url` (PostgreSQL), `retentionDays`, `maxRows`, ... Default: off. */
    requestLog: requestLogConfigSchema.optional(),
    /** How long `close()` lets in-flight requests finish, ms. Default 10000. */
    shutdownGracePeriod: z.number().int().min(0).default(10_000),
    /** Largest accepted request body. Default `1mb`. */
    bodyLimit: z.union([z.string().regex(/^\d+(b|kb|mb)$/i), z.number().int().positive()]).default('1mb'),
    /**
     * Bearer token required on `/admin/*` and `/nodes/*` (and accepted on `/metrics`). Default: none
     * configured, and then one is generated at start: read from (or created in, mode 0600)
     * `adminTokenFile` when that is set, else kept in memory only (`handle.adminToken`).
     */
    adminToken: z.string().min(16).optional(),
    /**
     * Where the admin token lives when `adminToken` is not given: read at start when the file exists
     * (it must be readable by its owner only), else a new random token is written to it with mode
     * 0600 (its directory 0700). Default none: the generated token is in memory only
     * (`handle.adminToken`). Env `ADMIN_TOKEN_FILE`.
     */
    adminTokenFile: z.string().min(1).optional(),
    /**
     * Host names (the `Host` header, port ignored) this gateway answers besides its listen address and,
     * on a loopback listener, `localhost`, `*.localhost`, `127.*` and `::1`; another Host is refused 403
     * `host_not_allowed` (DNS rebinding). A leading `.` allows subdomains; `["*"]` turns the check off.
     * Default none; on a wildcard listener (`0.0.0.0`, `::`) the check runs only when this is set.
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Bearer token accepted on `/metrics` besides `adminToken`, so a scraper needs no admin rights. Default none. */
    metricsToken: z.string().min(16).optional(),
    /**
     * Client keys (`Authorization: Bearer <key>` on `/v1/*`), each with optional `rpm`, `tpm`,
     * `maxConcurrent`, `budget { amount (neuron), period }`, `models`, `expiresAt`, `disabled`.
     * Plaintext keys are hashed at once. Default: none (no key needed on a loopback host).
     */
    apiKeys: apiKeysConfigSchema.optional(),
    /** A JSON file of client keys (`{ "keys": [...] }`), read at start (and again on every `reconfigure`). */
    keysFile: z.string().min(1).optional(),
    /**
     * Accept the client keys kept in the Redis store (made with `zg-gateway keys create`), polled every 2 s.
     * `true`: always (every request is refused until a key exists); `false`: never. Default: when the store is
     * Redis and holds at least one key at start. Needs `store: { type: 'redis' }`.
     */
    storeKeys: z.boolean().optional(),
    /** Serve chats without client keys on a non-loopback host. Default false: the gateway refuses to start so. */
    allowUnauthenticated: z.boolean().default(false),
    /** Where the node API may point providers: link-local and metadata addresses are refused unless allowed, plus `deny` ranges. */
    providerUrls: providerUrlsSchema.prefault({}),
    /** Origins allowed to call the gateway from a browser (CORS). Default none (CORS off); `["*"]` allows any. */
    corsOrigins: z.array(z.string().min(1)).default([]),
    /** OpenTelemetry traces (see `tracing-config-schema.ts`): `endpoint`, `serviceName`, `sampleRatio`, `headers`, `batchDelayMs`. Default off. */
    tracing: tracingConfigSchema.optional(),
    /** pino level. Default `info`. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

/** The `store` option, validated. */
export type StoreConfig = z.output<typeof storeConfigSchema>;
/** Options accepted by `runMultiProviderInferenceServer` (defaults applied when omitted). */
export type GatewayOptions = z.input<typeof gatewayConfigSchema>;
/** Options after validation, with every default filled in. */
export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;
