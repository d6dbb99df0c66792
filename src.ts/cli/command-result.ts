/** A command that keeps running (a server) until it is told to stop. */
export interface LongRunning {
  /** Stops it cleanly (in-flight requests finish, child processes end). */
  stop(): Promise<void>;
}

/** What a command ends with: an exit code, or something running until a signal. */
export type CommandResult = number | LongRunning;
