/**
 * The fast test layer's doubles: an in-memory InferenceProvider whose answers a test scripts,
 * a fake clock, a silent logger, snapshot builders. No chain, no network.
 */
import pino, { type Logger } from 'pino';
import {
  GatewayError,
  ProviderRegistry,
  type BalancingStrategy,
  type ChatCallOptions,
  type InferenceProvider,
  type ModelOffer,
  type PickContext,
  type ProviderChatResult,
  type ProviderDescriptor,
  type ProviderSnapshot,
  type SseEvent,
  type TokenUsage,
  type UpstreamCall,
} from 'zg-gateway';

export const silentLogger: Logger = pino({ level: 'silent' });

/** A clock a test moves by hand. */
export interface FakeClock {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
}

export function fakeClock(start = 1_000_000): FakeClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
    set: (ms) => {
      time = ms;
    },
  };
}

/** One scripted answer of a {@link FakeProvider}. */
export type FakeAnswer =
  | { kind: 'json'; content?: string; usage?: TokenUsage; id?: string; body?: Record<string, unknown> }
  | { kind: 'stream'; chunks: Array<Record<string, unknown> | string>; failAfter?: GatewayError; id?: string; gapMs?: number }
  | { kind: 'error'; error: GatewayError; delayMs?: number }
  | { kind: 'hang' };

/** A usage object. */
export function usage(prompt: number, completion: number): TokenUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** A chat completion chunk with `delta`. */
export function chunk(id: string, delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return { id, object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

function sse(event: Record<string, unknown> | string): SseEvent {
  const text = typeof event === 'string' ? event : `data: ${JSON.stringify(event)}\n\n`;
  return { raw: Buffer.from(text), json: typeof event === 'string' ? undefined : event };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

let counter = 0;

/**
 * An in-memory provider: each call takes the next scripted answer (or the default one), and
 * records what it was sent. Aborts are honoured like a real adapter (rejecting with the reason).
 */
export class FakeProvider implements InferenceProvider {
  readonly specificationVersion = 'v2' as const;
  readonly id: string;
  descriptor: ProviderDescriptor;
  readonly calls: UpstreamCall[] = [];
  readonly script: FakeAnswer[] = [];
  defaultAnswer: FakeAnswer = { kind: 'json' };
  probeError: GatewayError | undefined;
  closed = false;
  verified: Array<{ chatId: string; model: string }> = [];
  usageRecorded: TokenUsage[] = [];

  constructor(id: string, models: ReadonlyArray<string | ModelOffer> = ['m'], kind = 'fake') {
    this.id = id;
    this.descriptor = {
      id,
      kind,
      address: id,
      endpoint: `memory://${id}`,
      models: models.map((model) => (typeof model === 'string' ? { id: model, inputPrice: 1n, outputPrice: 2n } : model)),
      verifiable: true,
      verifiability: 'TeeML',
    };
  }

  /** Queues answers for the next calls. */
  then(...answers: FakeAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  async chat(call: UpstreamCall, options: ChatCallOptions): Promise<ProviderChatResult> {
    this.calls.push(call);
    const answer = this.script.shift() ?? this.defaultAnswer;
    const signal = options.signal;
    if (signal.aborted) throw signal.reason as Error;
    if (answer.kind === 'hang') {
      await sleep(24 * 3600 * 1000, signal);
      throw new Error('unreachable');
    }
    if (answer.kind === 'error') {
      if (answer.delayMs) await sleep(answer.delayMs, signal);
      throw answer.error;
    }
    const id = answer.id ?? `chatcmpl-${this.id}-${++counter}`;
    const model = typeof call.body.model === 'string' ? call.body.model : 'm';
    if (answer.kind === 'json') {
      const body = answer.body ?? {
        id,
        object: 'chat.completion',
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.content ?? `${this.id} says hi` }, finish_reason: 'stop' }],
        usage: answer.usage ?? usage(3, 4),
      };
      return { kind: 'json', chatId: id, bytes: Buffer.from(JSON.stringify(body)), facts: { responseId: id, model, usage: (body.usage as TokenUsage | undefined) ?? undefined } };
    }
    const chunks = answer.chunks;
    const failAfter = answer.failAfter;
    const gapMs = answer.gapMs ?? 0;
    async function* events(): AsyncGenerator<SseEvent, undefined> {
      for (const item of chunks) {
        if (gapMs > 0) await sleep(gapMs, signal);
        if (signal.aborted) throw signal.reason as Error;
        yield sse(item);
      }
      if (failAfter) throw failAfter;
      return undefined;
    }
    return { kind: 'stream', chatId: id, events: events() };
  }

  /** What `verify` answers. */
  verdict: 'valid' | 'invalid' | 'unsigned' = 'valid';

  async verify(chatId: string, model: string): Promise<'valid' | 'invalid' | 'unsigned'> {
    this.verified.push({ chatId, model });
    return this.verdict;
  }

  recordUsage(recorded: TokenUsage): void {
    this.usageRecorded.push(recorded);
  }

  async probe(): Promise<void> {
    if (this.probeError) throw this.probeError;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A registry with a silent logger and the given clock. */
export function testRegistry(clock: FakeClock = fakeClock()): ProviderRegistry {
  return new ProviderRegistry({ logger: silentLogger, now: clock.now });
}

/** A pick context with fixed time and randomness. */
export function pickContext(random = 0, now = 0): PickContext {
  return { now: () => now, random: () => random, request: { model: 'm', promptTokens: 10, maxTokens: undefined } };
}

/** The id a strategy picked. */
export function pickedId(strategy: BalancingStrategy, candidates: readonly ProviderSnapshot[], context: PickContext = pickContext()): string {
  const result = strategy.pick(candidates, context);
  return 'provider' in result ? result.provider.id : result.id;
}

/** Plain snapshots with the given in-flight counts (and weights). */
export function snapshots(inFlight: readonly number[], weights: readonly number[] = []): ProviderSnapshot[] {
  return inFlight.map((count, index) => {
    const provider = new FakeProvider(`p${index}`);
    return {
      id: `p${index}`,
      index,
      inFlight: count,
      weight: weights[index] ?? 1,
      maxConcurrent: undefined,
      throughput: undefined,
      capacity: undefined,
      rpm: undefined,
      tpm: undefined,
      descriptor: provider.descriptor,
      stats: { attempts: 0, served: 0, failures: 0, ewmaTtfbMs: undefined, ewmaLatencyMs: undefined, errorRate: 0, outputTokensPerSecond: undefined, promptTokens: 0, completionTokens: 0, lastAttemptAt: 0 },
    };
  });
}

/**
 * A registry of fake providers picked from with one strategy, the way the dispatcher picks
 * (candidates in joining order, minus excluded and unavailable ones): lets strategy tests drive
 * real registry entries and leases.
 */
export class PickingFleet {
  readonly registry: ProviderRegistry;
  readonly strategy: BalancingStrategy;

  constructor(strategy: BalancingStrategy, providers: ReadonlyArray<{ id: string; weight?: number }>, clock: FakeClock = fakeClock()) {
    this.strategy = strategy;
    this.registry = testRegistry(clock);
    for (const { id, weight } of providers) this.registry.add(new FakeProvider(id), weight !== undefined ? { weight } : {});
  }

  get strategyName(): string {
    return this.strategy.name;
  }

  pick(options: { exclude?: ReadonlySet<string>; isAvailable?: (id: string) => boolean } = {}): string | undefined {
    const candidates = this.registry.list().filter((entry) => !options.exclude?.has(entry.id) && (options.isAvailable?.(entry.id) ?? true));
    if (candidates.length === 0) return undefined;
    return pickedId(this.strategy, candidates);
  }

  acquire(id: string): { providerId: string; released: boolean; release: (outcome: { ok: boolean }) => boolean } {
    const entry = this.registry.get(id);
    if (!entry) throw new Error(`no provider ${id}`);
    const lease = this.registry.acquire(entry);
    return {
      providerId: id,
      get released() {
        return lease.released;
      },
      release: (outcome) => lease.release({ ok: outcome.ok, stream: false, ...(outcome.ok ? {} : { errorCode: 'upstream_error' }) }),
    };
  }

  inFlight(id: string): number {
    return this.registry.get(id)?.inFlight ?? 0;
  }

  allStats(): Array<{ id: string; inFlight: number }> {
    return this.registry.list().map((entry) => ({ id: entry.id, inFlight: entry.inFlight }));
  }
}

/** What a test snapshot may set; everything else is a fresh provider's. */
export interface SnapshotSpec {
  inFlight?: number;
  weight?: number;
  maxConcurrent?: number;
  throughput?: number;
  capacity?: number;
  rpm?: number;
  tpm?: number;
  ewmaTtfbMs?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A snapshot a test may change between picks (in flight, figures). */
export type TestSnapshot = Mutable<Omit<ProviderSnapshot, 'stats'>> & { stats: Mutable<ProviderSnapshot['stats']> };

/** Snapshots `p0`, `p1`… built from specs (ids and joining order by position). */
export function snapshotsOf(specs: readonly SnapshotSpec[]): TestSnapshot[] {
  return specs.map((spec, index) => {
    const base = snapshots([spec.inFlight ?? 0], [spec.weight ?? 1])[0] as ProviderSnapshot;
    return {
      ...base,
      id: `p${index}`,
      index,
      maxConcurrent: spec.maxConcurrent,
      throughput: spec.throughput,
      capacity: spec.capacity,
      rpm: spec.rpm,
      tpm: spec.tpm,
      stats: { ...base.stats, ewmaTtfbMs: spec.ewmaTtfbMs },
    };
  });
}

/** A pick context reading `clock` and drawing `draws` in order (throws when they run out). */
export function scriptedContext(clock: FakeClock, draws: readonly number[] = [], promptTokens = 10): PickContext & { readonly drawn: number } {
  let next = 0;
  return {
    now: clock.now,
    random: () => {
      const draw = draws[next];
      if (draw === undefined) throw new Error(`random() drawn ${next + 1} times; the test scripted ${draws.length}`);
      next += 1;
      return draw;
    },
    request: { model: 'm', promptTokens, maxTokens: undefined },
    get drawn() {
      return next;
    },
  };
}

/** A pick result's provider id and reason. */
export function decided(result: ProviderSnapshot | { provider: ProviderSnapshot; reason: string }): [string, string | undefined] {
  return 'provider' in result ? [result.provider.id, result.reason] : [result.id, undefined];
}

/** A small deterministic generator in [0, 1) (mulberry32), for distributions without flakiness. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock with timers a test fires by moving time (for the admission queue). */
export interface FakeTimers {
  now: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** Moves time by `ms`, firing every timer due by then, in order. */
  advance: (ms: number) => void;
  /** Timers not fired or cleared yet. */
  pending: () => number;
}

export function fakeTimers(start = 1_000_000): FakeTimers {
  let time = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => time,
    setTimeout: (callback, ms) => {
      const id = ++nextId;
      timers.set(id, { at: time + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance: (ms) => {
      const until = time + ms;
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const timer of timers) if (timer[1].at <= until && (!due || timer[1].at < due[1].at)) due = timer;
        if (!due) break;
        timers.delete(due[0]);
        time = due[1].at;
        due[1].callback();
      }
      time = until;
    },
    pending: () => timers.size,
  };
}
