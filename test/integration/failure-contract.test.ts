import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet, type ProviderFault } from 'zg-devnet';
import { LogCapture, devnetGatewayOptions, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

interface ChatOutcome {
  status: number;
  provider: string | null;
  text: string;
  elapsedMs: number;
}

async function post(gateway: GatewayHandle, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ChatOutcome> {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, provider: response.headers.get('x-provider-address'), text, elapsedMs: performance.now() - started };
}

const ask = (content: string, stream = false): Record<string, unknown> => ({ messages: [{ role: 'user', content }], stream });

/** The `data:` payloads of an SSE body. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

describe('failure contract', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  const logs = new LogCapture();
  const options = (overrides: Partial<GatewayOptions> = {}): GatewayOptions =>
    devnetGatewayOptions(devnet, {
      strategy: 'round-robin',
      healthCheckInterval: 60_000,
      timeouts: { firstByte: 400, chunkGap: 300, total: 5000, connect: 1000 },
      ...overrides,
    });
  const setAll = async (fault: ProviderFault): Promise<void> => {
    for (const provider of devnet.providers) await provider.setFault(fault);
  };

  before(async () => {
    devnet = await startLocalDevnet({ providers: 3 });
  });
  after(async () => {
    await devnet?.stop();
  });

  describe('on one gateway', () => {
    before(async () => {
      gateway = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
    });
    after(async () => {
      await gateway?.close();
    });
    afterEach(async () => {
      await setAll({ mode: 'none' });
      assert.ok(await waitFor(() => gateway.inFlight() === 0, 3000), `in flight after the test: ${gateway.inFlight()}`);
    });

    test('a stream cut after its first byte ends with an in-band error, no [DONE], and an id that is not verifiable', async () => {
      await setAll({ mode: 'cut-after-chunks', chunks: 2 });
      const outcome = await post(gateway, ask('cut me off', true));
      assert.equal(outcome.status, 200);
      const events = sseData(outcome.text);
      assert.ok(!events.includes('[DONE]'), 'no [DONE] after a cut');
      const last = JSON.parse(events[events.length - 1] as string) as { error?: { code: string } };
      assert.equal(last.error?.code, 'stream_interrupted');
      const first = JSON.parse(events[0] as string) as { id: string };
      const verify = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: first.id }) });
      assert.equal(verify.status, 404, 'a truncated answer is not recorded as verifiable');
      const cut = logs.records().find((record) => record.event === 'request' && record.outcome === 'stream_error');
      assert.ok(cut, 'the cut is logged');
      assert.equal(cut.errorCode, 'stream_interrupted');
    });

    test('a stream that stalls mid-way is ended by the chunk-gap timeout with an in-band upstream_timeout', async () => {
      await setAll({ mode: 'stall-after-chunks', chunks: 2 });
      const outcome = await post(gateway, ask('stall in the middle', true));
      assert.equal(outcome.status, 200);
      const events = sseData(outcome.text);
      assert.ok(!events.includes('[DONE]'));
      const last = JSON.parse(events[events.length - 1] as string) as { error?: { code: string } };
      assert.equal(last.error?.code, 'upstream_timeout');
      assert.ok(outcome.elapsedMs < 2000, `ended after ${outcome.elapsedMs.toFixed(0)} ms (gap bound 300 ms)`);
    });

    test('malformed SSE after the first byte ends the stream with an in-band error', async () => {
      await setAll({ mode: 'malformed' });
      const outcome = await post(gateway, ask('garble the stream', true));
      const events = sseData(outcome.text);
      assert.ok(!events.includes('[DONE]'));
      assert.equal((JSON.parse(events[events.length - 1] as string) as { error?: { code: string } }).error?.code, 'stream_interrupted');
    });

    test('failures before the first byte are retried on another provider (stall, 5xx, 401, malformed JSON, refused)', async () => {
      const faults: ProviderFault[] = [
        { mode: 'stall' },
        { mode: 'http-error', status: 503 },
        { mode: 'reject-auth' },
        { mode: 'malformed' },
        { mode: 'down' },
      ];
      const healthy = devnet.providers[2];
      assert.ok(healthy);
      for (const fault of faults) {
        await devnet.providers[0]?.setFault(fault);
        await devnet.providers[1]?.setFault(fault);
        // A malformed stream sends a good first event, so that case is a cut after the first byte (tested above).
        for (const stream of fault.mode === 'malformed' ? [false] : [false, true]) {
          const outcome = await post(gateway, ask(`survive ${fault.mode}`, stream));
          assert.equal(outcome.status, 200, `${fault.mode} (stream ${stream}): ${outcome.text.slice(0, 200)}`);
          assert.equal(outcome.provider, healthy.address, `${fault.mode} (stream ${stream}): served by the healthy provider`);
          if (stream) assert.ok(sseData(outcome.text).includes('[DONE]'));
          assert.ok(outcome.elapsedMs < 3 * 400 + 1000, `${fault.mode}: waited ${outcome.elapsedMs.toFixed(0)} ms`);
        }
        await setAll({ mode: 'none' });
        // Let breakers opened by this round's failures rest out before the next fault.
        await gateway.close().catch(() => undefined);
        gateway = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
      }
    });

    test('a stalled fleet answers 504 within the bounds, never hangs', async () => {
      await setAll({ mode: 'stall' });
      const outcome = await post(gateway, ask('anyone?'));
      assert.equal(outcome.status, 504);
      assert.equal((JSON.parse(outcome.text) as { error: { code: string } }).error.code, 'upstream_timeout');
      assert.ok(outcome.elapsedMs < 3 * 400 + 1000, `waited ${outcome.elapsedMs.toFixed(0)} ms`);
    });

    test('client errors from a provider are not retried', async () => {
      await setAll({ mode: 'http-error', status: 422 });
      const outcome = await post(gateway, ask('bad for the provider'));
      assert.equal(outcome.status, 400);
      const body = JSON.parse(outcome.text) as { error: { code: string } };
      assert.equal(body.error.code, 'upstream_client_error');
      const attempts = logs.records().filter((record) => record.event === 'request' && record.errorCode === 'upstream_client_error');
      assert.ok(attempts.length >= 1);
    });
  });

  test('429 with Retry-After rests that provider for the time it asked, without a client-visible error', async () => {
    const local = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
    try {
      const limited = devnet.providers[0];
      assert.ok(limited);
      const faultedBefore = limited.stats.faulted;
      await limited.setFault({ mode: 'http-error', status: 429, retryAfterSeconds: 30 });
      for (let index = 0; index < 6; index++) {
        const outcome = await post(local, ask(`429 round ${index}`));
        assert.equal(outcome.status, 200);
        assert.notEqual(outcome.provider, limited.address);
      }
      assert.equal(limited.stats.faulted - faultedBefore, 1, 'the rate-limited provider was asked once, then rested');
      const admin = (await (await fetch(`${local.url}/admin/providers`, asAdmin(local))).json()) as { providers: Array<{ address: string; breaker: { state: string; reason: string | null; retryAt: string | null } }> };
      const entry = admin.providers.find((provider) => provider.address === limited.address);
      assert.equal(entry?.breaker.state, 'open');
      assert.equal(entry?.breaker.reason, 'rate-limited');
      const restMs = Date.parse(entry?.breaker.retryAt ?? '') - Date.now();
      assert.ok(restMs > 25_000 && restMs <= 30_000, `rests ${restMs} ms`);
    } finally {
      await setAll({ mode: 'none' });
      await local.close();
    }
  });

  test('a wallet that cannot pay gets a 402 naming the cause; funded providers keep serving', async () => {
    const local = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
    try {
      const [broke, ...others] = devnet.providers;
      assert.ok(broke);
      await broke.setFault({ mode: 'http-error', status: 402 });
      for (let index = 0; index < 4; index++) {
        const outcome = await post(local, ask(`pay ${index}`));
        assert.equal(outcome.status, 200);
      }
      for (const provider of others) await provider.setFault({ mode: 'http-error', status: 402 });
      const local2 = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
      try {
        const outcome = await post(local2, ask('nobody is paid'));
        assert.equal(outcome.status, 402);
        const body = JSON.parse(outcome.text) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'insufficient_funds');
        assert.match(body.error.message, /insufficient funds/);
      } finally {
        await local2.close();
      }
    } finally {
      await setAll({ mode: 'none' });
      await local.close();
    }
  });

  test('graceful close: in-flight requests finish within the grace period, streams past it end with an in-band error', async () => {
    const local = await runMultiProviderInferenceServer(options({ shutdownGracePeriod: 600, timeouts: { firstByte: 5000, chunkGap: 5000, total: 30_000, connect: 1000 } }), { logger: logs.logger });
    let slow: GatewayHandle | undefined;
    try {
      await setAll({ mode: 'delay-first-byte', ms: 250 });
      const quick = post(local, ask('finish me'));
      await waitFor(() => local.inFlight() === 1, 2000);
      await local.close();
      const done = await quick;
      assert.equal(done.status, 200, 'a request in flight at close() completes');

      slow = await runMultiProviderInferenceServer(options({ shutdownGracePeriod: 300, timeouts: { firstByte: 5000, chunkGap: 5000, total: 30_000, connect: 1000 } }), { logger: logs.logger });
      await setAll({ mode: 'slow-drip', intervalMs: 200 });
      const stream = post(slow, ask('a long story with many many words to drip', true));
      const streaming = slow;
      await waitFor(() => streaming.inFlight() === 1, 2000);
      await new Promise((resolve) => setTimeout(resolve, 450));
      const closing = slow.close();
      const ended = await stream;
      await closing;
      const events = sseData(ended.text);
      assert.ok(!events.includes('[DONE]'));
      assert.equal((JSON.parse(events[events.length - 1] as string) as { error?: { code: string } }).error?.code, 'shutting_down');
      await assert.rejects(fetch(`${slow.url}/health`), 'nothing listens after close()');
    } finally {
      await setAll({ mode: 'none' });
      await local.close();
      await slow?.close();
    }
  });

  test('the private key never appears in logs, error bodies, /admin output or the handle', async () => {
    const capture = new LogCapture();
    const local = await runMultiProviderInferenceServer(options({ adminToken: 'a-long-admin-token-for-tests' }), { logger: capture.logger });
    const key = devnet.userPrivateKey.toLowerCase().replace(/^0x/, '');
    try {
      await post(local, ask('hello'));
      await post(local, ask('hello', true));
      await devnet.providers[0]?.setFault({ mode: 'reject-auth' });
      await post(local, ask('auth'));
      await post(local, { messages: 'nope' });
      const unauthorised = await fetch(`${local.url}/admin/providers`);
      assert.equal(unauthorised.status, 401);
      const admin = await (await fetch(`${local.url}/admin/providers`, { headers: { authorization: 'Bearer a-long-admin-token-for-tests' } })).text();
      const health = await (await fetch(`${local.url}/health`)).text();
      const surfaces = [capture.text(), admin, health, JSON.stringify(local.config)].join('\n').toLowerCase();
      assert.ok(capture.lines.length > 5, 'something was logged');
      for (const [name, surface] of Object.entries({ logs: capture.text(), admin, health, config: JSON.stringify(local.config) })) {
        const at = surface.toLowerCase().indexOf(key);
        assert.equal(at, -1, `the private key leaked in ${name}: ...${surface.slice(Math.max(0, at - 300), at + 80)}`);
      }
      assert.equal(surfaces.includes('a-long-admin-token-for-tests'), false, 'the admin token leaked');
      assert.equal(surfaces.includes('app-sk-'), false, 'a session token leaked');
    } finally {
      await setAll({ mode: 'none' });
      await local.close();
    }
    // A bad key is reported without its value.
    await assert.rejects(runMultiProviderInferenceServer(options({ key: `zz${key.slice(2)}` })), (error: Error) => !error.message.toLowerCase().includes(key.slice(2)));
  });
});
