import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startGatedUpstream } from '../helpers/gated-upstream.js';

const ADMIN = 'admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

function chat(gateway: GatewayHandle, content: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
  });
}

async function call(gateway: GatewayHandle, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${gateway.url}${path}`, { method, headers: { ...admin, authorization: `Bearer ${gateway.adminToken}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

interface NodeStatus {
  id: string;
  url: string;
  weight: number;
  maxConcurrent: number | null;
  state: string;
  inFlight: number;
}

async function nodes(gateway: GatewayHandle): Promise<NodeStatus[]> {
  return ((await call(gateway, 'GET', '/nodes/status')).json as unknown as { nodes: NodeStatus[] }).nodes;
}

/** Resolves once `condition` holds, checked every 10 ms (bounded by a count, generous for a loaded machine). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let check = 0; check < 3000; check++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never: ${what}`);
}

describe('runtime node management', () => {
  test('nodes added, re-weighted, capped and removed under continuous load: zero failed requests; /nodes/status follows', async () => {
    const one = await startGatedUpstream('one', { delayMs: 5 });
    const two = await startGatedUpstream('two', { delayMs: 5 });
    const three = await startGatedUpstream('three', { delayMs: 5 });
    const gateway = await runMultiProviderInferenceServer(
      { port: 0, adminToken: ADMIN, openAICompatibleProviders: [{ name: 'one', baseUrl: one.baseUrl, model: 'm', maxConcurrent: 2 }] } as GatewayOptions,
      { logger: silentLogger },
    );
    const served: Array<{ status: number; provider: string | null }> = [];
    let running = true;
    const worker = async (index: number): Promise<void> => {
      while (running) {
        const response = await chat(gateway, `load-${index}`);
        await response.text();
        served.push({ status: response.status, provider: response.headers.get('x-provider-address') });
      }
    };
    const workers = Array.from({ length: 8 }, (_, index) => worker(index));
    try {
      await until(() => served.length >= 20, 'load is running');
      const added = await call(gateway, 'POST', '/nodes/add', { url: two.origin, models: ['m'], weight: 2, maxConcurrent: 4 });
      assert.equal(added.status, 201, JSON.stringify(added.json));
      assert.deepEqual([added.json.id, added.json.action], [two.origin, 'added']);
      await until(() => served.some((answer) => answer.provider === two.origin), 'the added node takes traffic');
      // Registering again (a server re-announcing itself) updates it in place.
      const again = await call(gateway, 'POST', '/nodes/add', { url: `${two.origin}/v1/`, weight: 5 });
      assert.deepEqual([again.status, again.json.action], [200, 'updated']);
      const patched = await call(gateway, 'PATCH', `/admin/providers/${encodeURIComponent(two.origin)}`, { weight: 3, maxConcurrent: 6 });
      assert.equal(patched.status, 200, JSON.stringify(patched.json));
      const third = await call(gateway, 'POST', '/nodes/add', { url: three.baseUrl, models: ['m'] });
      assert.equal(third.status, 201);
      let status = await nodes(gateway);
      assert.deepEqual(
        status.map((node) => [node.id, node.weight, node.maxConcurrent]),
        [['one', 1, 2], [two.origin, 3, 6], [three.origin, 1, null]],
      );
      // The configured upstream is found by its URL too.
      const removed = await call(gateway, 'POST', `/nodes/remove?node_url=${encodeURIComponent(one.origin)}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.json));
      assert.ok(['draining', 'removed'].includes(String(removed.json.action)));
      await until(async () => !(await nodes(gateway)).some((node) => node.id === 'one'), 'one has drained and left');
      const oneAfterRemoval = one.arrived.length;
      const removedThree = await call(gateway, 'DELETE', `/admin/providers/${encodeURIComponent(three.origin)}`);
      assert.equal(removedThree.status, 200);
      await until(async () => !(await nodes(gateway)).some((node) => node.id === three.origin), 'three has left');
      const servedBefore = served.length;
      await until(() => served.length >= servedBefore + 20, 'load goes on on the remaining node');
      running = false;
      await Promise.all(workers);
      assert.deepEqual([...new Set(served.map((answer) => answer.status))], [200], `no request failed (${served.length} served)`);
      assert.equal(one.arrived.length, oneAfterRemoval, 'the removed node got nothing after it left');
      assert.ok(two.peak <= 6, `two never had more than its cap in flight (${two.peak})`);
      status = await nodes(gateway);
      assert.deepEqual(status.map((node) => node.id), [two.origin]);
      assert.equal(gateway.inFlight(), 0);
    } finally {
      running = false;
      await Promise.all(workers);
      await gateway.close();
      for (const upstream of [one, two, three]) await upstream.close();
    }
  });

  test('the node API needs the admin token and validates bodies', async () => {
    const one = await startGatedUpstream('one');
    const gateway = await runMultiProviderInferenceServer({ port: 0, adminToken: ADMIN, openAICompatibleProviders: [{ name: 'one', baseUrl: one.baseUrl, model: 'm' }] } as GatewayOptions, { logger: silentLogger });
    try {
      assert.equal((await fetch(`${gateway.url}/nodes/status`)).status, 401);
      assert.equal((await fetch(`${gateway.url}/nodes/add`, { method: 'POST', body: JSON.stringify({ url: 'http://x' }) })).status, 401);
      const badUrl = await call(gateway, 'POST', '/nodes/add', { url: 'not a url' });
      assert.deepEqual([badUrl.status, (badUrl.json.error as { param: string }).param], [400, 'url']);
      const unknownField = await call(gateway, 'POST', '/nodes/add', { url: 'http://127.0.0.1:1', colour: 'red' });
      assert.deepEqual([unknownField.status, (unknownField.json.error as { param: string }).param], [400, 'colour']);
      const badWeight = await call(gateway, 'PATCH', '/admin/providers/one', { weight: 0 });
      assert.deepEqual([badWeight.status, (badWeight.json.error as { param: string }).param], [400, 'weight']);
      const badAddress = await call(gateway, 'POST', '/admin/providers', { address: '0x12' });
      assert.deepEqual([badAddress.status, (badAddress.json.error as { param: string }).param], [400, 'address']);
      assert.equal((await call(gateway, 'POST', '/nodes/remove?node_url=http%3A%2F%2Fnowhere%3A1')).status, 404);
      assert.equal((await call(gateway, 'POST', '/nodes/remove')).status, 400);
      assert.equal((await call(gateway, 'DELETE', '/admin/providers/nobody')).status, 404);
      assert.equal((await call(gateway, 'PATCH', '/admin/providers/nobody', { weight: 2 })).status, 404);
    } finally {
      await gateway.close();
      await one.close();
    }
  });
});

describe('pools with overflow', () => {
  test('a full pool overflows where it may, a closed one waits; X-Pool says which pool served', async () => {
    const fast = await startGatedUpstream('fast', { hold: true });
    const bulk = await startGatedUpstream('bulk');
    const solo = await startGatedUpstream('solo', { hold: true });
    const gateway = await runMultiProviderInferenceServer(
      {
        port: 0,
        adminToken: ADMIN,
        corsOrigins: ['*'],
        openAICompatibleProviders: [
          { name: 'fast', baseUrl: fast.baseUrl, model: 'm', pool: 'fast', maxConcurrent: 1 },
          { name: 'bulk', baseUrl: bulk.baseUrl, model: 'm', pool: 'bulk' },
          { name: 'solo', baseUrl: solo.baseUrl, model: 'm', pool: 'solo', maxConcurrent: 1 },
        ],
        pools: { fast: { overflow: ['bulk'], models: ['m'] }, bulk: {}, solo: { overflow: false } },
      } as GatewayOptions,
      { logger: silentLogger },
    );
    try {
      const first = chat(gateway, 'first', { origin: 'http://example.test' });
      await until(() => fast.held === 1, 'the model\'s pool serves it');
      const spilled = await chat(gateway, 'spills');
      assert.equal(spilled.status, 200);
      assert.deepEqual([spilled.headers.get('x-pool'), spilled.headers.get('x-provider-address')], ['bulk', 'bulk'], 'fast is full: bulk takes it');
      const asked = await chat(gateway, 'asks bulk', { 'x-pool': 'bulk' });
      assert.equal(asked.headers.get('x-pool'), 'bulk');
      fast.open();
      const firstAnswer = await first;
      assert.equal(firstAnswer.headers.get('x-pool'), 'fast');
      assert.match(firstAnswer.headers.get('access-control-expose-headers') ?? '', /x-pool/);

      const soloFirst = chat(gateway, 'solo-1', { 'x-pool': 'solo' });
      await until(() => solo.held === 1, 'solo serves');
      const soloSecond = chat(gateway, 'solo-2', { 'x-pool': 'solo' });
      await until(() => gateway.gateway.admission.depth === 1, 'solo has no overflow: the second waits');
      solo.open();
      await until(() => solo.held === 1, 'the waiter is served by solo');
      solo.open();
      const soloAnswers = await Promise.all([soloFirst, soloSecond]);
      assert.deepEqual(soloAnswers.map((answer) => [answer.status, answer.headers.get('x-pool')]), [[200, 'solo'], [200, 'solo']]);
      assert.deepEqual(bulk.arrived, ['spills', 'asks bulk']);

      const unknown = await chat(gateway, 'x', { 'x-pool': 'nope' });
      assert.equal(unknown.status, 400);
      assert.equal(((await unknown.json()) as { error: { param: string } }).error.param, 'X-Pool');
      const view = (await call(gateway, 'GET', '/admin/providers')).json as { pools: Record<string, { overflow: unknown }> };
      assert.deepEqual(view.pools.fast?.overflow, ['bulk']);
    } finally {
      await gateway.close();
      for (const upstream of [fast, bulk, solo]) await upstream.close();
    }
  });

  test('queue and pools change with reconfigure, without a restart', async () => {
    const upstream = await startGatedUpstream('gpu');
    const base = { port: 0, adminToken: ADMIN, openAICompatibleProviders: [{ name: 'gpu', baseUrl: upstream.baseUrl, model: 'm', pool: 'a' }] };
    const gateway = await runMultiProviderInferenceServer(base as GatewayOptions, { logger: silentLogger });
    try {
      assert.equal(gateway.gateway.admission.settings.maxSize, 1000);
      const report = await gateway.reconfigure({ ...base, queue: { maxSize: 7, timeoutMs: 1234 }, pools: { a: { overflow: true } } } as GatewayOptions);
      assert.deepEqual([...report.applied].sort(), ['pools', 'queue']);
      assert.deepEqual(report.needsRestart, []);
      assert.deepEqual([gateway.gateway.admission.settings.maxSize, gateway.gateway.admission.settings.timeoutMs], [7, 1234]);
      const answer = await chat(gateway, 'x', { 'x-pool': 'a' });
      assert.deepEqual([answer.status, answer.headers.get('x-pool')], [200, 'a']);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
