/**
 * The 0G SDK writes `sending tx ...`, `tx hash: ...`, `Detected hardhat ...` and its own log
 * lines with `console.log`/`console.warn`. Those would mix plain text into the gateway's JSON
 * log stream on stdout. Everything the gateway asks of the SDK runs inside
 * {@link runWithSdkLogger}; while routing is installed, console output made in that async
 * context (timers the SDK starts there included) goes to the gateway's logger instead, at
 * debug level (warnings and errors at warn). Console output from anywhere else is untouched.
 *
 * The same routing unrefs the SDK's long timers: each transaction races its receipt against a
 * 5-minute `setTimeout` that is never cleared, which would keep a process alive for 5 minutes after
 * `gateway.close()`. A timer of a minute or more started in the SDK's context no longer holds the
 * process open (it still fires if the process lives on).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format, promisify } from 'node:util';
import type { Logger } from 'pino';

const sdkContext = new AsyncLocalStorage<Logger>();

type ConsoleMethod = 'log' | 'info' | 'debug' | 'warn' | 'error';
const METHODS: readonly ConsoleMethod[] = ['log', 'info', 'debug', 'warn', 'error'];

let installations = 0;
let originals: Record<ConsoleMethod, (...args: unknown[]) => void> | undefined;
let originalSetTimeout: typeof setTimeout | undefined;

/** SDK timers at least this long are unref'd (receipt timeouts, not work the SDK waits on). */
const LONG_SDK_TIMER_MS = 60_000;

/** Runs `action` (and whatever it schedules) with SDK console output routed to `logger`. */
export function runWithSdkLogger<T>(logger: Logger, action: () => T): T {
  return sdkContext.run(logger, action);
}

/**
 * Installs the routing (reference-counted; the console is restored when every installer has
 * called the returned function). Idempotent per returned function.
 */
export function installSdkConsoleRouting(): () => void {
  installations += 1;
  if (installations === 1) {
    const saved = {} as Record<ConsoleMethod, (...args: unknown[]) => void>;
    for (const method of METHODS) {
      const original = console[method].bind(console) as (...args: unknown[]) => void;
      saved[method] = original;
      console[method] = (...args: unknown[]): void => {
        const logger = sdkContext.getStore();
        if (!logger) return original(...args);
        const level = method === 'warn' || method === 'error' ? 'warn' : 'debug';
        logger[level]({ event: 'sdk_log', stream: method }, format(...args));
      };
    }
    originals = saved;
    const original = globalThis.setTimeout;
    originalSetTimeout = original;
    const patched = ((callback: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
      const timer = original(callback, ms, ...rest);
      if (typeof ms === 'number' && ms >= LONG_SDK_TIMER_MS && sdkContext.getStore()) timer.unref();
      return timer;
    }) as typeof setTimeout;
    // `util.promisify(setTimeout)` keeps working: its custom promisified form is carried over.
    Object.defineProperty(patched, promisify.custom, { value: (original as unknown as Record<symbol, unknown>)[promisify.custom], configurable: true });
    globalThis.setTimeout = patched;
  }
  let uninstalled = false;
  return () => {
    if (uninstalled) return;
    uninstalled = true;
    installations -= 1;
    if (installations === 0 && originals) {
      for (const method of METHODS) console[method] = originals[method];
      originals = undefined;
      if (originalSetTimeout) globalThis.setTimeout = originalSetTimeout;
      originalSetTimeout = undefined;
    }
  };
}
