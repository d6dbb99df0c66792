import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions, type RequestDoneEvent } from 'zg-gateway';
import { waitFor } from '../helpers/devnet-gateway.js';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { scrape, samplesOf, valueOf, type Sample } from '../helpers/prometheus-text.js';

const CHAT = '/v1/chat/completions';
const priced = { id: 'm', inputPrice: '3', outputPrice: '7' };

async function chat(gateway: GatewayHandle, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${gateway.url}${CHAT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
  });
  await response.arrayBuffer();
  return response;
}

async function start(upstreams: HostileUpstream[], options: Partial<GatewayOptions> = {}): Promise<GatewayHandle> {
  return runMultiProviderInferenceServer(
    { openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl, models: [priced] })), port: 0, healthCheckInterval: 3_600_000, ...options },
    { logger: silentLogger },
  );
}

describe('/metrics', () => {
  let a: HostileUpstream;
  let b: HostileUpstream;
  let gateway: GatewayHandle;
  let samples: Sample[];
  let jsonCost = 0n;

  before(async () => {
    a = await startHostileUpstream('a');
    b = await startHostileUpstream('b');
    gateway = await start([a, b]);
    for (let index = 0; index < 4; index++) {
      const response = await chat(gateway, `json ${index}`, {}, { 'x-request-id': `secret-request-id-${index}` });
      assert.equal(response.status, 200);
      jsonCost += BigInt(response.headers.get('x-request-cost') ?? '0');
    }
    for (let index = 0; index < 6; index++) assert.equal((await chat(gateway, `stream ${index}`, { stream: true })).status, 200);
    assert.equal((await fetch(`${gateway.url}/no/such/path/for-a-label`)).status, 404);
    samples = await scrape(`${gateway.url}/metrics`);
  });

  after(async () => {
    await gateway?.close();
    await a?.close();
    await b?.close();
  });

  test('counts requests by route, status, outcome, model and provider', () => {
    for (const provider of ['a', 'b']) {
      assert.equal(valueOf(samples, 'zg_gateway_requests_total', { route: CHAT, status: '200', outcome: 'ok', model: 'm', provider }), 5, `provider ${provider}`);
    }
    assert.equal(valueOf(samples, 'zg_gateway_requests_total', { route: 'other', status: '404', provider: 'none' }), 1, 'a made-up path is counted under route "other"');
    assert.equal(valueOf(samples, 'zg_gateway_request_duration_seconds_count', { route: CHAT }), 10);
    assert.equal(valueOf(samples, 'zg_gateway_routing_decisions_total', { strategy: 'round-robin', reason: 'default' }), 10);
  });

  test('in flight is back to 0 after the traffic', () => {
    assert.equal(valueOf(samples, 'zg_gateway_in_flight'), 0);
    assert.deepEqual(
      samplesOf(samples, 'zg_gateway_provider_in_flight').map((sample) => [sample.labels.provider, sample.value]),
      [
        ['a', 0],
        ['b', 0],
      ],
    );
  });

  test('time to first token counts every successful stream; upstream durations every attempt', () => {
    assert.equal(valueOf(samples, 'zg_gateway_time_to_first_token_seconds_count'), 6);
    assert.equal(valueOf(samples, 'zg_gateway_time_to_first_token_seconds_count', { provider: 'a', model: 'm' }), 3);
    assert.equal(valueOf(samples, 'zg_gateway_upstream_duration_seconds_count', { outcome: 'ok' }), 10);
    assert.equal(valueOf(samples, 'zg_gateway_upstream_attempts_total', { result: 'ok' }), 10);
  });

  test("the gateway's own overhead is observed for every completion and is below the whole duration", () => {
    const count = valueOf(samples, 'zg_gateway_overhead_seconds_count', { route: CHAT });
    const overhead = valueOf(samples, 'zg_gateway_overhead_seconds_sum', { route: CHAT });
    const whole = valueOf(samples, 'zg_gateway_request_duration_seconds_sum', { route: CHAT });
    assert.equal(count, 10);
    assert.ok(overhead > 0 && overhead < whole, `overhead ${overhead} s of ${whole} s`);
  });

  test('spend and tokens per provider and model; store writes', () => {
    const spend = valueOf(samples, 'zg_gateway_spend_neuron_total', { model: 'm' });
    assert.ok(spend > Number(jsonCost), `streams add to the ${jsonCost} neuron of the JSON answers (got ${spend})`);
    assert.equal(valueOf(samples, 'zg_gateway_tokens_total', { kind: 'prompt' }), 10 * 5);
    assert.equal(valueOf(samples, 'zg_gateway_store_operations_total', { store: 'responses', operation: 'set', result: 'ok' }), 10);
  });

  test('provider state gauges, and the Node process series', () => {
    assert.equal(valueOf(samples, 'zg_gateway_provider_breaker_state', { provider: 'a', state: 'closed' }), 1);
    assert.equal(valueOf(samples, 'zg_gateway_provider_funding_state', { provider: 'a', state: 'ok' }), 1);
    assert.equal(valueOf(samples, 'zg_gateway_provider_trust_state', { provider: 'b', state: 'trusted' }), 1);
    assert.equal(valueOf(samples, 'zg_gateway_provider_info', { provider: 'a', kind: 'openai-compatible', verifiable: 'false' }), 1);
    assert.ok(samplesOf(samples, 'process_cpu_user_seconds_total').length === 1, 'default process metrics');
  });

  test('no label carries a request id, and label values stay within bounded sets', () => {
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) assert.ok(!value.includes('secret-request-id'), `${sample.name} has a request id label`);
    }
    const routes = new Set(samplesOf(samples, 'zg_gateway_requests_total').map((sample) => sample.labels.route));
    assert.ok(!routes.has('/no/such/path/for-a-label'));
  });

  test('verify results and store hits/misses', async () => {
    const first = await fetch(`${gateway.url}${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'v' }] }) });
    const { id } = (await first.json()) as { id: string };
    const verify = (body: unknown): Promise<Response> => fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await verify({ id })).status, 200);
    assert.equal((await verify({ id: 'chatcmpl-unknown' })).status, 404);
    const after = await scrape(`${gateway.url}/metrics`);
    assert.equal(valueOf(after, 'zg_gateway_verifications_total', { result: 'unverifiable' }), 1, 'plain upstreams cannot prove their answers');
    assert.equal(valueOf(after, 'zg_gateway_verifications_total', { result: 'response_not_found', provider: 'none' }), 1);
    assert.equal(valueOf(after, 'zg_gateway_store_operations_total', { store: 'responses', operation: 'get', result: 'hit' }), 1);
    assert.equal(valueOf(after, 'zg_gateway_store_operations_total', { store: 'responses', operation: 'get', result: 'miss' }), 1);
  });
});

describe('/metrics when a provider fails', () => {
  test('the breaker gauge turns open, and transitions, retries and failed attempts are counted', async () => {
    const bad = await startHostileUpstream('bad', { kind: 'status', status: 500 });
    const good = await startHostileUpstream('good');
    const gateway = await start([bad, good], { circuitBreaker: { coolDownMs: 600_000 } });
    try {
      const before = await scrape(`${gateway.url}/metrics`);
      assert.equal(valueOf(before, 'zg_gateway_provider_breaker_state', { provider: 'bad', state: 'closed' }), 1);
      for (let index = 0; index < 6; index++) assert.equal((await chat(gateway, `r${index}`)).status, 200, 'the good provider answers');
      const samples = await scrape(`${gateway.url}/metrics`);
      assert.equal(valueOf(samples, 'zg_gateway_provider_breaker_state', { provider: 'bad', state: 'open' }), 1);
      assert.equal(valueOf(samples, 'zg_gateway_provider_breaker_state', { provider: 'bad', state: 'closed' }), 0);
      assert.equal(valueOf(samples, 'zg_gateway_provider_in_rotation', { provider: 'bad' }), 0);
      assert.equal(valueOf(samples, 'zg_gateway_breaker_transitions_total', { provider: 'bad', to: 'open' }), 1);
      assert.equal(valueOf(samples, 'zg_gateway_upstream_attempts_total', { provider: 'bad', result: 'upstream_error' }), 3);
      assert.equal(valueOf(samples, 'zg_gateway_retries_total', { route: CHAT }), 3);
      assert.equal(valueOf(samples, 'zg_gateway_requests_total', { route: CHAT, status: '200', provider: 'good' }), 6);
      assert.equal(valueOf(samples, 'zg_gateway_in_flight'), 0);
    } finally {
      await gateway.close();
      await bad.close();
      await good.close();
    }
  });
});

describe('zg-gateway:request:done', () => {
  test('is published once per request, with the time spent waiting for providers kept out of overheadMs', async () => {
    const slow = await startHostileUpstream('slow', { kind: 'delay', ms: 300 });
    const gateway = await start([slow]);
    const events: RequestDoneEvent[] = [];
    const listener = (message: unknown): void => {
      const event = message as RequestDoneEvent;
      if (event.gatewayId === gateway.gateway.id) events.push(event);
    };
    subscribe('zg-gateway:request:done', listener);
    try {
      const response = await chat(gateway, 'slow answer', {}, { 'x-request-id': 'done-event-1' });
      assert.equal(response.status, 200);
      assert.ok(await waitFor(() => events.length === 1, 2000));
      const event = events[0] as RequestDoneEvent;
      assert.equal(event.requestId, 'done-event-1');
      assert.equal(event.route, CHAT);
      assert.equal(event.status, 200);
      assert.equal(event.outcome, 'ok');
      assert.equal(event.providerId, 'slow');
      assert.equal(event.model, 'm');
      assert.equal(event.attempts, 1);
      assert.equal(event.costNeuron, BigInt(response.headers.get('x-request-cost') ?? '-1'));
      assert.ok(event.durationMs >= 300, `duration ${event.durationMs} ms includes the provider's 300 ms`);
      assert.ok(event.overheadMs !== undefined && event.overheadMs >= 0 && event.overheadMs < event.durationMs - 250, `overhead ${event.overheadMs} ms excludes them`);
      assert.equal((await fetch(`${gateway.url}/health`)).status, 200);
      assert.ok(await waitFor(() => events.length === 2, 2000));
      assert.equal(events[1]?.route, '/health');
      assert.equal(events[1]?.overheadMs, undefined, 'overhead is measured for completions only');
    } finally {
      unsubscribe('zg-gateway:request:done', listener);
      await gateway.close();
      await slow.close();
    }
  });
});

describe('/metrics isolation and bounds', () => {
  test('two gateways in one process keep their own series, even with providers of the same names', async () => {
    const upstream = await startHostileUpstream('same');
    const first = await start([upstream]);
    const second = await start([upstream]);
    try {
      await chat(first, 'one');
      await chat(first, 'two');
      await chat(second, 'three');
      assert.equal(valueOf(await scrape(`${first.url}/metrics`), 'zg_gateway_requests_total', { route: CHAT, provider: 'same' }), 2);
      assert.equal(valueOf(await scrape(`${second.url}/metrics`), 'zg_gateway_requests_total', { route: CHAT, provider: 'same' }), 1);
      assert.ok(first.metrics !== second.metrics, 'a registry per gateway');
    } finally {
      await first.close();
      await second.close();
      await upstream.close();
    }
  });

  test('a provider that takes any model does not let clients mint model labels', async () => {
    const upstream = await startHostileUpstream('any');
    const gateway = await runMultiProviderInferenceServer({ openAICompatibleProviders: [{ name: 'any', baseUrl: upstream.baseUrl }], port: 0, healthCheckInterval: 3_600_000 }, { logger: silentLogger });
    try {
      for (const model of ['made-up-1', 'made-up-2']) assert.equal((await chat(gateway, 'x', { model })).status, 200);
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      assert.ok(!text.includes('made-up'), 'client model names are not labels');
      assert.match(text, /zg_gateway_requests_total\{route="\/v1\/chat\/completions",status="200",outcome="ok",model="other",provider="any"\} 2/);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('/metrics takes the metrics token or the admin token; the metrics token opens nothing else', async () => {
    const upstream = await startHostileUpstream('u');
    const adminToken = 'an-admin-token-for-the-tests';
    const metricsToken = 'a-metrics-token-for-scrapers';
    const gateway = await start([upstream], { adminToken, metricsToken });
    try {
      const get = (path: string, token?: string): Promise<number> => fetch(`${gateway.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}).then((response) => response.status);
      assert.equal(await get('/metrics'), 401);
      assert.equal(await get('/metrics', 'wrong-token-wrong-token'), 401);
      assert.equal(await get('/metrics', metricsToken), 200);
      assert.equal(await get('/metrics', adminToken), 200);
      assert.equal(await get('/admin/providers', metricsToken), 401, 'the metrics token is no admin token');
      const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
      assert.ok(!text.includes(adminToken) && !text.includes(metricsToken), 'no secret in the metrics');
      assert.ok(!JSON.stringify(gateway.config).includes(metricsToken), 'the token is not in the public config');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('beyond loopback without a token, /metrics is closed', async () => {
    const upstream = await startHostileUpstream('u');
    const gateway = await start([upstream], { host: '0.0.0.0', allowUnauthenticated: true });
    try {
      const closed = await fetch(`${gateway.url}/metrics`);
      assert.equal(closed.status, 401);
      assert.match(((await closed.json()) as { error: { message: string } }).error.message, /metricsToken/);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
