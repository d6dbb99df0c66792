import { setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { LoadBalancer, createStrategy, type StrategyName } from '../balancer/index.js';
import { parseGatewayOptions, type GatewayConfig, type GatewayOptions } from '../config/index.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { RetryBudget } from '../health/index.js';
import { createLogger } from '../logging/create-logger.js';
import { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import type { InferenceProvider } from '../providers/inference-provider.js';
import { OpenAICompatibleProvider } from '../providers/openai-compatible/openai-compatible-provider.js';
import { ZgNetwork } from '../providers/zg/zg-network.js';
import { createApp } from '../server/create-app.js';
import { LruSessionStore, type ResponseRecord } from '../sessions/index.js';
import { ChatDispatcher } from './chat-dispatcher.js';
import { ProviderRegistry, type FailedProvider } from './provider-registry.js';

/** A running gateway. */
export interface GatewayHandle {
  /** Base URL, e.g. `http://127.0.0.1:3000` (a wildcard host is reported as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Providers in rotation now (id = 0G address or upstream name). */
  readonly providers: ReadonlyArray<{ id: string; address: string; endpoint: string; model: string; kind: string }>;
  /** Providers not initialised (yet), with the reason; retried on every health check. */
  readonly failedProviders: readonly FailedProvider[];
  /** The validated, frozen configuration, secrets removed (key, admin token) or masked (API keys). */
  readonly config: Omit<GatewayConfig, 'key' | 'logger' | 'adminToken'>;
  /** Requests currently being served. */
  inFlight(): number;
  /**
   * Stops accepting, lets in-flight requests finish for `shutdownGracePeriod`, then ends the rest
   * (streams get an in-band error event), stops timers and auto-funding. Idempotent.
   */
  close(): Promise<void>;
}

/** One attempt to put a 0G provider in service; the failure is logged and returned, never thrown. */
async function tryInitialiseProvider(
  network: ZgNetwork,
  address: string,
  client: UpstreamHttpClient,
  logger: Logger,
  retry: boolean,
): Promise<{ provider: InferenceProvider } | { failure: FailedProvider }> {
  try {
    const provider = await network.initProvider(address, client);
    logger.info({ event: 'provider_ready', provider: address, endpoint: provider.endpoint, model: provider.model, retry }, 'provider initialised');
    return { provider };
  } catch (thrown) {
    const error = toGatewayError(thrown);
    // A retry that fails again is routine; the first failure is what an operator needs to see.
    logger[retry ? 'debug' : 'warn']({ event: 'provider_init_failed', provider: address, code: error.code, reason: error.message, retry }, 'provider kept out of rotation');
    return { failure: { address, code: error.code, message: error.message } };
  }
}

async function initialiseProviders(
  config: GatewayConfig,
  client: UpstreamHttpClient,
  logger: Logger,
): Promise<{ network: ZgNetwork | undefined; providers: InferenceProvider[]; failed: FailedProvider[] }> {
  const providers: InferenceProvider[] = [];
  const failed: FailedProvider[] = [];
  let network: ZgNetwork | undefined;
  if (config.providers.length > 0) {
    network = await ZgNetwork.connect(
      {
        privateKey: config.key as string,
        rpcUrl: config.rpc as string,
        contracts: { ledger: config.ledgerContract, inference: config.inferenceContract, fineTuning: config.fineTuningContract },
        ...(config.gasPrice !== undefined ? { gasPrice: config.gasPrice } : {}),
        ...(config.chainId !== undefined ? { chainId: config.chainId } : {}),
        ...(config.rpcPollingInterval !== undefined ? { rpcPollingIntervalMs: config.rpcPollingInterval } : {}),
        ...(config.ledgerDeposit !== undefined ? { ledgerDeposit: config.ledgerDeposit } : {}),
        autoFunding: { intervalMs: config.autoFundingInterval },
      },
      logger,
    );
    logger.info({ event: 'wallet_connected', wallet: network.walletAddress }, 'connected the 0G wallet');
    // One at a time: the SDK sends transactions from one wallet without a nonce manager.
    for (const address of config.providers) {
      const outcome = await tryInitialiseProvider(network, address, client, logger, false);
      if ('provider' in outcome) providers.push(outcome.provider);
      else failed.push(outcome.failure);
    }
  }
  for (const upstream of config.openAICompatibleProviders) {
    providers.push(
      new OpenAICompatibleProvider({
        name: upstream.name,
        baseUrl: upstream.baseUrl,
        ...(upstream.model ? { model: upstream.model } : {}),
        ...(upstream.apiKey ? { apiKey: upstream.apiKey } : {}),
        client,
      }),
    );
  }
  return { network, providers, failed };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new GatewayError('listen_failed', `Cannot listen on ${host}:${port}${error.code ? ` (${error.code})` : ''}`, { cause: error, details: { host, port } }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Starts the gateway: initialises every configured 0G provider through one wallet-authenticated
 * broker, then serves the OpenAI-compatible API. Rejects with a typed GatewayError when nothing
 * can start (invalid options, no provider initialised, port in use); never exits the process.
 */
export async function runMultiProviderInferenceServer(options: GatewayOptions): Promise<GatewayHandle> {
  const config = parseGatewayOptions(options);
  const logger = config.logger ?? createLogger(config.logLevel);
  const client = new UpstreamHttpClient({ connectTimeoutMs: config.timeouts.connect });
  let network: ZgNetwork | undefined;
  let providers: InferenceProvider[] = [];
  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled(providers.map((provider) => provider.close()));
    await network?.close();
    await client.close().catch(() => undefined);
  };

  let failed: FailedProvider[];
  try {
    ({ network, providers, failed } = await initialiseProviders(config, client, logger));
  } catch (error) {
    await cleanUp();
    throw error;
  }
  if (providers.length === 0) {
    await cleanUp();
    throw new GatewayError('no_provider_initialised', `None of the ${failed.length} configured providers could be initialised: ${failed.map((entry) => `${entry.address}: ${entry.message}`).join('; ')}`, {
      details: { failedProviders: failed },
    });
  }

  const weights = new Map(Object.entries(config.weights).map(([id, weight]) => [id.toLowerCase(), weight]));
  const weightOf = (id: string): number => weights.get(id.toLowerCase()) ?? 1;
  const inRotation = providers.map((provider) => ({ provider, weight: weightOf(provider.id) }));
  const breaker = config.circuitBreaker;
  const registry = new ProviderRegistry(inRotation, failed, logger, {
    windowMs: breaker.windowMs,
    minimumRequests: breaker.minimumRequests,
    failureRateThreshold: breaker.failureRateThreshold,
    consecutiveFailureThreshold: breaker.consecutiveFailures,
    coolDownMs: breaker.coolDownMs,
    maxRetryAfterMs: breaker.maxRetryAfterMs,
  });
  // Every configured provider has its place in the balancer from the start; one that failed to
  // initialise is simply never available until a background retry brings it into the registry.
  const balancer = new LoadBalancer({
    strategy: createStrategy(config.strategy as StrategyName),
    providers: [...config.providers, ...config.openAICompatibleProviders.map((upstream) => upstream.name)].map((id) => ({ id, weight: weightOf(id) })),
  });
  const responses = new LruSessionStore<ResponseRecord>({ maxEntries: config.sessionCacheSize, ttlMs: config.sessionTimeout });
  const sessions = new LruSessionStore<string>({ maxEntries: config.sessionCacheSize, ttlMs: config.sessionTimeout });
  const shutdown = new AbortController();
  // Every in-flight request listens for shutdown; there is no leak in having many.
  setMaxListeners(0, shutdown.signal);
  let shuttingDown = false;
  const dispatcher = new ChatDispatcher({
    registry,
    balancer,
    responses,
    sessions,
    retryBudget: new RetryBudget({ ratio: config.retryBudget.ratio, minPerSecond: config.retryBudget.minPerSecond }),
    maxAttempts: config.maxRetries,
    timeouts: { firstByte: config.timeouts.firstByte, chunkGap: config.timeouts.chunkGap, total: config.timeouts.total },
    shutdownSignal: shutdown.signal,
    logger,
  });
  const app = createApp({
    registry,
    balancer,
    dispatcher,
    responses,
    sessions,
    logger,
    bodyLimit: config.bodyLimit,
    adminToken: config.adminToken,
    verifyTimeoutMs: config.timeouts.firstByte,
    isShuttingDown: () => shuttingDown,
  });

  const server = createServer(app);
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // streams may be long; the gateway bounds them itself (timeouts.total)
  server.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await listen(server, config.port, config.host);
  } catch (error) {
    await Promise.allSettled([responses.close(), sessions.close()]);
    await cleanUp();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const reportedHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${reportedHost.includes(':') ? `[${reportedHost}]` : reportedHost}:${address.port}`;

  // Providers that failed to initialise are tried again on each health tick, one at a time.
  const retryFailedProviders = async (): Promise<void> => {
    if (!network) return;
    for (const { address } of [...registry.failed]) {
      if (shuttingDown) return;
      const outcome = await tryInitialiseProvider(network, address, client, logger, true);
      if ('provider' in outcome) {
        providers.push(outcome.provider);
        registry.add(outcome.provider, weightOf(outcome.provider.id));
      } else {
        registry.recordFailure(outcome.failure);
      }
    }
  };
  // First probe right away (in the background), then every healthCheckInterval.
  const probeTimeout = Math.min(5000, config.healthCheckInterval);
  let probing: Promise<void> | undefined;
  const probe = (): void => {
    if (probing) return;
    probing = Promise.all([registry.probeAll(probeTimeout), retryFailedProviders()])
      .then(() => undefined)
      .finally(() => {
        probing = undefined;
      });
  };
  probe();
  const healthTimer = setInterval(probe, config.healthCheckInterval);
  healthTimer.unref();
  logger.info({ event: 'gateway_listening', url, strategy: config.strategy, providers: providers.map((provider) => provider.id), failedProviders: failed.length }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      clearInterval(healthTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = async (withinMs: number): Promise<boolean> => {
        const deadline = Date.now() + withinMs;
        while (balancer.totalInFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        return balancer.totalInFlight() === 0;
      };
      if (!(await drained(config.shutdownGracePeriod))) {
        logger.warn({ event: 'shutdown_abort', inFlight: balancer.totalInFlight() }, 'grace period over; ending in-flight requests');
        shutdown.abort();
        await drained(2000);
      }
      server.closeIdleConnections();
      // Give responses already ended a moment to flush, then drop whatever is left.
      const flushed = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]);
      if (!flushed) {
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      await probing?.catch(() => undefined);
      await Promise.allSettled([responses.close(), sessions.close()]);
      await cleanUp();
      logger.info({ event: 'gateway_closed' }, 'gateway closed');
    })();
    return closing;
  };

  const { key: _key, logger: _logger, adminToken: _adminToken, ...rest } = config;
  void _key;
  void _logger;
  void _adminToken;
  const publicConfig = Object.freeze({
    ...rest,
    openAICompatibleProviders: rest.openAICompatibleProviders.map(({ apiKey, ...upstream }) => ({ ...upstream, ...(apiKey ? { apiKey: '[redacted]' } : {}) })),
  });
  return {
    url,
    port: address.port,
    host: config.host,
    get providers() {
      return registry.list().map(({ provider }) => ({ id: provider.id, address: provider.address, endpoint: provider.endpoint, model: provider.model, kind: provider.kind }));
    },
    get failedProviders() {
      return [...registry.failed];
    },
    config: publicConfig,
    inFlight: () => balancer.totalInFlight(),
    close,
  };
}
