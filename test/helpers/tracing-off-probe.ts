/**
 * Run as a child process by tracing.test.ts: starts a gateway without tracing (and no OTEL_*
 * variable) in front of a recording upstream, sends one chat carrying a client `traceparent`, and
 * prints what was loaded and sent as one JSON line. A fresh process, so modules loaded by other
 * tests cannot hide a load.
 */
import { runMultiProviderInferenceServer } from 'zg-gateway';
import { startRecordingUpstream } from './recording-upstream.js';

async function main(): Promise<void> {
  const upstream = await startRecordingUpstream('plain');
  const gateway = await runMultiProviderInferenceServer({
    openAICompatibleProviders: [{ name: 'plain', baseUrl: upstream.baseUrl }],
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    body: JSON.stringify({ model: 'any', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  await gateway.close();
  await upstream.close();
  // @opentelemetry/api is not counted: prom-client loads it (for exemplars) whatever the gateway does.
  const loaded = Object.keys(require.cache).filter((path) => (path.includes('@opentelemetry') && !path.includes('@opentelemetry/api/')) || path.includes('gateway-tracer'));
  process.stdout.write(`${JSON.stringify({ status: response.status, loaded, traceparents: upstream.traceparents, tracing: gateway.config.tracing ?? null })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
