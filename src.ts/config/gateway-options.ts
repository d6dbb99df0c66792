import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayError } from '../errors/index.js';
import { STRATEGY_NAMES } from '../balancer/index.js';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address');
const privateKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key');
const positiveMs = z.number().int().positive();

/** A plain OpenAI-compatible upstream served beside (or instead of) 0G providers. */
const openAICompatibleProviderSchema = z
  .object({
    name: z.string().min(1).max(100),
    baseUrl: z.string().url(),
    model: z.string().min(1).optional(),
    apiKey: z.string().min(1).optional(),
  })
  .strict();

/**
 * The one schema of `runMultiProviderInferenceServer` options. Defaults are stated here;
 * the parsed result is frozen.
 */
export const gatewayOptionsSchema = z
  .object({
    /** 0G provider addresses to serve. */
    providers: z.array(address).default([]),
    /** Plain OpenAI-compatible upstreams (no on-chain verification). */
    openAICompatibleProviders: z.array(openAICompatibleProviderSchema).default([]),
    /** Balancing strategy. Default `round-robin`. */
    strategy: z.enum(STRATEGY_NAMES as unknown as [string, ...string[]]).default('round-robin'),
    /** Weights per provider id (0G address or upstream name), for `weighted-round-robin`. Default 1 each. */
    weights: z.record(z.string(), z.number().int().min(1).max(1000)).default({}),
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
    /** Listening address. Default `0.0.0.0`. */
    host: z.string().min(1).default('0.0.0.0'),
    /** Active health probe interval, ms. Default 30000. */
    healthCheckInterval: positiveMs.default(30_000),
    /** Most providers tried for one request. Default 3. */
    maxRetries: z.number().int().min(1).max(20).default(3),
    /** Life of a response id / session binding, ms. Default 30 min. */
    sessionTimeout: positiveMs.default(30 * 60 * 1000),
    /** Most response ids and sessions remembered (each). Default 10000. */
    sessionCacheSize: z.number().int().positive().default(10_000),
    /** Timeouts, ms. */
    timeouts: z
      .object({
        /** TCP connect. Default 5000. */
        connect: positiveMs.default(5000),
        /** Until the provider's first byte (headers; first event for streams). Default 30000. */
        firstByte: positiveMs.default(30_000),
        /** Longest silence between two stream chunks. Default 30000. */
        chunkGap: positiveMs.default(30_000),
        /** Whole request, streams included. Default 600000. */
        total: positiveMs.default(600_000),
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
    /** Retries may add at most `ratio` of recent requests plus `minPerSecond`. Defaults 0.5 and 10. */
    retryBudget: z
      .object({ ratio: z.number().min(0).max(10).default(0.5), minPerSecond: z.number().min(0).default(10) })
      .strict()
      .prefault({}),
    /** How long `close()` lets in-flight requests finish, ms. Default 10000. */
    shutdownGracePeriod: z.number().int().min(0).default(10_000),
    /** Largest accepted request body. Default `1mb`. */
    bodyLimit: z.union([z.string().regex(/^\d+(b|kb|mb)$/i), z.number().int().positive()]).default('1mb'),
    /** Bearer token required on `/admin/*` when set. */
    adminToken: z.string().min(16).optional(),
    /** pino level. Default `info`. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** A pino logger to use instead of a new one. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function').optional(),
  })
  .strict();

/** Options accepted by `runMultiProviderInferenceServer` (defaults applied when omitted). */
export type GatewayOptions = z.input<typeof gatewayOptionsSchema>;
/** Options after validation, with every default filled in. */
export type GatewayConfig = Readonly<z.output<typeof gatewayOptionsSchema>>;

/** Environment variables read by the gateway, in one place. */
export function readEnvironment(environment: NodeJS.ProcessEnv = process.env): { key?: string; rpc?: string } {
  return {
    key: environment.ZG_PRIVATE_KEY || undefined,
    rpc: environment.RPC_ENDPOINT || undefined,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) {
      if (typeof child === 'object' && child !== null && typeof (child as Logger).child !== 'function') deepFreeze(child);
    }
  }
  return value;
}

/**
 * Validates options (env fills `key` and `rpc`), throwing `invalid_config` naming the bad field.
 * The private key never appears in the error.
 */
export function parseGatewayOptions(options: GatewayOptions, environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const fromEnvironment = readEnvironment(environment);
  const input: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  if (input.key === undefined && fromEnvironment.key) input.key = fromEnvironment.key;
  if (input.rpc === undefined && fromEnvironment.rpc) input.rpc = fromEnvironment.rpc;
  const parsed = gatewayOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // zod reports an unknown key against its parent object, naming it in `keys`.
    const path = issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : (issue?.path ?? []);
    const field = path.map(String).join('.') || '(options)';
    throw new GatewayError('invalid_config', `Invalid option ${field}: ${issue?.message ?? 'invalid'}`, { param: field });
  }
  const config = parsed.data;
  if (config.providers.length === 0 && config.openAICompatibleProviders.length === 0) {
    throw new GatewayError('invalid_config', 'Invalid option providers: at least one provider address is required', { param: 'providers' });
  }
  if (config.providers.length > 0) {
    if (!config.key) throw new GatewayError('invalid_config', 'Invalid option key: a wallet private key is required (option key or env ZG_PRIVATE_KEY)', { param: 'key' });
    if (!config.rpc) throw new GatewayError('invalid_config', 'Invalid option rpc: an RPC URL is required (option rpc or env RPC_ENDPOINT)', { param: 'rpc' });
  }
  const ids = [...config.providers.map((provider) => provider.toLowerCase()), ...config.openAICompatibleProviders.map((provider) => provider.name.toLowerCase())];
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate) throw new GatewayError('invalid_config', `Invalid option providers: ${duplicate} is listed twice`, { param: 'providers' });
  return deepFreeze(config);
}
