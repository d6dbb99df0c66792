import type { ConfiguredFleet } from './fleet/configured-fleet.js';
import { parseGatewayConfig, providerSelection, type GatewayDependencies, type GatewayOptions } from './config/index.js';
import { createGateway, providerUrlPolicy } from './create-gateway.js';
import { GatewayError } from './errors/index.js';
import { probeFleet } from './fleet/probe-fleet.js';
import { publicConfig, type FleetHandle, type GatewayHandle } from './gateway-handle.js';
import { PeriodicTask } from './internal/periodic-task.js';
import { setUpClientKeys, type GatewayClientKeys } from './reload/gateway-client-keys.js';
import { GatewayReloader } from './reload/gateway-reloader.js';
import { createLogger } from './logging/create-logger.js';
import { startHttpServer } from './server/index.js';
import { resolveAdminToken, type ResolvedAdminToken } from './server/admin-token.js';
import type { Gateway } from './gateway/gateway.js';
import { RuntimeMembers } from './fleet/runtime-members.js';
import { startRequestLog, type RequestLog } from './request-log/index.js';

/** How long start-up waits for Redis before serving from local state. */
const STORE_READY_WAIT_MS = 2000;

function fleetHandle(gateway: Gateway, fleet: ConfiguredFleet): FleetHandle {
  return {
    list: () =>
      gateway.registry.list().map(({ id, descriptor, membership, inFlight }) => ({
        id, address: descriptor.address, endpoint: descriptor.endpoint, model: descriptor.models[0]?.id ?? '', models: descriptor.models.map((offer) => offer.id), kind: descriptor.kind, state: membership.state, inFlight,
      })),
    add: async ({ weight, maxConcurrent, throughput, pool, capacity, rpm, tpm, ...provider }) => {
      const options = { weight, maxConcurrent, throughput, pool, capacity, rpm, tpm };
      return 'address' in provider ? fleet.addZg(provider.address, options) : fleet.addOpenAICompatible(provider, options, 'added');
    },
    remove: (id) => fleet.remove(id),
    configure: (id, options) => gateway.registry.configure(id, options),
  };
}

/**
 * Starts the gateway: brings up every configured provider (0G providers through one
 * wallet-authenticated broker), then serves the OpenAI-compatible API. Rejects with a typed
 * GatewayError when nothing can start (invalid options, no provider, port in use); never exits the process.
 */
export async function runMultiProviderInferenceServer(options: GatewayOptions, dependencies: GatewayDependencies = {}): Promise<GatewayHandle> {
  const config = parseGatewayConfig(options);
  const selection = providerSelection(config);
  if (selection.addresses.length === 0 && !selection.discover && config.openAICompatibleProviders.length === 0 && (dependencies.providers ?? []).length === 0) {
    throw new GatewayError('invalid_config', 'Invalid option providers: at least one provider is required', { param: 'providers' });
  }
  const logger = dependencies.logger ?? createLogger(config.logLevel, dependencies.logDestination);
  const now = dependencies.now ?? Date.now;
  const { gateway, fleet, client, stores, billing, strategyCompanions, useWeightsOf } = createGateway(config, dependencies, logger);
  const fleetControl = new RuntimeMembers({ fleet, registry: gateway.registry, logger, urlPolicy: providerUrlPolicy(config) });
  const upkeep = new PeriodicTask(
    async () => {
      gateway.maintain();
      await Promise.all([probeFleet(gateway.registry, Math.min(5000, config.healthCheckInterval)), fleet.tick()]);
    },
    config.healthCheckInterval,
    (error) => logger.error({ event: 'internal_error', err: error }, 'health check failed'),
  );
  let server;
  let keys: GatewayClientKeys | undefined;
  let admin: ResolvedAdminToken | undefined;
  // Listens from now on; its database opens in the background (a start-up never waits for it).
  const requestLog: RequestLog | undefined = config.requestLog ? startRequestLog(config.requestLog, gateway.id, logger, now) : undefined;
  try {
    // A Redis that is not up yet at start: serve from local state (logged once) rather than wait.
    await stores.ready(STORE_READY_WAIT_MS);
    admin = await resolveAdminToken(config.adminToken, config.adminTokenFile);
    keys = await setUpClientKeys(config, stores, now, logger);
    await gateway.start();
    server = await startHttpServer(gateway, {
      port: config.port,
      host: config.host,
      logger,
      bodyLimit: config.bodyLimit,
      ...config.limits,
      adminToken: admin.token,
      metricsToken: config.metricsToken,
      openMetricsOnLoopback: config.adminToken === undefined && config.metricsToken === undefined,
      allowedHosts: config.allowedHosts,
      corsOrigins: config.corsOrigins,
      clientKeys: keys.clientKeys,
      billing,
      fleetControl,
      tracing: config.tracing,
      requestLog,
    });
  } catch (error) {
    await keys?.close();
    await gateway.close();
    await requestLog?.close();
    await stores.close();
    await client.close().catch(() => undefined);
    throw error;
  }
  const clientKeys = keys;
  const { token: adminToken, source: adminTokenSource, file: adminTokenFile } = admin as ResolvedAdminToken;
  if (adminTokenSource !== 'configured') {
    // Where the token is, never the token itself.
    const where = adminTokenFile === undefined ? 'generated, in memory only (handle.adminToken)' : `${adminTokenSource === 'file' ? 'read from' : 'generated and written to'} ${adminTokenFile}`;
    logger.info({ event: 'admin_token_generated', source: adminTokenSource, file: adminTokenFile }, `admin token ${where}`);
  }
  clientKeys.start();
  const reloader = new GatewayReloader({
    config,
    gateway,
    fleet,
    client,
    logger,
    now,
    keys: clientKeys.keySet,
    strategyInjected: dependencies.strategy !== undefined,
    ownsLogger: dependencies.logger === undefined,
    strategyCompanions,
    injectedProviders: dependencies.providers?.length ?? 0,
    useWeightsOf,
  });
  upkeep.start();
  logger.info({ event: 'gateway_listening', url: server.url, strategy: gateway.strategy.name, providers: gateway.registry.list().map((entry) => entry.id), store: stores.kind, failedProviders: fleet.failed.length }, 'gateway listening');
  const http = server;
  let closing: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    host: config.host,
    adminToken,
    providers: fleetHandle(gateway, fleet),
    get failedProviders() {
      return fleet.failed;
    },
    get config() {
      return publicConfig(reloader.config);
    },
    reconfigure: (next) => reloader.reconfigure(next),
    gateway,
    billing,
    requestLog,
    metrics: http.telemetry.registry,
    inFlight: () => gateway.inFlight(),
    close: () =>
      (closing ??= (async () => {
        await http.stopAccepting();
        gateway.beginShutdown();
        await gateway.drain(reloader.config.shutdownGracePeriod);
        await upkeep.stop();
        await reloader.close();
        await http.closeConnections(500);
        await gateway.close();
        // After the last request's row: writes what is buffered, then closes its database.
        await requestLog?.close();
        await clientKeys.close();
        await stores.close();
        await client.close().catch(() => undefined);
        logger.info({ event: 'gateway_closed' }, 'gateway closed');
        if (!dependencies.logger) await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })()),
  };
}
