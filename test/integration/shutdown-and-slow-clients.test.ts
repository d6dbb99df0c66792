import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const head = (length: number): string => `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

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
  test('a request accepted but not yet given to a provider gets 503 shutting_down with Retry-After, not a reset; once closed, nothing listens', async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await gatewayOver(upstream, { shutdownGracePeriod: 2000 });
    const { socket, received } = rawClient(gateway.port);
    socket.write(head(Buffer.byteLength(BODY)) + BODY.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = gateway.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(BODY.slice(10));
    const result = await received;
    await closing;
    await assert.rejects(fetch(`${gateway.url}/health`), 'nothing listens once closed');
    await upstream.close();
    assert.equal(result.error, null, 'no ECONNRESET');
    assert.match(result.text, /^HTTP\/1\.1 503/);
    assert.match(result.text, /retry-after: 1/i);
    assert.match(result.text, /"code":"shutting_down"/);
    assert.equal(upstream.requests, 0);
  });

  test('close() with 30 requests on a provider and 10 still uploading: the 30 finish with 200, the 10 get 503, none is reset; a new request meanwhile gets 503 and Connection: close', async () => {
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
    // The listener stays open while the 30 drain: a new connection is answered, not refused or reset.
    const arriving = await fetch(`${gateway.url}/health`);
    assert.equal(arriving.status, 503);
    assert.equal(arriving.headers.get('connection'), 'close');
    assert.equal(((await arriving.json()) as { error: { code: string } }).error.code, 'shutting_down');
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

  test('close() while 120 connections that sent their request wait in the backlog: each gets an HTTP answer (a result or 503 shutting_down), 0 resets', { timeout: 60_000 }, async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await gatewayOver(upstream, { shutdownGracePeriod: 2000 });
    const folder = mkdtempSync(join(tmpdir(), 'zg-gateway-burst-'));
    const sent = join(folder, 'sent');
    // Another process connects 120 clients and sends their requests while this process's event loop
    // is held: the connections complete in the kernel and wait in the listener's backlog, not accepted.
    const child = spawn(process.execPath, ['-e', BURST_CLIENT, String(gateway.port), sent, '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!existsSync(sent) && Date.now() < deadline) {
        // Held on purpose: nothing is accepted while the clients connect and send.
      }
      assert.ok(existsSync(sent), 'the burst was sent');
      const closing = gateway.close();
      assert.equal(await exited, 0);
      await closing;
    } finally {
      child.kill();
      rmSync(folder, { recursive: true, force: true });
      await upstream.close();
    }
    const results = JSON.parse(output) as Array<{ status: number; code: string | null; error: string | null }>;
    const counts: Record<string, number> = {};
    for (const result of results) {
      const key = result.error ?? (result.status === 0 ? 'no answer' : `${result.status}${result.code ? ` ${result.code}` : ''}`);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    console.log(`close() during a burst of ${results.length} connections: ${JSON.stringify(counts)}`);
    assert.equal(results.length, 120);
    for (const result of results) {
      assert.equal(result.error, null, 'no reset');
      assert.ok(result.status === 200 || (result.status === 503 && result.code === 'shutting_down'), JSON.stringify(result));
    }
  });
});

/** The burst's client, run with `node -e`: port, a file to create once every request is sent, count. Prints each answer as JSON. */
const BURST_CLIENT = `
const net = require('node:net');
const fs = require('node:fs');
const [port, sentFile, countText] = process.argv.slice(1);
const count = Number(countText);
const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'burst' }] });
const results = [];
let written = 0;
let done = 0;
for (let index = 0; index < count; index++) {
  const request = index % 2 === 0
    ? 'POST /v1/chat/completions HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nContent-Length: ' + Buffer.byteLength(body) + '\\r\\nConnection: close\\r\\n\\r\\n' + body
    : 'GET /health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n';
  const result = { status: 0, code: null, error: null };
  results.push(result);
  let text = '';
  const socket = net.connect(Number(port), '127.0.0.1', () => {
    socket.write(request, () => {
      written += 1;
      if (written === count) fs.writeFileSync(sentFile, 'sent');
    });
  });
  socket.on('data', (chunk) => (text += chunk.toString('utf8')));
  socket.on('error', (error) => (result.error = error.code || error.message));
  socket.on('close', () => {
    result.status = Number(/^HTTP\\/1\\.1 (\\d{3})/.exec(text)?.[1] ?? 0);
    result.code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? null;
    done += 1;
    if (done === count) process.stdout.write(JSON.stringify(results));
  });
}
setTimeout(() => { process.stdout.write(JSON.stringify(results)); process.exit(0); }, 30000).unref();
`;
