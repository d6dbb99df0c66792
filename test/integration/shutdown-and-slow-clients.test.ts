import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello there' }] });

/** A raw HTTP/1.1 client: writes what the test says, collects everything the server sends until it closes. */
function rawClient(port: number): { socket: Socket; received: Promise<{ text: string; error: string | null; closedAfterMs: number }> } {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  const received = new Promise<{ text: string; error: string | null; closedAfterMs: number }>((resolve) => {
    let text = '';
    let error: string | null = null;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
    socket.on('close', () => resolve({ text, error, closedAfterMs: Date.now() - started }));
  });
  return { socket, received };
}

const head = (length: number): string => `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

async function gatewayOver(upstream: HostileUpstream, extra: Record<string, unknown> = {}): Promise<GatewayHandle> {
  return runMultiProviderInferenceServer({ openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, ...extra }, { logger: silentLogger });
}

describe('slow clients are bounded', () => {
  test('an upload sent one byte at a time is ended at requestTimeout with 408', async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await gatewayOver(upstream, { limits: { requestTimeout: 1000, headersTimeout: 800 } });
    try {
      const { socket, received } = rawClient(gateway.port);
      socket.write(head(Buffer.byteLength(BODY)));
      let index = 0;
      const dripper = setInterval(() => {
        if (index < BODY.length && !socket.destroyed) socket.write(BODY[index++] as string);
      }, 300);
      const result = await received;
      clearInterval(dripper);
      assert.match(result.text, /^HTTP\/1\.1 408/);
      assert.ok(result.closedAfterMs < 3000, `closed after ${result.closedAfterMs} ms`);
      assert.equal(upstream.requests, 0);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('headers sent one byte at a time are ended at headersTimeout', async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await gatewayOver(upstream, { limits: { requestTimeout: 1000, headersTimeout: 800 } });
    try {
      const { socket, received } = rawClient(gateway.port);
      const headers = head(Buffer.byteLength(BODY));
      let index = 0;
      const dripper = setInterval(() => {
        if (index < headers.length && !socket.destroyed) socket.write(headers[index++] as string);
      }, 200);
      const result = await received;
      clearInterval(dripper);
      assert.ok(result.closedAfterMs < 3000, `closed after ${result.closedAfterMs} ms`);
      assert.ok(result.text === '' || /^HTTP\/1\.1 408/.test(result.text), result.text);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('shutdown answers everyone the server accepted', () => {
  test('a request accepted but not yet given to a provider gets 503 shutting_down with Retry-After, not a reset; new connections are refused', async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await gatewayOver(upstream, { shutdownGracePeriod: 2000 });
    const { socket, received } = rawClient(gateway.port);
    socket.write(head(Buffer.byteLength(BODY)) + BODY.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = gateway.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(fetch(`${gateway.url}/health`), 'the listener closed first');
    socket.write(BODY.slice(10));
    const result = await received;
    await closing;
    await upstream.close();
    assert.equal(result.error, null, 'no ECONNRESET');
    assert.match(result.text, /^HTTP\/1\.1 503/);
    assert.match(result.text, /retry-after: 1/i);
    assert.match(result.text, /"code":"shutting_down"/);
    assert.equal(upstream.requests, 0);
  });

  test('close() with 30 requests on a provider and 10 still uploading: the 30 finish with 200, the 10 get 503, none is reset', async () => {
    const upstream = await startHostileUpstream('u', { kind: 'delay', ms: 300 });
    const gateway = await gatewayOver(upstream, { shutdownGracePeriod: 5000 });
    const requests = Array.from({ length: 30 }, (_, index) =>
      fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `r${index}` }] }) }).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error: Error) => ({ status: 0, body: `${error.message} ${String((error as { cause?: unknown }).cause)}` }),
      ),
    );
    const uploading = Array.from({ length: 10 }, () => rawClient(gateway.port));
    for (const { socket } of uploading) socket.write(head(Buffer.byteLength(BODY)) + BODY.slice(0, 5));
    const deadline = Date.now() + 5000;
    while (gateway.inFlight() < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(gateway.inFlight(), 30, 'all 30 are on the provider');
    const closing = gateway.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const { socket } of uploading) socket.write(BODY.slice(5));
    const results = await Promise.all(requests);
    const late = await Promise.all(uploading.map(({ received }) => received));
    await closing;
    await upstream.close();
    for (const result of results) assert.equal(result.status, 200, result.body);
    for (const result of late) {
      assert.equal(result.error, null, 'no reset');
      assert.match(result.text, /^HTTP\/1\.1 503/);
    }
    assert.equal(gateway.inFlight(), 0);
  });
});
