/**
 * The zg-gateway example.
 *
 * - With `ZG_PRIVATE_KEY` and `ZG_PROVIDERS` (comma-separated 0G provider addresses) set, it serves
 *   those providers on the network given by `RPC_ENDPOINT`.
 * - With neither, it starts the local 0G devnet (anvil + the real 0G contracts + 3 simulated
 *   providers) and serves that.
 *
 * Options come from the environment (see `optionsFromEnvironment`): PORT (3000), HOST (127.0.0.1),
 * STRATEGY, LOG_LEVEL, ADMIN_TOKEN, ALLOW_UNAUTHENTICATED. stdout carries only the gateway's JSON
 * log lines; the banner and the curl lines go to stderr. Ctrl-C or SIGTERM shuts everything down.
 */
import { optionsFromEnvironment, runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';

/**
 * Loads the local devnet package. It is a development dependency of zg-gateway: a production
 * install does not have it, and then the example says so instead of crashing.
 */
async function loadDevnet() {
  try {
    return await import('zg-devnet');
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    // Only the devnet package itself missing, not something it failed to load.
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes("'zg-devnet'");
    if (missing) {
      throw new Error(
        'The local 0G devnet (package zg-devnet, a development dependency) is not installed. ' +
          'Install the development dependencies (npm install in a clone of zg-gateway), or set ZG_PRIVATE_KEY and ZG_PROVIDERS to use a real 0G network.',
      );
    }
    throw error;
  }
}

/** The running devnet, typed from the ES module the dynamic import loads. */
type LocalDevnet = Awaited<ReturnType<Awaited<ReturnType<typeof loadDevnet>>['startLocalDevnet']>>;

async function main(): Promise<void> {
  const fromEnvironment = optionsFromEnvironment();
  let devnet: LocalDevnet | undefined;
  let gateway: GatewayHandle | undefined;

  const shutdown = async (signal: string): Promise<void> => {
    process.stderr.write(`\n${signal}: shutting down...\n`);
    try {
      await gateway?.close();
      await devnet?.stop();
    } finally {
      // The SDK leaves 300 s timers behind each transaction; the example (not the library) ends the process.
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  let options: GatewayOptions;
  try {
    if (fromEnvironment.key && fromEnvironment.providers) {
      options = fromEnvironment;
    } else {
      if (fromEnvironment.key || fromEnvironment.providers) {
        throw new Error('Set both ZG_PRIVATE_KEY and ZG_PROVIDERS to use a real 0G network, or neither to use the local devnet.');
      }
      process.stderr.write('No ZG_PRIVATE_KEY/ZG_PROVIDERS: starting the local 0G devnet (anvil + 0G contracts + 3 simulated providers)...\n');
      const { gatewayOptionsForDevnet, startLocalDevnet } = await loadDevnet();
      devnet = await startLocalDevnet({ providers: 3, settleIntervalMs: 30_000 });
      options = { ...gatewayOptionsForDevnet(devnet), ...fromEnvironment };
    }
    gateway = await runMultiProviderInferenceServer(options);
  } catch (error) {
    await gateway?.close().catch(() => undefined);
    await devnet?.stop().catch(() => undefined);
    throw error;
  }

  // ADMIN_TOKEN when set, else the one the gateway generated at start (admin routes are never open without one).
  const adminToken = gateway.adminToken;
  const fleet = gateway.providers.list();
  const model = fleet[0]?.model ?? 'model';
  const lines = [
    '',
    `zg-gateway is listening on ${gateway.url}  (strategy: ${gateway.gateway.strategy.name}, providers: ${fleet.length}${gateway.failedProviders.length ? `, failed: ${gateway.failedProviders.length}` : ''})`,
    ...(devnet
      ? [`local devnet: RPC ${devnet.rpcUrl}, chain ${devnet.chainId}`, ...devnet.providers.map((provider) => `  ${provider.name}  ${provider.address}  ${provider.url}  model ${provider.model}`)]
      : []),
    '',
    'Try it:',
    `  curl -s ${gateway.url}/v1/chat/completions -H 'content-type: application/json' \\`,
    `    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello 0G"}]}' -i`,
    `  curl -s ${gateway.url}/v1/verify -H 'content-type: application/json' -d '{"id":"<the id from the answer>"}'`,
    `  curl -s ${gateway.url}/v1/models`,
    `  curl -s ${gateway.url}/health`,
    `  export ADMIN_TOKEN=${adminToken}`,
    `  curl -s ${gateway.url}/admin/providers -H "authorization: Bearer $ADMIN_TOKEN"`,
    `  curl -s ${gateway.url}/metrics -H "authorization: Bearer $ADMIN_TOKEN"`,
    '',
    `Status page: ${gateway.url}/status  (it asks for the admin token)`,
    `API docs:    ${gateway.url}/docs`,
    '',
    'Ctrl-C stops the gateway' + (devnet ? ' and the devnet.' : '.'),
    '',
  ];
  process.stderr.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`zg-gateway example failed: ${message}\n`);
  process.exit(1);
});
