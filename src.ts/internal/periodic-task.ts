/**
 * Runs an async task now (optionally) and then every `intervalMs`, never two runs at once
 * (a tick that finds the previous run still going is skipped). Its timer does not keep the
 * process alive. `stop()` waits for a run under way. A failing run is reported, never thrown.
 */
export class PeriodicTask {
  readonly #task: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(task: () => Promise<void>, intervalMs: number, onError: (error: unknown) => void = () => undefined) {
    this.#task = task;
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  /** Starts the schedule (first run at once when `runNow`). Idempotent. */
  start(runNow = true): void {
    if (this.#timer || this.#stopped) return;
    if (runNow) void this.runOnce();
    this.#timer = setInterval(() => void this.runOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Runs the task now unless a run is under way (then joins it). */
  runOnce(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#task()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Stops the schedule and waits for a run under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
