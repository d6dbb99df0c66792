/**
 * An OTLP/HTTP trace receiver for tests: a plain node:http server that takes `POST /v1/traces` in
 * the JSON protocol (what `@opentelemetry/exporter-trace-otlp-http` sends) and keeps the spans,
 * flattened. Anything else (protobuf, another path) is counted as refused and answered 415/404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

/** One received span. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  startNanos: bigint;
  endNanos: bigint;
  events: string[];
  /** The resource's attributes (service.name, ...). */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** The OTLP base URL (`http://127.0.0.1:<port>`), as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (accepted or not). */
  posts: number;
  refused: number;
  close(): Promise<void>;
}

function valueOf(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return '';
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) out[key] = valueOf(value);
  return out;
}

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: KeyValue[];
        status?: { code?: number };
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        events?: Array<{ name: string }>;
      }>;
    }>;
  }>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const state = { endpoint: '', spans: [] as ReceivedSpan[], posts: 0, refused: 0, close: () => loopback.close() };
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    state.posts += 1;
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    if (request.url !== '/v1/traces') {
      state.refused += 1;
      response.writeHead(404).end();
      return;
    }
    if (!(request.headers['content-type'] ?? '').includes('application/json')) {
      state.refused += 1;
      response.writeHead(415).end();
      return;
    }
    const body = JSON.parse(text) as ExportRequest;
    for (const resourceSpans of body.resourceSpans ?? []) {
      const resource = attributesOf(resourceSpans.resource?.attributes);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          state.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            statusCode: span.status?.code ?? 0,
            startNanos: BigInt(span.startTimeUnixNano),
            endNanos: BigInt(span.endTimeUnixNano),
            events: (span.events ?? []).map((event) => event.name),
            resource,
          });
        }
      }
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const loopback = loopbackListener(server);
  state.endpoint = (await loopback.listen()).replace(/\/v1$/, '');
  return state;
}
