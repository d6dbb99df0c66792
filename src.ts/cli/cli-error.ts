/** Exit codes of the `zg-gateway` command. */
export const EXIT = {
  ok: 0,
  /** Something failed while running (a port in use, Redis unreachable, no provider could start). */
  failure: 1,
  /** The command line or the configuration is wrong (unknown flag, bad value, invalid option). */
  usage: 2,
} as const;

/** A mistake in the command line or configuration: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}
