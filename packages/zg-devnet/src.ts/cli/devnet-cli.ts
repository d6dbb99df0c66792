#!/usr/bin/env node
/**
 * `zg-devnet` (root: `npm run devnet`): a local 0G devnet in the foreground, for experiments.
 * Prints the RPC URL, contract addresses, providers and a funded user key; Ctrl-C stops it.
 * PROVIDERS (default 3) sets how many simulated chat providers; SERVICES (a comma-separated list
 * of `text-to-image`, `image-editing`, `speech-to-text`; default all three, `none` for chat only)
 * adds one provider of each service type listed (the gateway serves every type). This is a command, not library code: it is not exported from the package.
 */
import { startLocalDevnet } from '../devnet/start-local-devnet.js';
import { isServiceType, SERVICE_ROUTES, type ServiceType } from '../provider/service-types.js';

function servicesFromEnvironment(value: string | undefined): ServiceType[] {
  const text = value ?? 'text-to-image,image-editing,speech-to-text';
  if (text.trim() === '' || text.trim() === 'none') return [];
  return text.split(',').map((name) => {
    const trimmed = name.trim();
    if (!isServiceType(trimmed)) throw new Error(`SERVICES lists chatbot, text-to-image, image-editing or speech-to-text, not ${JSON.stringify(trimmed)}`);
    return trimmed;
  });
}

async function main(): Promise<void> {
  const count = Number(process.env.PROVIDERS ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 50) throw new Error(`PROVIDERS must be 1..50, not ${process.env.PROVIDERS}`);
  const services = servicesFromEnvironment(process.env.SERVICES);
  const devnet = await startLocalDevnet({ providers: count, services, settleIntervalMs: 30_000 });
  // Everything the devnet starts is stopped by stop(): the process then ends by itself.
  const stop = (): void => {
    process.stderr.write('\nstopping the devnet...\n');
    devnet.stop().catch((error: unknown) => {
      process.stderr.write(`devnet stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const lines = [
    'local 0G devnet is running',
    `  RPC URL        ${devnet.rpcUrl}   (chain id ${devnet.chainId}, anvil pid ${devnet.anvilPid})`,
    `  ledger         ${devnet.contracts.ledger}`,
    `  inference      ${devnet.contracts.inference}`,
    `  fine-tuning    ${devnet.contracts.fineTuning}`,
    `  user address   ${devnet.userAddress}   (10000 0G, ledger with 100 0G)`,
    `  user key       ${devnet.userPrivateKey}   (throw-away key of this devnet only)`,
    '  providers:',
    ...devnet.providers.map(
      (provider) =>
        `    ${provider.name}  ${provider.address}  ${provider.url}  ${provider.serviceType} (POST ${SERVICE_ROUTES[provider.serviceType]})  model ${provider.model}  TEE signer ${provider.signerAddress}`,
    ),
    '',
    'Ctrl-C stops it.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`devnet failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
