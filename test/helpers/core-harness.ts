/**
 * The gateway core on fake providers, with no HTTP and no chain: a Gateway built from a
 * registry of FakeProviders, and a ResponseSink that records what would reach the client.
 */
import {
  Gateway,
  LruSessionStore,
  RoundRobinStrategy,
  type BalancingStrategy,
  type CompletionReport,
  type FleetSource,
  type ResponseRecord,
  type ResponseSink,
  type AdmissionClock,
  type AdmissionQueueSettings,
  type ProviderMembershipOptions,
  type ProviderFilter,
  type RetryPolicyOptions,
  type RoutePlannerOptions,
} from 'zg-gateway';
import { FakeProvider, fakeClock, silentLogger, testRegistry, type FakeClock } from './fakes.js';

/** A sink that keeps what the core wrote. */
export class MemorySink implements ResponseSink {
  status: number | undefined;
  headers: Record<string, string> = {};
  readonly chunks: Buffer[] = [];
  ended = false;
  closed = false;

  head(status: number, headers: Readonly<Record<string, string>>): void {
    if (this.status !== undefined) throw new Error('head written twice');
    this.status = status;
    this.headers = { ...headers };
  }

  write(chunk: Buffer | string): boolean {
    if (this.ended) throw new Error('write after end');
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  async drain(): Promise<void> {}

  end(chunk?: Buffer | string): void {
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
    this.closed = true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The `data:` payloads of an SSE body. */
  events(): string[] {
    return this.text()
      .split('\n\n')
      .filter(Boolean)
      .map((event) => event.replace(/^data: /, ''));
  }
}

/** A fleet source that only hands over the given providers. */
class StaticFleet implements FleetSource {
  readonly failed = [];
  constructor(private readonly start_: () => void) {}
  async start(): Promise<void> {
    this.start_();
  }
  async tick(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface CoreHarness {
  gateway: Gateway;
  providers: FakeProvider[];
  clock: FakeClock;
  responses: LruSessionStore<ResponseRecord>;
  sessions: LruSessionStore<string>;
  /** Runs one completion; resolves with the report, or with the error thrown before anything was written. */
  complete(body: Record<string, unknown>, options?: { sessionId?: string; signal?: AbortSignal; priority?: number; pool?: string; route?: 'chat' | 'completions'; filter?: ProviderFilter }): Promise<{ sink: MemorySink; report?: CompletionReport; error?: { code: string; status: number; message: string; details?: unknown } }>;
}

/** A core over `providers` (ids → served models), round-robin unless told otherwise. */
export async function coreHarness(
  providers: FakeProvider[],
  options: {
    strategy?: BalancingStrategy;
    routing?: RoutePlannerOptions;
    maxAttempts?: number;
    timeouts?: Partial<{ firstByte: number; chunkGap: number; total: number; verify: number }>;
    /** How each provider takes part (by id): caps, pools, weights. */
    membership?: Record<string, ProviderMembershipOptions>;
    queue?: AdmissionQueueSettings;
    queueClock?: AdmissionClock;
    /** Retries and backoff per failure class. */
    retryPolicy?: RetryPolicyOptions;
    /** How the dispatcher waits before a retry (default: a real timer). */
    sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
    random?: () => number;
  } = {},
): Promise<CoreHarness> {
  const clock = fakeClock(Date.now());
  const registry = testRegistry(clock);
  const responses = new LruSessionStore<ResponseRecord>({ now: clock.now });
  const sessions = new LruSessionStore<string>({ now: clock.now });
  const gateway = new Gateway({
    logger: silentLogger,
    registry,
    strategy: options.strategy ?? new RoundRobinStrategy(),
    responses,
    sessions,
    fleet: new StaticFleet(() => {
      for (const provider of providers) registry.add(provider, options.membership?.[provider.id] ?? {});
    }),
    routing: options.routing ?? {},
    maxAttempts: options.maxAttempts ?? 3,
    timeouts: { firstByte: 2000, chunkGap: 2000, total: 10_000, verify: 2000, ...options.timeouts },
    limits: { maxResponseBytes: 1024 * 1024, maxSseEventBytes: 64 * 1024 },
    retryBudget: { ratio: 10, minPerSecond: 1000 },
    now: clock.now,
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.queueClock ? { queueClock: options.queueClock } : {}),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  await gateway.start();
  let requestCounter = 0;
  return {
    gateway,
    providers,
    clock,
    responses,
    sessions,
    async complete(body, extra = {}) {
      const sink = new MemorySink();
      try {
        const report = await gateway.complete(
          { route: extra.route ?? 'chat', body, requestId: `req-${++requestCounter}`, sessionId: extra.sessionId, clientSignal: extra.signal ?? new AbortController().signal, priority: extra.priority, pool: extra.pool, filter: extra.filter },
          sink,
        );
        return { sink, report };
      } catch (error) {
        const typed = error as { code: string; status: number; message: string; details?: unknown };
        return { sink, error: { code: typed.code, status: typed.status, message: typed.message, details: typed.details } };
      }
    },
  };
}

export { FakeProvider };
