/**
 * Tracing's CPU cost per request, isolated from HTTP: the events one chat request publishes
 * (request start, attempt start and finish, answer served, request done) are published `N` times
 * with no subscriber (tracing off) and with a GatewayTracer subscribed (every request sampled,
 * spans batched and exported as OTLP/HTTP JSON to a sink in this process that drops them), and the
 * process's CPU time (user + system, including the export) is divided by `N`.
 *
 *   npm run build && node build/bench/tracing-events-bench.js [requests, default 20000] [sampleRatio, default 1]
 */
import { channel } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';

type TracerModule = typeof import('../lib.commonjs/telemetry/gateway-tracer.js');

const requestStart = channel('zg-gateway:request:start');
const attemptStart = channel('zg-gateway:attempt:start');
const attemptFinish = channel('zg-gateway:attempt:finish');
const answerServed = channel('zg-gateway:answer:served');
const requestDone = channel('zg-gateway:request:done');
const GATEWAY = 'bench-gateway';

/** One request's events, published as the core does (only when someone listens). */
function oneRequest(index: number): void {
  const requestId = `req-${index}`;
  const start: Record<string, unknown> = { gatewayId: GATEWAY, requestId, method: 'POST', route: '/v1/chat/completions', traceparent: undefined, tracestate: undefined };
  if (requestStart.hasSubscribers) requestStart.publish(start);
  const attempt: Record<string, unknown> = { gatewayId: GATEWAY, requestId, providerId: 'p1', model: 'm', upstreamModel: 'm', route: 'chat', attempt: 1, headers: {} };
  if (attemptStart.hasSubscribers) attemptStart.publish(attempt);
  const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
  if (attemptFinish.hasSubscribers) {
    attemptFinish.publish({ gatewayId: GATEWAY, requestId, model: 'm', span: attempt.span, outcome: { providerId: 'p1', ok: true, ttfbMs: 3, durationMs: 5, usage, stream: false, responseModel: 'm' } });
  }
  if (answerServed.hasSubscribers) {
    answerServed.publish({ gatewayId: GATEWAY, requestId, providerId: 'p1', model: 'm', upstreamModel: 'm', responseModel: 'm', promptTokens: 7, completionTokens: 3, costNeuron: 100n, durationMs: 0.01 });
  }
  if (requestDone.hasSubscribers) {
    requestDone.publish({ gatewayId: GATEWAY, requestId, route: '/v1/chat/completions', method: 'POST', status: 200, outcome: 'ok', model: 'm', providerId: 'p1', attempts: 1, errorCode: undefined, durationMs: 6, overheadMs: 1, ttfbMs: 3, costNeuron: 100n, routeReason: undefined, traceId: start.traceId, span: start.span });
  }
}

function cpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 20_000);
  const sampleRatio = Number(process.argv[3] ?? 1);
  let received = 0;
  const sink = createServer((request, response) => {
    request.on('data', (piece: Buffer) => (received += piece.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  // Warm up the plain path, then measure it.
  for (let index = 0; index < 2000; index++) oneRequest(index);
  let before = cpuUs();
  for (let index = 0; index < requests; index++) oneRequest(index);
  const off = (cpuUs() - before) / requests;

  const { GatewayTracer } = require(join(__dirname, '..', '..', 'lib.commonjs', 'telemetry', 'gateway-tracer.js')) as TracerModule;
  const tracer = new GatewayTracer({
    gatewayId: GATEWAY,
    logger: pino({ level: 'silent' }),
    config: { endpoint, serviceName: 'bench', sampleRatio, headers: {}, batchDelayMs: 200 },
    providerKind: () => 'openai-compatible',
  });
  for (let index = 0; index < 2000; index++) oneRequest(index);
  await tracer.flush();
  before = cpuUs();
  // In slices, so the batch processor exports as it would under load (its queue holds 4096 spans).
  for (let done = 0; done < requests; ) {
    const slice = Math.min(500, requests - done);
    for (let index = 0; index < slice; index++) oneRequest(done + index);
    done += slice;
    await new Promise((resolve) => setImmediate(resolve));
    if (done % 2000 === 0) await tracer.flush();
  }
  await tracer.flush();
  const on = (cpuUs() - before) / requests;
  await tracer.close();
  sink.close();
  process.stdout.write(
    `${requests} requests' events (request, attempt, billing spans; sampleRatio ${sampleRatio}; OTLP/HTTP JSON export included):\n` +
      `  tracing off: ${off.toFixed(2)} µs CPU per request\n` +
      `  tracing on:  ${on.toFixed(1)} µs CPU per request (${(received / requests).toFixed(0)} bytes exported per request)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
