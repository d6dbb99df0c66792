/**
 * OpenTelemetry traces, end to end: a gateway exporting over OTLP/HTTP (JSON) to an in-test
 * receiver, two plain upstreams (one always failing, so requests fail over), real HTTP throughout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

const SERVER = 2;
const CLIENT = 3;
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';

let receiver: OtlpReceiver;
let failing: RecordingUpstream;
let healthy: RecordingUpstream;
let gateway: GatewayHandle;
const logs = new LogCapture();

before(async () => {
  receiver = await startOtlpReceiver();
  failing = await startRecordingUpstream('failing', 500);
  healthy = await startRecordingUpstream('healthy');
  gateway = await runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: [
        { name: 'failing', baseUrl: failing.baseUrl, models: [{ id: 'm' }] },
        { name: 'healthy', baseUrl: healthy.baseUrl, models: [{ id: 'm' }] },
      ],
      strategy: 'round-robin',
      healthCheckInterval: 60_000,
      port: 0,
      host: '127.0.0.1',
      tracing: { endpoint: receiver.endpoint, serviceName: 'zg-trace-test', batchDelayMs: 20 },
    },
    { logger: logs.logger },
  );
});

after(async () => {
  await gateway?.close();
  await failing?.close();
  await healthy?.close();
  await receiver?.close();
});

async function chat(headers: Record<string, string> = {}): Promise<{ status: number; requestId: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return { status: response.status, requestId: response.headers.get('x-request-id') ?? '' };
}

/** The request's SERVER span (by its `zg.request_id`) once exported, and every span of its trace. */
async function traceOf(requestId: string): Promise<{ root: ReceivedSpan; spans: ReceivedSpan[] }> {
  const rootOf = (): ReceivedSpan | undefined => receiver.spans.find((span) => span.kind === SERVER && span.attributes['zg.request_id'] === requestId);
  assert.ok(await waitFor(() => rootOf() !== undefined, 5000), `no server span for ${requestId}; got ${receiver.spans.length} spans`);
  const root = rootOf() as ReceivedSpan;
  // The children end before the root, so they were exported with it or earlier.
  return { root, spans: receiver.spans.filter((span) => span.traceId === root.traceId) };
}

/** The traceparent header's parts. */
function parts(traceparent: string | undefined): { traceId: string; spanId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');
  assert.ok(match, `not a traceparent: ${traceparent}`);
  return { traceId: match[1] as string, spanId: match[2] as string };
}

test('each request is one trace: server span, attempt spans with GenAI attributes (two on failover), billing; providers get the attempt span as traceparent', async () => {
  const requests: string[] = [];
  for (let index = 0; index < 3; index++) {
    const { status, requestId } = await chat();
    assert.equal(status, 200);
    requests.push(requestId);
  }
  let failovers = 0;
  const traceIds = new Set<string>();
  for (const requestId of requests) {
    const { root, spans } = await traceOf(requestId);
    traceIds.add(root.traceId);
    assert.equal(root.parentSpanId, '', 'a request without traceparent starts a trace');
    assert.equal(root.name, 'POST /v1/chat/completions');
    assert.equal(root.resource['service.name'], 'zg-trace-test');
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.attributes['gen_ai.request.model'], 'm');
    assert.equal(root.attributes['gen_ai.response.model'], 'healthy-served');
    assert.equal(spans.filter((span) => span.kind === SERVER).length, 1, 'one server span per trace');
    const attempts = spans.filter((span) => span.kind === CLIENT).sort((a, b) => Number(a.attributes['zg.attempt']) - Number(b.attributes['zg.attempt']));
    assert.ok(attempts.length >= 1 && attempts.length <= 2, `attempts: ${attempts.length}`);
    for (const attempt of attempts) {
      assert.equal(attempt.parentSpanId, root.spanId);
      assert.equal(attempt.name, 'chat m');
      assert.equal(attempt.attributes['gen_ai.operation.name'], 'chat');
      assert.equal(attempt.attributes['gen_ai.system'], 'openai');
      assert.equal(attempt.attributes['gen_ai.request.model'], 'm');
    }
    const last = attempts.at(-1) as ReceivedSpan;
    assert.equal(last.attributes['zg.provider'], 'healthy');
    assert.equal(last.attributes['zg.outcome'], 'ok');
    assert.equal(last.attributes['gen_ai.usage.input_tokens'], 7);
    assert.equal(last.attributes['gen_ai.usage.output_tokens'], 3);
    assert.equal(last.attributes['gen_ai.response.model'], 'healthy-served');
    assert.equal(typeof last.attributes['zg.ttft_ms'], 'number');
    assert.ok(last.events.includes('gen_ai.first_token'));
    // The healthy provider received this attempt's span as its parent.
    const sent = healthy.traceparents.map(parts).find((header) => header.spanId === last.spanId);
    assert.ok(sent, 'the healthy upstream got the attempt span in traceparent');
    assert.equal(sent.traceId, root.traceId);
    if (attempts.length === 2) {
      failovers += 1;
      const first = attempts[0] as ReceivedSpan;
      assert.equal(first.attributes['zg.provider'], 'failing');
      assert.equal(first.attributes['error.type'], 'upstream_error');
      assert.equal(first.statusCode, 2);
      assert.ok(failing.traceparents.map(parts).some((header) => header.spanId === first.spanId && header.traceId === root.traceId));
      assert.equal(root.attributes['zg.attempts'], 2);
    }
    const billing = spans.find((span) => span.name === 'billing');
    assert.ok(billing, 'a billing span');
    assert.equal(billing.parentSpanId, root.spanId);
    assert.equal(billing.attributes['gen_ai.usage.input_tokens'], 7);
    // The log line carries the same trace id.
    const line = logs.records().find((record) => record.event === 'request' && record.requestId === requestId);
    assert.equal(line?.traceId, root.traceId);
  }
  assert.equal(traceIds.size, requests.length, 'one trace per request');
  assert.ok(failovers >= 1, 'round-robin over a failing and a healthy upstream fails over at least once in three requests');
  assert.equal(receiver.refused, 0);
});

test("a client's traceparent continues its trace, down to the provider", async () => {
  const sentBefore = healthy.traceparents.length;
  const { status, requestId } = await chat({ traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`, 'x-request-id': 'traced-by-client' });
  assert.equal(status, 200);
  assert.equal(requestId, 'traced-by-client');
  const { root, spans } = await traceOf(requestId);
  assert.equal(root.traceId, CLIENT_TRACE_ID);
  assert.equal(root.parentSpanId, CLIENT_SPAN_ID);
  const attempt = spans.find((span) => span.kind === CLIENT && span.attributes['zg.provider'] === 'healthy');
  assert.ok(attempt);
  const received = healthy.traceparents.slice(sentBefore).map(parts);
  assert.ok(received.some((header) => header.traceId === CLIENT_TRACE_ID && header.spanId === attempt.spanId), JSON.stringify(received));
});

test('scrapes are not traced; a malformed traceparent starts a fresh trace', async () => {
  const spansBefore = receiver.spans.length;
  const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${gateway.adminToken}` } });
  assert.equal(metrics.status, 200);
  await metrics.text();
  const { requestId } = await chat({ traceparent: '00-not-a-trace-01' });
  const { root } = await traceOf(requestId);
  assert.equal(root.parentSpanId, '');
  assert.notEqual(root.traceId, CLIENT_TRACE_ID);
  assert.ok(!receiver.spans.slice(spansBefore).some((span) => span.name.includes('/metrics')));
});

test('admission waits and /v1/verify checks are child spans of their request; another gateway\'s events are ignored', async () => {
  // The admission wait, through the channel contract the core publishes on (a real queue wait needs a full provider).
  const gatewayId = gateway.gateway.id;
  const start = { gatewayId, requestId: 'queued-1', method: 'POST', route: '/v1/chat/completions', traceparent: undefined, tracestate: undefined } as { traceId?: string; span?: unknown } & Record<string, unknown>;
  channel('zg-gateway:request:start').publish(start);
  assert.match(start.traceId ?? '', /^[0-9a-f]{32}$/);
  const foreign = { ...start, gatewayId: 'another-gateway', requestId: 'foreign-1', traceId: undefined, span: undefined };
  channel('zg-gateway:request:start').publish(foreign);
  assert.equal(foreign.traceId, undefined, "another gateway's request is not traced here");
  channel('zg-gateway:admission:wait').publish({ gatewayId, requestId: 'queued-1', waitedMs: 25, priority: 7 });
  channel('zg-gateway:request:done').publish({ gatewayId, requestId: 'queued-1', route: '/v1/chat/completions', method: 'POST', status: 503, outcome: 'error', model: 'm', providerId: undefined, attempts: 0, errorCode: 'queue_timeout', durationMs: 30, overheadMs: undefined, ttfbMs: undefined, costNeuron: undefined, routeReason: undefined, traceId: start.traceId, span: start.span });
  const queued = await traceOf('queued-1');
  const wait = queued.spans.find((span) => span.name === 'admission wait');
  assert.ok(wait);
  assert.equal(wait.parentSpanId, queued.root.spanId);
  assert.equal(wait.attributes['zg.priority'], 7);
  assert.ok(wait.endNanos - wait.startNanos >= 20_000_000n, `the wait span lasts the wait: ${wait.endNanos - wait.startNanos} ns`);
  assert.equal(queued.root.statusCode, 2);
  assert.equal(queued.root.attributes['error.type'], 'queue_timeout');

  const { requestId: servedId } = await chat();
  const served = await traceOf(servedId);
  const responseId = `chatcmpl-healthy-${healthy.traceparents.length}`;
  const verify = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: responseId }) });
  assert.equal(verify.status, 200, await verify.clone().text());
  const checked = await traceOf(verify.headers.get('x-request-id') ?? '');
  assert.notEqual(checked.root.traceId, served.root.traceId);
  const span = checked.spans.find((candidate) => candidate.name === 'verify');
  assert.ok(span, 'a verify span');
  assert.equal(span.parentSpanId, checked.root.spanId);
  assert.equal(span.attributes['zg.verify.result'], 'unverifiable');
  assert.equal(span.attributes['zg.provider'], 'healthy');
});

test('tracing off: no OpenTelemetry module is loaded, nothing is exported, providers get no traceparent', () => {
  // The positive control: with tracing on (this process), the SDK is loaded and found by the same test.
  assert.ok(Object.keys(require.cache).some((path) => path.includes('@opentelemetry/sdk-trace-base')));
  const postsBefore = receiver.posts;
  const environment = { ...process.env };
  for (const name of Object.keys(environment)) if (name.startsWith('OTEL_')) delete environment[name];
  const probe = spawnSync(process.execPath, [join(__dirname, '..', 'helpers', 'tracing-off-probe.js')], { encoding: 'utf8', env: environment, timeout: 30_000 });
  assert.equal(probe.status, 0, probe.stderr);
  const result = JSON.parse(probe.stdout.trim().split('\n').at(-1) as string) as { status: number; loaded: string[]; traceparents: Array<string | null>; tracing: unknown };
  assert.equal(result.status, 200);
  assert.equal(result.tracing, null);
  assert.deepEqual(result.loaded, []);
  // The upstream was asked (the positive control) and got no traceparent: the client's is not passed on either.
  assert.equal(result.traceparents.length, 1);
  assert.equal(result.traceparents[0], null);
  assert.equal(receiver.posts, postsBefore);
});
