#!/usr/bin/env node
/**
 * `zg-gateway`: the command-line tool shipped with the library (package `bin`). It is the only
 * place that ends the process: the library never does. See `zg-gateway --help`.
 */
import { GatewayError } from '../errors/index.js';
import { EXIT, UsageError } from './cli-error.js';
import type { CommandResult } from './command-result.js';
import { MAIN_HELP } from './help-texts.js';
import { DevnetMissingError } from './load-devnet.js';
import { packageRequire } from '../internal/package-require.js';
import { escapeControlCharacters } from '../logging/escape-control-characters.js';

type Command = (args: readonly string[], environment: NodeJS.ProcessEnv) => Promise<CommandResult>;

/** Each command is loaded when it runs: `--help` and mistakes answer without loading the 0G SDK. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./serve-command.js')).serveCommand,
  devnet: async () => (await import('./devnet-command.js')).devnetCommand,
  providers: async () => (await import('./providers-command.js')).providersCommand,
  keys: async () => (await import('./keys-command.js')).keysCommand,
  usage: async () => (await import('./usage-command.js')).usageCommand,
};

function version(): string {
  try {
    return (packageRequire('../../package.json') as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The message and exit code for an error a command threw. Never prints a stack for expected failures. */
function report(thrown: unknown): number {
  // A message may carry a provider's text: no raw control character but its line breaks reaches the terminal.
  const clean = (text: string): string => text.split('\n').map(escapeControlCharacters).join('\n');
  const error = thrown instanceof Error ? Object.assign(thrown, { message: clean(thrown.message) }) : clean(String(thrown));
  if (error instanceof UsageError) {
    process.stderr.write(`zg-gateway: ${error.message}\nRun 'zg-gateway ${error.command ? error.command + ' ' : ''}--help' for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof DevnetMissingError) {
    process.stderr.write(`zg-gateway: ${error.message}\n`);
    return EXIT.failure;
  }
  if (GatewayError.isInstance(error)) {
    const hint = error.code === 'invalid_config' && error.param === 'providers' ? "\nGive providers with --config, --provider (or env ZG_PROVIDERS) or --upstream; or try 'zg-gateway devnet --serve'." : '';
    process.stderr.write(`zg-gateway: ${error.message} (${error.code})${hint}\n`);
    return error.code === 'invalid_config' ? EXIT.usage : EXIT.failure;
  }
  process.stderr.write(`zg-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failure;
}

/** Stops a running command on SIGINT or SIGTERM, then ends the process; a second signal ends it at once. */
function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`\n${signal}: shutting down (in-flight requests finish first; ${signal} again to exit now)...\n`);
    stop().then(
      // The 0G SDK leaves timers behind its transactions: the command, not the library, ends the process.
      () => process.exit(EXIT.ok),
      (error: unknown) => process.exit(report(error)),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(argv: readonly string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(MAIN_HELP);
    process.exitCode = name === undefined ? EXIT.usage : EXIT.ok;
    return;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.exitCode = report(new UsageError(`Unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`));
    return;
  }
  const command = await load();
  const result = await command(args, process.env);
  if (typeof result === 'number') process.exitCode = result;
  else stopOnSignals(() => result.stop());
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // A failed start may leave the SDK's timers or a child process's handles behind: end now.
  process.exit(report(error));
});
