/**
 * The zg-gateway example.
 *
 * - With `ZG_PRIVATE_KEY` and `ZG_PROVIDERS` (comma-separated 0G provider addresses) set, it serves
 *   those providers on the network given by `RPC_ENDPOINT`.
 * - With neither, it starts the local 0G devnet (anvil + the real 0G contracts + 3 simulated chat
 *   providers and one each of text-to-image, image-editing and speech-to-text) and serves that. It
 *   writes a one-second WAV to the temporary directory for the printed transcription curl line.
 *
 * Options come from the environment (see `optionsFromEnvironment`): PORT (3000), HOST (127.0.0.1),
 * STRATEGY, LOG_LEVEL, ADMIN_TOKEN, ALLOW_UNAUTHENTICATED. stdout carries only the gateway's JSON
 * log lines; the banner and the curl lines go to stderr. Ctrl-C or SIGTERM shuts everything down.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      process.stderr.write('No ZG_PRIVATE_KEY/ZG_PROVIDERS: starting the local 0G devnet (anvil + 0G contracts + 3 chat providers, one image, one image-editing and one speech-to-text provider)...\n');
      const { gatewayOptionsForDevnet, startLocalDevnet } = await loadDevnet();
      devnet = await startLocalDevnet({ providers: 3, services: ['text-to-image', 'image-editing', 'speech-to-text'], settleIntervalMs: 30_000 });
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
  const model = devnet?.providers.find((provider) => provider.serviceType === 'chatbot')?.model ?? fleet[0]?.model ?? 'model';
  const imageModel = devnet?.providers.find((provider) => provider.serviceType === 'text-to-image')?.model;
  const speechModel = devnet?.providers.find((provider) => provider.serviceType === 'speech-to-text')?.model;
  const wav = speechModel ? writeExampleWav() : undefined;
  const lines = [
    '',
    `zg-gateway is listening on ${gateway.url}  (strategy: ${gateway.gateway.strategy.name}, providers: ${fleet.length}${gateway.failedProviders.length ? `, failed: ${gateway.failedProviders.length}` : ''})`,
    ...(devnet
      ? [`local devnet: RPC ${devnet.rpcUrl}, chain ${devnet.chainId}`, ...devnet.providers.map((provider) => `  ${provider.name}  ${provider.address}  ${provider.url}  model ${provider.model}  (${provider.serviceType})`)]
      : []),
    '',
    'Try it:',
    `  curl -s ${gateway.url}/v1/chat/completions -H 'content-type: application/json' \\`,
    `    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello 0G"}]}' -i`,
    ...(imageModel
      ? [`  curl -s ${gateway.url}/v1/images/generations -H 'content-type: application/json' \\`, `    -d '{"model":"${imageModel}","prompt":"a lighthouse at dusk","n":1,"response_format":"b64_json"}' -i`]
      : []),
    ...(speechModel && wav ? [`  curl -s ${gateway.url}/v1/audio/transcriptions -F model=${speechModel} -F file=@${wav} -i`] : []),
    `  curl -s ${gateway.url}/v1/verify -H 'content-type: application/json' -d '{"id":"<the chat id, or an image/transcription X-Response-Id>"}'`,
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

/** A one-second 16 kHz mono PCM WAV (a 440 Hz tone) in the temporary directory, for the transcription curl line. */
function writeExampleWav(): string {
  const rate = 16_000;
  const data = Buffer.alloc(rate * 2);
  for (let index = 0; index < rate; index++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * index) / rate) * 8000), index * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  const path = join(tmpdir(), 'zg-gateway-example.wav');
  writeFileSync(path, Buffer.concat([header, data]));
  return path;
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`zg-gateway example failed: ${message}\n`);
  process.exit(1);
});
