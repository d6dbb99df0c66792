/**
 * The browser boundary with the default set-up (loopback, no adminToken): a page of another origin,
 * in a real headless Chromium, cannot add nodes or providers nor spend the wallet on a chat; a
 * foreign Host (DNS rebinding) is refused; the gateway's own status page still works.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { asAdmin } from '../helpers/admin-fetch.js';
import { launchChromium, type HeadlessChromium } from '../helpers/chromium.js';
import { LogCapture } from '../helpers/devnet-gateway.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

const CHAT = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with exactly these headers (Host included, which fetch cannot set). */
function raw(gateway: GatewayHandle, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port: gateway.port, method, path, headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const codeOf = (answer: RawAnswer): string | undefined => (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;

/** What a hostile page runs: each route, each way a page can send without the gateway's consent. */
const ATTACK = `(async ([gateway, target]) => {
  const attempts = [
    ['/nodes/add', { url: target, models: ['m'], weight: 1000 }],
    ['/admin/providers', { address: '0x1234567890abcdef1234567890abcdef12345678', weight: 1000 }],
    ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'from the page' }] }],
  ];
  const results = [];
  for (const [path, body] of attempts) {
    for (const variant of ['text/plain', 'no-cors', 'json']) {
      const init = { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': variant === 'json' ? 'application/json' : 'text/plain' } };
      if (variant === 'no-cors') init.mode = 'no-cors';
      try {
        const answer = await fetch(gateway + path, init);
        results.push(path + ' ' + variant + ' ' + answer.type + ' ' + answer.status);
      } catch (error) {
        results.push(path + ' ' + variant + ' failed: ' + error.message);
      }
    }
  }
  return results;
})`;

describe('a web page of another origin cannot drive the gateway', () => {
  let chromium: HeadlessChromium;
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;
  let attacker: Server;
  let attackerPort: number;
  const capture = new LogCapture();

  before(async () => {
    chromium = await launchChromium();
    upstream = await startHostileUpstream('u');
    // The default set-up: loopback, no adminToken, no client keys, no corsOrigins.
    gateway = await runMultiProviderInferenceServer({ openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, healthCheckInterval: 3_600_000 } as GatewayOptions, { logger: capture.logger });
    attacker = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>a page</title><p>nothing to see</p>');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerPort = (attacker.address() as AddressInfo).port;
  }, { timeout: 60_000 });

  after(async () => {
    await chromium?.close();
    await gateway?.close();
    await upstream?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  for (const site of ['localhost', '127.0.0.1'] as const) {
    test(`a page on http://${site}:<other port> (${site === 'localhost' ? 'cross-site' : 'same-site, other origin'}) posting text/plain, no-cors and JSON to /nodes/add, /admin/providers and a chat changes nothing and spends nothing`, { timeout: 60_000 }, async () => {
      const fleetBefore = gateway.providers.list().map((member) => member.id);
      const chatsBefore = upstream.requests;
      const linesBefore = capture.lines.length;
      const page = await chromium.context.newPage();
      try {
        await page.goto(`http://${site}:${attackerPort}/`);
        const results = (await page.evaluate(`${ATTACK}(${JSON.stringify([gateway.url, `http://${site}:${attackerPort}`])})`)) as string[];
        console.log(`page on ${site}: ${results.join(' | ')}`);
      } finally {
        await page.close();
      }
      assert.deepEqual(gateway.providers.list().map((member) => member.id), fleetBefore, 'the fleet is unchanged');
      assert.equal(upstream.requests, chatsBefore, 'no upstream received the chat');
      const reached = capture.records().slice(linesBefore).filter((record) => record.event === 'request' && ['/nodes/add', '/admin/providers', '/v1/chat/completions'].includes(String(record.path)));
      const admin = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: Array<{ id: string }> };
      assert.deepEqual(admin.providers.map((provider) => provider.id), fleetBefore, '/admin/providers agrees');
      console.log(`page on ${site}: ${reached.length} requests reached the gateway: ${reached.map((record) => `${String(record.method)} ${String(record.path)} ${String(record.status)} ${String(record.errorCode)}`).join(', ')}`);
      assert.ok(reached.length >= 6, 'the simple requests (text/plain, no-cors) reached the gateway and were refused there');
      for (const record of reached) assert.deepEqual([record.status, record.errorCode], [403, 'origin_not_allowed'], `${String(record.method)} ${String(record.path)}`);
    });
  }

  test('a foreign Host header (DNS rebinding) is refused on /admin/providers and a chat; loopback names pass', async () => {
    const chatsBefore = upstream.requests;
    const rebound = await raw(gateway, 'GET', '/admin/providers', { host: `rebind.attacker.example:${gateway.port}` });
    assert.deepEqual([rebound.status, codeOf(rebound)], [403, 'host_not_allowed']);
    const withToken = await raw(gateway, 'GET', '/admin/providers', { host: 'rebind.attacker.example', authorization: `Bearer ${gateway.adminToken}` });
    assert.deepEqual([withToken.status, codeOf(withToken)], [403, 'host_not_allowed']);
    const chat = await raw(gateway, 'POST', '/v1/chat/completions', { host: `rebind.attacker.example:${gateway.port}`, 'content-type': 'application/json' }, CHAT);
    assert.deepEqual([chat.status, codeOf(chat)], [403, 'host_not_allowed']);
    assert.equal(upstream.requests, chatsBefore, 'the rebound chat reached no upstream');
    for (const host of [`localhost:${gateway.port}`, `127.0.0.1:${gateway.port}`, `app.localhost:${gateway.port}`]) {
      const served = await raw(gateway, 'POST', '/v1/chat/completions', { host, 'content-type': 'application/json' }, CHAT);
      assert.equal(served.status, 200, `${host}: ${served.body}`);
    }
  });

  test('Origin and Sec-Fetch-Site: another origin is refused 403, its preflight gets no CORS headers; clients without them pass', async () => {
    const host = `127.0.0.1:${gateway.port}`;
    const foreign = await raw(gateway, 'POST', '/v1/chat/completions', { host, origin: 'http://evil.example', 'content-type': 'application/json' }, CHAT);
    assert.deepEqual([foreign.status, codeOf(foreign)], [403, 'origin_not_allowed']);
    const nullOrigin = await raw(gateway, 'POST', '/nodes/add', { host, origin: 'null', 'content-type': 'application/json', authorization: `Bearer ${gateway.adminToken}` }, JSON.stringify({ url: 'http://127.0.0.1:9' }));
    assert.deepEqual([nullOrigin.status, codeOf(nullOrigin)], [403, 'origin_not_allowed'], 'a sandboxed page (Origin: null) is another origin');
    const crossSite = await raw(gateway, 'GET', '/admin/providers', { host, 'sec-fetch-site': 'cross-site', authorization: `Bearer ${gateway.adminToken}` });
    assert.deepEqual([crossSite.status, codeOf(crossSite)], [403, 'origin_not_allowed']);
    const preflight = await raw(gateway, 'OPTIONS', '/v1/chat/completions', { host, origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const own = await raw(gateway, 'GET', '/admin/providers', { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', authorization: `Bearer ${gateway.adminToken}` });
    assert.equal(own.status, 200, 'the gateway\'s own origin passes');
    const page = await raw(gateway, 'GET', '/status', { host, 'sec-fetch-site': 'cross-site' });
    assert.equal(page.status, 200, 'a link from elsewhere opens the data-free status page');
    const plain = await raw(gateway, 'POST', '/v1/chat/completions', { host, 'content-type': 'text/plain' }, CHAT);
    assert.deepEqual([plain.status, codeOf(plain)], [415, 'unsupported_media_type'], 'text/plain is not JSON, whoever sends it');
    const form = await raw(gateway, 'POST', '/v1/chat/completions', { host, 'content-type': 'application/x-www-form-urlencoded' }, CHAT);
    assert.equal(form.status, 415);
    const charset = await raw(gateway, 'POST', '/v1/chat/completions', { host, 'content-type': 'application/json; charset=utf-8' }, CHAT);
    assert.equal(charset.status, 200, charset.body);
  });

  test('admin routes are closed without the token, even on loopback; the token is generated and on the handle', async () => {
    assert.equal((await fetch(`${gateway.url}/admin/providers`)).status, 401);
    assert.equal((await fetch(`${gateway.url}/nodes/status`)).status, 401);
    assert.ok(gateway.adminToken.length >= 32);
    assert.equal((await fetch(`${gateway.url}/nodes/status`, asAdmin(gateway))).status, 200);
    assert.ok(!capture.text().includes(gateway.adminToken), 'the token is never logged');
    assert.ok(capture.records().some((record) => record.event === 'admin_token_generated' && record.source === 'memory'));
  });

  test('the gateway\'s own status page still works in Chromium (same origin, with the generated token), by IP and by localhost', { timeout: 60_000 }, async () => {
    for (const base of [gateway.url, `http://localhost:${gateway.port}`]) {
      const page = await chromium.context.newPage();
      try {
        await page.goto(`${base}/status?refresh=300`);
        await page.waitForSelector('#auth:not([hidden])', { timeout: 15_000 });
        await page.fill('#token', gateway.adminToken);
        await page.click('#auth button');
        await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
        assert.equal(await page.locator('tr[data-provider="u"] .name').innerText(), 'u');
      } finally {
        await page.close();
      }
    }
  });

  test('corsOrigins lets a listed origin in (with CORS headers), and only it', async () => {
    const allowed = await runMultiProviderInferenceServer({ openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, corsOrigins: ['http://app.example'] } as GatewayOptions, { logger: capture.logger });
    try {
      const host = `127.0.0.1:${allowed.port}`;
      const preflight = await raw(allowed, 'OPTIONS', '/v1/chat/completions', { host, origin: 'http://app.example', 'access-control-request-method': 'POST' });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'http://app.example');
      const served = await raw(allowed, 'POST', '/v1/chat/completions', { host, origin: 'http://app.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, CHAT);
      assert.equal(served.status, 200, served.body);
      const other = await raw(allowed, 'POST', '/v1/chat/completions', { host, origin: 'http://other.example', 'content-type': 'application/json' }, CHAT);
      assert.equal(other.status, 403);
    } finally {
      await allowed.close();
    }
  });
});
