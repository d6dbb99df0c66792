import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GatewayError, runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { LogCapture } from '../helpers/devnet-gateway.js';
import { FakeProvider, silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

const ADMIN = 'admin-token-0123456789';
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

async function call(gateway: GatewayHandle, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: { error?: { code: string; param: string | null; message: string } } }> {
  const response = await fetch(`${gateway.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  let json = {};
  try {
    json = JSON.parse(text) as object;
  } catch {
    // Not JSON (metrics).
  }
  return { status: response.status, text, json };
}

/** A local HTTP server that counts every TCP connection it is offered (and answers any request as a chat upstream would). */
async function listeningServer(): Promise<{ host: string; port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: 'chatcmpl-listening', object: 'chat.completion', model: 'probe-model', choices: [{ index: 0, message: { role: 'assistant', content: 'reached' }, finish_reason: 'stop' }] }));
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('node URLs are vetted before anything connects', () => {
  let upstream: HostileUpstream;
  let listening: Awaited<ReturnType<typeof listeningServer>>;
  let gateway: GatewayHandle;
  before(async () => {
    upstream = await startHostileUpstream('one');
    listening = await listeningServer();
    gateway = await runMultiProviderInferenceServer(
      { port: 0, adminToken: ADMIN, healthCheckInterval: 3_600_000, openAICompatibleProviders: [{ name: 'one', baseUrl: upstream.baseUrl, model: 'm' }] } as GatewayOptions,
      { logger: silentLogger },
    );
  });
  after(async () => {
    await gateway?.close();
    await listening?.close();
    await upstream?.close();
  });

  test('hostile schemes and a credentialed URL: 400 naming `url`, nothing joins, the listening server sees no connection', async () => {
    const { host, port } = listening;
    const hostile = [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/plain,hello',
      `gopher://${host}:${port}/_PING`,
      `redis://${host}:${port}/0`,
      `ftp://${host}:${port}/`,
      `ws://${host}:${port}/`,
      `http://user:pw@${host}:${port}`,
      `http://token@${host}:${port}/v1`,
    ];
    for (const url of hostile) {
      const answer = await call(gateway, 'POST', '/nodes/add', { url, models: ['probe-model'] });
      assert.equal(answer.status, 400, `${url}: ${answer.text}`);
      assert.equal(answer.json.error?.param, 'url', url);
      assert.doesNotMatch(answer.text, /pw@|token@/, 'the refusal does not repeat the credential');
    }
    const status = (await (await fetch(`${gateway.url}/nodes/status`, { headers })).json()) as { nodes: Array<{ id: string }> };
    assert.deepEqual(status.nodes.map((node) => node.id), ['one']);
    // Give any stray probe a moment to show up, then a positive control: the same server, asked properly, is reached.
    const chat = await call(gateway, 'POST', '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(chat.status, 200);
    assert.equal(listening.connections(), 0, 'no refused URL was ever connected to');
    const added = await call(gateway, 'POST', '/nodes/add', { url: `http://${host}:${port}`, models: ['probe-model'] });
    assert.equal(added.status, 201, added.text);
    const reached = await call(gateway, 'POST', '/v1/chat/completions', { model: 'probe-model', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(reached.status, 200, reached.text);
    assert.ok(listening.connections() >= 1, 'positive control: an accepted node URL is connected to');
    assert.equal((await call(gateway, 'POST', `/nodes/remove?node_url=${encodeURIComponent(`http://${host}:${port}`)}`)).status, 200);
  });

  test('link-local and cloud metadata addresses are refused by default, in every spelling, before any connection', async () => {
    const denied = [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.170.2/v2/credentials',
      'http://2852039166/', // 169.254.169.254 as one number
      'http://[::ffff:169.254.169.254]/',
      'http://[fe80::1]:8000/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://metadata.google.internal/computeMetadata/v1/',
    ];
    for (const url of denied) {
      const started = performance.now();
      const answer = await call(gateway, 'POST', '/nodes/add', { url });
      assert.equal(answer.status, 400, `${url}: ${answer.text}`);
      assert.equal(answer.json.error?.param, 'url');
      assert.match(answer.json.error?.message ?? '', /denied address/);
      console.log(`refused ${url} in ${Math.round(performance.now() - started)} ms`);
    }
  });

  test('a node name with CR/LF (or another control character) is refused', async () => {
    for (const name of ['evil\r\nX-Injected: 1', 'tab\there', 'nul\u0000', ' padded ', 'snow\u2603']) {
      const answer = await call(gateway, 'POST', '/nodes/add', { url: upstream.baseUrl, name });
      assert.equal(answer.status, 400, JSON.stringify(name));
      assert.equal(answer.json.error?.param, 'name');
    }
  });
});

describe('the deny list is configurable', () => {
  test('providerUrls.deny refuses a range (a loopback server there sees no connection, also through a host name); allowLinkLocal lets metadata addresses through the check', async () => {
    const listening = await listeningServer();
    const upstream = await startHostileUpstream('one');
    const gateway = await runMultiProviderInferenceServer(
      {
        port: 0,
        adminToken: ADMIN,
        healthCheckInterval: 3_600_000,
        providerUrls: { deny: ['127.0.0.0/8', '::1/128'] },
        openAICompatibleProviders: [{ name: 'one', baseUrl: upstream.baseUrl, model: 'm' }],
      } as GatewayOptions,
      { logger: silentLogger },
    );
    try {
      for (const url of [`http://127.0.0.1:${listening.port}`, `http://localhost:${listening.port}`]) {
        const answer = await call(gateway, 'POST', '/nodes/add', { url, models: ['probe-model'] });
        assert.equal(answer.status, 400, answer.text);
        assert.match(answer.json.error?.message ?? '', /denied address/);
      }
      assert.equal(listening.connections(), 0);
    } finally {
      await gateway.close();
      await upstream.close();
      await listening.close();
    }
    await assert.rejects(runMultiProviderInferenceServer({ port: 0, providerUrls: { deny: ['not-a-range'] }, openAICompatibleProviders: [{ name: 'x', baseUrl: 'http://127.0.0.1:1/v1' }] } as GatewayOptions, { logger: silentLogger }), (error: unknown) => {
      return GatewayError.isInstance(error) && error.code === 'invalid_config';
    });
  });

  test('config: a provider URL that is not http(s), or a name with CR/LF, is invalid_config', async () => {
    for (const entry of [{ name: 'x', baseUrl: 'file:///etc/passwd' }, { name: 'x', baseUrl: 'gopher://127.0.0.1:1/' }, { name: 'a\r\nb', baseUrl: 'http://127.0.0.1:1/v1' }]) {
      await assert.rejects(runMultiProviderInferenceServer({ port: 0, openAICompatibleProviders: [entry] } as GatewayOptions, { logger: silentLogger }), (error: unknown) => {
        return GatewayError.isInstance(error) && error.code === 'invalid_config';
      });
    }
  });
});

describe('a credential in a configured URL never leaves', () => {
  test('/health, /admin/providers, /nodes/status, /metrics, /status, logs and headers never show it; the upstream still serves', async () => {
    const upstream = await startHostileUpstream('secretive');
    const logs = new LogCapture();
    const secret = 's3cretPassw0rd';
    const credentialed = upstream.baseUrl.replace('http://', `http://operator:${secret}@`);
    const gateway = await runMultiProviderInferenceServer(
      { port: 0, healthCheckInterval: 3_600_000, logLevel: 'debug', openAICompatibleProviders: [{ name: 'secretive', baseUrl: credentialed, model: 'm' }] } as GatewayOptions,
      { logger: logs.logger },
    );
    try {
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(chat.status, 200);
      const seen: string[] = [JSON.stringify([...chat.headers]), await chat.text()];
      const adminHeaders = { ...headers, authorization: `Bearer ${gateway.adminToken}` };
      for (const path of ['/health', '/admin/providers', '/nodes/status', '/metrics', '/status', '/v1/models']) {
        const response = await fetch(`${gateway.url}${path}`, { headers: adminHeaders });
        seen.push(`${path} ${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
      }
      const endpoint = ((await (await fetch(`${gateway.url}/admin/providers`, { headers: adminHeaders })).json()) as { providers: Array<{ endpoint: string }> }).providers[0]?.endpoint;
      assert.equal(endpoint, upstream.baseUrl, 'the endpoint is shown without its credential');
      seen.push(logs.text());
      const everything = seen.join('\n');
      assert.ok(everything.includes('secretive'), 'positive control: the provider appears in what was read');
      assert.ok(!everything.includes(secret), 'the password appears nowhere');
      assert.ok(!everything.includes('operator:'), 'nor the user name');
      assert.ok(logs.text().includes('provider_url_credentials_dropped'), 'the operator is told (without the credential)');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('a provider id that is not header-safe is percent-encoded in X-Provider-Address instead of failing the answer', async () => {
    const odd = new FakeProvider('node\r\nX-Injected: yes');
    const gateway = await runMultiProviderInferenceServer({ port: 0, healthCheckInterval: 3_600_000 } as GatewayOptions, { logger: silentLogger, providers: [odd] });
    try {
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(chat.status, 200, await chat.clone().text());
      assert.equal(chat.headers.get('x-provider-address'), encodeURIComponent('node\r\nX-Injected: yes'));
      assert.equal(chat.headers.get('x-injected'), null);
    } finally {
      await gateway.close();
    }
  });
});
