/**
 * The one protocol between the benchmark's orchestrator and its child processes (upstream,
 * floor proxy, gateway, load generator, RPC relay, devnet): the parent forks a compiled script,
 * sends it its start arguments, waits for `ready`, then calls named methods with a timeout.
 * Every child also answers `usage` (CPU and memory of its own process) and `shutdown`.
 *
 * Children end themselves when the parent goes away (IPC disconnect) or on SIGTERM/SIGINT, and
 * the parent terminates every child it started on exit, error or signal, so no process outlives
 * a run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** What a child says about its own process. */
export interface ProcessUsage {
  /** `process.cpuUsage()` user + system since the process started, ms. */
  cpuMs: number;
  rssMb: number;
  /** Highest RSS sampled (every RSS_SAMPLE_MS) since the last `resetPeak`, MB; before any, the RSS now. */
  peakRssMb: number;
  /** The kernel's high-water mark for the whole life of the process (`resourceUsage().maxRSS`), MB. */
  maxRssMb: number;
}

const RSS_SAMPLE_MS = 50;

type ParentMessage = { type: 'start'; args: unknown } | { type: 'call'; id: number; method: string; args: unknown };
type ChildMessage =
  | { type: 'ready'; info: unknown }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: string };

type Handler = (args: unknown) => unknown;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Runs inside a child: waits for the start arguments, runs `start`, reports ready, then serves
 * calls. `start` returns the info sent to the parent, the handlers, and how to stop.
 */
export function runChild<Args>(
  start: (args: Args) => Promise<{ info: unknown; handlers: Record<string, Handler>; stop(): Promise<void> }>,
): void {
  const send = (message: ChildMessage): void => {
    if (process.connected) process.send?.(message);
  };
  // RSS is sampled only once a phase asked for a peak (`resetPeak`): reading it costs ~60 µs,
  // which would show in a profile of the gateway if it ran all the time.
  let peakRss = process.memoryUsage.rss();
  let sampler: NodeJS.Timeout | undefined;
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const exit = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(code), 5000);
    timer.unref();
    await stop?.().catch(() => undefined);
    process.exit(code);
  };
  // The parent went away, or asked us (or the terminal's Ctrl-C reached the whole group): stop
  // cleanly, so `exit` hooks run (the devnet's kills its anvil) even halfway through start-up.
  process.on('disconnect', () => void exit(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void exit(0));
  const builtIn: Record<string, Handler> = {
    usage: (): ProcessUsage => {
      const cpu = process.cpuUsage();
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      return { cpuMs: (cpu.user + cpu.system) / 1000, rssMb: rss / 2 ** 20, peakRssMb: peakRss / 2 ** 20, maxRssMb: process.resourceUsage().maxRSS / 1024 };
    },
    resetPeak: () => {
      peakRss = process.memoryUsage.rss();
      sampler ??= setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }, RSS_SAMPLE_MS).unref();
      return null;
    },
    shutdown: () => {
      // Answer first, then stop and exit (so a CPU profile, if asked for, is written).
      setImmediate(() => void exit(0));
      return null;
    },
  };
  let handlers: Record<string, Handler> = {};
  process.on('message', (raw: unknown) => {
    const message = raw as ParentMessage;
    if (!isRecord(message)) return;
    if (message.type === 'start') {
      start(message.args as Args).then(
        (started) => {
          stop = started.stop;
          handlers = started.handlers;
          send({ type: 'ready', info: started.info });
        },
        (error: unknown) => {
          send({ type: 'failed', error: describeError(error) });
          void exit(1);
        },
      );
      return;
    }
    if (message.type === 'call') {
      const handler = builtIn[message.method] ?? handlers[message.method];
      if (!handler) {
        send({ type: 'result', id: message.id, ok: false, error: `no method ${message.method}` });
        return;
      }
      Promise.resolve()
        .then(() => handler(message.args))
        .then(
          (value) => send({ type: 'result', id: message.id, ok: true, value: value ?? null }),
          (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: describeError(error) }),
        );
    }
  });
}

/** Every child started in this process, killed on exit whatever happens. */
const liveChildren = new Set<ChildHandle>();
/** Grandchildren a child told us about (anvil), killed with them. */
const extraPids = new Set<number>();
let guardInstalled = false;

/**
 * The last resort, synchronous (runs in the `exit` event): SIGTERM lets each child stop by itself
 * (a SIGKILLed devnet child would leave its anvil behind); anvil itself is SIGKILLed.
 */
function killEverything(): void {
  for (const child of liveChildren) child.signal('SIGTERM');
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  extraPids.clear();
}

function installGuard(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: stopping every child\n`);
      void Promise.all([...liveChildren].map((child) => child.terminate())).finally(() => process.exit(130));
    });
  }
}

/** Kills this pid (e.g. anvil, started by the devnet child) when the run ends. */
export function killOnExit(pid: number): void {
  installGuard();
  extraPids.add(pid);
}

export interface StartChildOptions {
  /** Compiled script next to this file, e.g. `fake-upstream.js`. */
  script: string;
  args: unknown;
  readyTimeoutMs: number;
  /** Show the child's stdout (on our stderr, so the last stdout line stays the JSON). */
  verbose?: boolean;
  execArgv?: string[];
}

/** The parent's handle on one child process. */
export class ChildHandle {
  readonly name: string;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  private exited = false;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.on('message', (raw: unknown) => {
      const message = raw as ChildMessage;
      if (!isRecord(message) || message.type !== 'result') return;
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new Error(`${this.name}: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      liveChildren.delete(this);
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) during call ${id}`));
      }
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Forks the script, sends its arguments and resolves with the child's `ready` info. */
  static start<Info>(name: string, options: StartChildOptions): Promise<{ handle: ChildHandle; info: Info }> {
    installGuard();
    const child = fork(join(__dirname, options.script), [], {
      stdio: ['ignore', options.verbose ? 2 : 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      execArgv: options.execArgv ?? [],
    });
    const handle = new ChildHandle(name, child);
    liveChildren.add(handle);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void handle.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`${name} not ready within ${options.readyTimeoutMs} ms`)), options.readyTimeoutMs);
      child.once('exit', (code) => fail(new Error(`${name} exited with code ${code} before it was ready`)));
      child.on('message', (raw: unknown) => {
        const message = raw as ChildMessage;
        if (!isRecord(message)) return;
        if (message.type === 'ready') {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ handle, info: message.info as Info });
        } else if (message.type === 'failed') {
          fail(new Error(`${name} failed to start: ${message.error}`));
        }
      });
      child.send({ type: 'start', args: options.args } satisfies ParentMessage);
    });
  }

  /** Calls a method of the child; rejects after `timeoutMs`. */
  call<Result>(method: string, args: unknown, timeoutMs: number): Promise<Result> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}.${method} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: (value) => resolve(value as Result), reject, timer });
      this.child.send({ type: 'call', id, method, args } satisfies ParentMessage);
    });
  }

  usage(): Promise<ProcessUsage> {
    return this.call<ProcessUsage>('usage', null, 5000);
  }

  private whenExited(): Promise<void> {
    return this.exited ? Promise.resolve() : new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Asks the child to stop and exit; terminates it if it has not within `graceMs`. */
  async stop(graceMs = 8000): Promise<void> {
    if (this.exited) return;
    const exited = this.whenExited();
    await this.call('shutdown', null, 2000).catch(() => undefined);
    const timer = setTimeout(() => void this.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGTERM (the child stops cleanly, within 5 s), then SIGKILL after `graceMs`. */
  async terminate(graceMs = 7000): Promise<void> {
    if (this.exited) return;
    const exited = this.whenExited();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }
}
