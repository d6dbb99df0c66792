import { EXIT } from './cli-error.js';
import type { CommandResult } from './command-result.js';
import { DEVNET_HELP } from './help-texts.js';
import { loadDevnet, type CliDevnet } from './load-devnet.js';
import { integerFlag, parseFlags } from './parse-flags.js';
import type { RunningGateway } from './run-gateway.js';
import { readServeFlags, SERVE_FLAG_SPEC } from './serve-options.js';

function describe(devnet: CliDevnet): Record<string, unknown> {
  return {
    rpc: devnet.rpcUrl,
    chainId: devnet.chainId,
    contracts: devnet.contracts,
    providers: devnet.providers.map(({ name, address, url, model }) => ({ name, address, url, model })),
  };
}

/**
 * `zg-gateway devnet [--providers N] [--serve ...]`: the local devnet (loaded with a dynamic import),
 * optionally with the gateway in front of it. Never prints the devnet's private key.
 */
export async function devnetCommand(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<CommandResult> {
  const parsed = parseFlags('devnet', args, { ...SERVE_FLAG_SPEC, providers: { type: 'string' }, serve: { type: 'boolean' } });
  if (parsed.values.help === true) {
    process.stdout.write(DEVNET_HELP);
    return EXIT.ok;
  }
  const count = integerFlag('devnet', parsed, 'providers', 1, 50) ?? 3;
  const flags = readServeFlags('devnet', parsed);
  const serve = parsed.values.serve === true;
  const { startLocalDevnet, gatewayOptionsForDevnet } = await loadDevnet();
  const { runGateway, writeReadyFile } = await import('./run-gateway.js');
  process.stderr.write(`starting the local 0G devnet (anvil, the 0G serving contracts, ${count} simulated provider${count === 1 ? '' : 's'})...\n`);
  const devnet = await startLocalDevnet({ providers: count, settleIntervalMs: 30_000 });
  let gateway: RunningGateway | undefined;
  try {
    process.stderr.write(
      [
        `local 0G devnet: RPC ${devnet.rpcUrl}  (chain ${devnet.chainId})`,
        `  inference contract ${devnet.contracts.inference}   ledger ${devnet.contracts.ledger}`,
        ...devnet.providers.map((provider) => `  ${provider.name}  ${provider.address}  ${provider.url}  model ${provider.model}`),
        '',
      ].join('\n'),
    );
    if (serve) {
      gateway = await runGateway({ flags, environment, fixed: gatewayOptionsForDevnet(devnet), readyFacts: { devnet: describe(devnet) } });
    } else {
      process.stderr.write(`list its providers: zg-gateway providers --rpc ${devnet.rpcUrl} --contract ${devnet.contracts.inference}\nCtrl-C stops it.\n`);
      if (flags.readyFile) await writeReadyFile(flags.readyFile, { devnet: describe(devnet) });
    }
  } catch (error) {
    await devnet.stop().catch(() => undefined);
    throw error;
  }
  const running = gateway;
  return {
    stop: async () => {
      try {
        await running?.close();
      } finally {
        await devnet.stop();
      }
    },
  };
}
