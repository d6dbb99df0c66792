/**
 * OpenTelemetry traces of one gateway. Loaded only when tracing is on (`http-server` imports this
 * file dynamically): with tracing off, no `@opentelemetry/*` package is ever loaded and the core's
 * channels have no subscriber. The core only publishes (`observability/channels`); this file
 * subscribes, as the metrics do.
 *
 * A request is one trace: a SERVER span from `request:start` to `request:done`, with children for
 * the admission wait, each attempt (a CLIENT span whose W3C `traceparent` the provider receives),
 * the fee being recorded (`billing`) and `/v1/verify` checks. Attributes follow the OpenTelemetry
 * GenAI semantic conventions (`gen_ai.*`); the gateway's own are `zg.*`.
 */
import { GatewaySubscriptions } from '../observability/gateway-subscriptions.js';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TracingConfig } from '../config/index.js';
import {
  admissionWaitChannel,
  answerServedChannel,
  attemptFinishChannel,
  attemptStartChannel,
  requestDoneChannel,
  requestStartChannel,
  verifyDoneChannel,
  type AdmissionWaitEvent,
  type AnswerServedEvent,
  type AttemptFinishEvent,
  type AttemptStartEvent,
  type RequestDoneEvent,
  type RequestStartEvent,
  type VerifyDoneEvent,
} from '../observability/index.js';

/** Options for {@link GatewayTracer}. */
export interface GatewayTracerOptions {
  /** The gateway traced: only events carrying its id count. */
  gatewayId: string;
  logger: Logger;
  config: TracingConfig;
  /** The kind of a provider (`zg`, `openai-compatible`), for `gen_ai.provider.name`. */
  providerKind: (providerId: string) => string | undefined;
  /** `service.version`. */
  version?: string;
}

/** Requests traced at once at most; past it, new requests are not traced (counted in {@link GatewayTracer.untraced}). */
export const MAX_OPEN_TRACES = 10_000;
/** Paths never traced: scrapes and probes would drown the requests. */
const QUIET_PATHS = new Set(['/metrics', '/health']);
/** One export-failure log line per this many ms at most. */
const EXPORT_LOG_INTERVAL_MS = 60_000;

/** `gen_ai.operation.name` of a completion route. */
function operationOf(route: string): string {
  if (route === 'chat') return 'chat';
  if (route === 'completions') return 'text_completion';
  if (route === 'embeddings') return 'embeddings';
  return route === '' ? 'chat' : route;
}

/** `gen_ai.provider.name` (and the older `gen_ai.system`) of a provider kind. */
function systemOf(kind: string | undefined): string {
  if (kind === 'zg') return '0g';
  if (kind === 'openai-compatible') return 'openai';
  return kind ?? 'unknown';
}

/** A request being traced: its span and the context its children start in. */
class RequestTrace {
  constructor(
    readonly requestId: string,
    readonly span: Span,
    readonly context: Context,
  ) {}
}

/** Epoch ms, `ms` ago. */
const ago = (ms: number): number => Date.now() - Math.max(0, ms);

/**
 * Turns one gateway's `diagnostics_channel` events into OpenTelemetry spans exported over
 * OTLP/HTTP (JSON) through a batch processor (bounded queue: spans past it are dropped by the SDK).
 * `close()` unsubscribes and flushes what is left.
 */
export class GatewayTracer {
  readonly #options: GatewayTracerOptions;
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #open = new Map<string, RequestTrace>();
  readonly #subscriptions: GatewaySubscriptions;
  #untraced = 0;
  #exportFailures = 0;
  #lastExportLog = 0;
  #closed: Promise<void> | undefined;

  constructor(options: GatewayTracerOptions) {
    this.#subscriptions = new GatewaySubscriptions(options.gatewayId, (error) => options.logger.error({ event: 'internal_error', err: error }, 'recording a span failed'));
    this.#options = options;
    const { config } = options;
    const otlp = new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces`, headers: { ...config.headers } });
    const exporter: SpanExporter = {
      export: (spans, done) =>
        otlp.export(spans, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) this.#exportFailed(result.error);
          done(result);
        }),
      shutdown: () => otlp.shutdown(),
      forceFlush: () => otlp.forceFlush(),
    };
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': config.serviceName,
        'service.instance.id': options.gatewayId,
        ...(options.version !== undefined ? { 'service.version': options.version } : {}),
      }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.batchDelayMs, maxQueueSize: 4096, maxExportBatchSize: 512 })],
    });
    this.#tracer = this.#provider.getTracer('zg-gateway', options.version);
    this.#subscriptions.on<RequestStartEvent>(requestStartChannel, (event) => this.#requestStart(event));
    this.#subscriptions.on<RequestDoneEvent>(requestDoneChannel, (event) => this.#requestDone(event));
    this.#subscriptions.on<AttemptStartEvent>(attemptStartChannel, (event) => this.#attemptStart(event));
    this.#subscriptions.on<AttemptFinishEvent>(attemptFinishChannel, (event) => this.#attemptFinish(event));
    this.#subscriptions.on<AdmissionWaitEvent>(admissionWaitChannel, (event) => this.#admissionWait(event));
    this.#subscriptions.on<AnswerServedEvent>(answerServedChannel, (event) => this.#answerServed(event));
    this.#subscriptions.on<VerifyDoneEvent>(verifyDoneChannel, (event) => this.#verifyDone(event));
  }

  /** Requests not traced because {@link MAX_OPEN_TRACES} were open. */
  get untraced(): number {
    return this.#untraced;
  }

  /** Batches the collector refused or could not be reached for. */
  get exportFailures(): number {
    return this.#exportFailures;
  }

  /** Sends the finished spans now. */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  /** Stops listening and sends what is left (bounded by the exporter's timeout). Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#subscriptions.close();
    for (const open of this.#open.values()) open.span.end();
    this.#open.clear();
    this.#closed = this.#provider.shutdown().catch((error: unknown) => this.#exportFailed(error));
    return this.#closed;
  }


  #exportFailed(error: unknown): void {
    this.#exportFailures += 1;
    const now = Date.now();
    if (now - this.#lastExportLog < EXPORT_LOG_INTERVAL_MS) return;
    this.#lastExportLog = now;
    const message = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn({ event: 'trace_export_failed', failures: this.#exportFailures, message }, 'could not export traces');
  }

  #requestStart(event: RequestStartEvent): void {
    if (QUIET_PATHS.has(event.route)) return;
    if (this.#open.size >= MAX_OPEN_TRACES) {
      this.#untraced += 1;
      return;
    }
    const carrier: Record<string, string> = {};
    if (event.traceparent !== undefined) carrier.traceparent = event.traceparent;
    if (event.tracestate !== undefined) carrier.tracestate = event.tracestate;
    // A malformed traceparent is ignored by the propagator: the request starts a trace of its own.
    const parent = event.traceparent === undefined ? ROOT_CONTEXT : this.#propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    const span = this.#tracer.startSpan(
      `${event.method} ${event.route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': event.method, 'url.path': event.route, 'zg.request_id': event.requestId } },
      parent,
    );
    const traced = new RequestTrace(event.requestId, span, trace.setSpan(parent, span));
    // Keyed by request id (a client's X-Request-Id when sane): two requests at once with one id share children.
    this.#open.set(event.requestId, traced);
    event.traceId = span.spanContext().traceId;
    event.span = traced;
  }

  #requestDone(event: RequestDoneEvent): void {
    const traced = event.span;
    if (!(traced instanceof RequestTrace)) return;
    if (this.#open.get(traced.requestId) === traced) this.#open.delete(traced.requestId);
    const attributes: Attributes = { 'http.response.status_code': event.status, 'zg.outcome': event.outcome, 'zg.attempts': event.attempts };
    if (event.model !== undefined) attributes['gen_ai.request.model'] = event.model;
    if (event.providerId !== undefined) attributes['zg.provider'] = event.providerId;
    if (event.errorCode !== undefined) attributes['error.type'] = event.errorCode;
    if (event.costNeuron !== undefined) attributes['zg.cost_neuron'] = event.costNeuron.toString();
    if (event.ttfbMs !== undefined) attributes['zg.ttft_ms'] = event.ttfbMs;
    if (event.routeReason !== undefined) attributes['zg.route_reason'] = event.routeReason;
    traced.span.setAttributes(attributes);
    if (event.status >= 500 || event.outcome === 'stream_error') traced.span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorCode ?? event.outcome });
    traced.span.end();
  }

  #attemptStart(event: AttemptStartEvent): void {
    const traced = this.#open.get(event.requestId);
    if (!traced) return;
    const operation = operationOf(event.route);
    const model = event.upstreamModel === '' ? event.model : event.upstreamModel;
    const system = systemOf(this.#options.providerKind(event.providerId));
    const span = this.#tracer.startSpan(
      `${operation} ${model}`.trim(),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': operation,
          'gen_ai.system': system,
          'gen_ai.provider.name': system,
          'gen_ai.request.model': model,
          'zg.model_group': event.model,
          'zg.provider': event.providerId,
          'zg.attempt': event.attempt,
        },
      },
      traced.context,
    );
    this.#propagator.inject(trace.setSpan(traced.context, span), event.headers, defaultTextMapSetter);
    event.span = span;
  }

  #attemptFinish(event: AttemptFinishEvent): void {
    const span = event.span as Span | undefined;
    if (span === undefined || typeof span.end !== 'function') return;
    const { outcome } = event;
    const attributes: Attributes = { 'zg.outcome': outcome.ok ? 'ok' : (outcome.errorCode ?? 'error'), 'zg.stream': outcome.stream };
    if (outcome.responseModel !== undefined) attributes['gen_ai.response.model'] = outcome.responseModel;
    if (outcome.usage) {
      attributes['gen_ai.usage.input_tokens'] = outcome.usage.prompt_tokens;
      attributes['gen_ai.usage.output_tokens'] = outcome.usage.completion_tokens;
    }
    if (outcome.ttfbMs !== undefined) {
      attributes['zg.ttft_ms'] = outcome.ttfbMs;
      span.addEvent('gen_ai.first_token', undefined, ago(outcome.durationMs - outcome.ttfbMs));
    }
    if (!outcome.ok) {
      attributes['error.type'] = outcome.errorCode ?? 'error';
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorMessage ?? outcome.errorCode });
    }
    span.setAttributes(attributes);
    span.end();
  }

  #admissionWait(event: AdmissionWaitEvent): void {
    const traced = this.#open.get(event.requestId);
    if (!traced) return;
    const attributes = { 'zg.priority': event.priority, 'zg.waited_ms': event.waitedMs };
    this.#tracer.startSpan('admission wait', { kind: SpanKind.INTERNAL, startTime: ago(event.waitedMs), attributes }, traced.context).end();
  }

  #answerServed(event: AnswerServedEvent): void {
    const traced = event.requestId === undefined ? undefined : this.#open.get(event.requestId);
    if (!traced) return;
    const usage: Attributes = {};
    if (event.responseModel !== undefined) usage['gen_ai.response.model'] = event.responseModel;
    if (event.promptTokens !== undefined) usage['gen_ai.usage.input_tokens'] = event.promptTokens;
    if (event.completionTokens !== undefined) usage['gen_ai.usage.output_tokens'] = event.completionTokens;
    traced.span.setAttributes(usage);
    const attributes: Attributes = { ...usage, 'zg.provider': event.providerId, 'zg.model_group': event.model };
    if (event.costNeuron !== undefined) attributes['zg.cost_neuron'] = event.costNeuron.toString();
    this.#tracer.startSpan('billing', { kind: SpanKind.INTERNAL, startTime: ago(event.durationMs), attributes }, traced.context).end();
  }

  #verifyDone(event: VerifyDoneEvent): void {
    const traced = event.requestId === undefined ? undefined : this.#open.get(event.requestId);
    if (!traced) return;
    const attributes: Attributes = { 'zg.verify.result': event.result };
    if (event.providerId !== undefined) attributes['zg.provider'] = event.providerId;
    const span = this.#tracer.startSpan('verify', { kind: SpanKind.INTERNAL, startTime: ago(event.durationMs ?? 0), attributes }, traced.context);
    if (event.result !== 'valid' && event.result !== 'unverifiable') span.setStatus({ code: SpanStatusCode.ERROR, message: event.result });
    span.end();
  }
}
