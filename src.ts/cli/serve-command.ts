import { EXIT } from './cli-error.js';
import type { CommandResult } from './command-result.js';
import { SERVE_HELP } from './help-texts.js';
import { parseFlags } from './parse-flags.js';
import { readServeFlags, SERVE_FLAG_SPEC } from './serve-options.js';

/** `zg-gateway serve`: the gateway from a config file, the environment and flags, until a signal. */
export async function serveCommand(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<CommandResult> {
  const parsed = parseFlags('serve', args, SERVE_FLAG_SPEC);
  if (parsed.values.help === true) {
    process.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  const flags = readServeFlags('serve', parsed);
  // Loaded once the command line is known to be right: it brings the whole gateway (and the 0G SDK).
  const { runGateway } = await import('./run-gateway.js');
  const running = await runGateway({ flags, environment });
  return { stop: () => running.close() };
}
