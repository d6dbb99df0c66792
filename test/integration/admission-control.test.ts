import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startGatedUpstream, type GatedUpstream } from '../helpers/gated-upstream.js';

const ADMIN = 'admin-token-0123456789';
const adminHeaders = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

function chat(gateway: GatewayHandle, content: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
  });
}

async function queueStats(gateway: GatewayHandle): Promise<{ depth: number; queued: number; admitted: number; timeouts: number; rejected: number; maxWaitMs: number }> {
  return (await (await fetch(`${gateway.url}/admin/queue`, { headers: adminHeaders })).json()) as never;
}

/** Resolves once `condition` holds, checked every 10 ms (bounded by a count, generous for a loaded machine). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let check = 0; check < 3000; check++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never: ${what}`);
}

async function start(upstreams: GatedUpstream[], options: Partial<GatewayOptions> = {}, caps: Record<string, number> = {}): Promise<GatewayHandle> {
  return runMultiProviderInferenceServer(
    {
      port: 0,
      adminToken: ADMIN,
      openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl, model: 'm', ...(caps[upstream.name] ? { maxConcurrent: caps[upstream.name] } : {}) })),
      ...options,
    } as GatewayOptions,
    { logger: silentLogger },
  );
}

describe('admission control over HTTP', () => {
  test('a burst larger than the caps queues, then every request is answered; the upstreams never see more than their caps', async () => {
    const one = await startGatedUpstream('one', { delayMs: 20 });
    const two = await startGatedUpstream('two', { delayMs: 20 });
    const gateway = await start([one, two], {}, { one: 2, two: 3 });
    try {
      const burst = 60;
      const responses = await Promise.all(Array.from({ length: burst }, (_, index) => chat(gateway, `r${index}`)));
      const statuses = await Promise.all(responses.map(async (response) => (await response.text(), response.status)));
      assert.deepEqual([...new Set(statuses)], [200], 'every request answered 200');
      assert.ok(one.peak <= 2 && two.peak <= 3, `peaks ${one.peak} and ${two.peak} within the caps`);
      const stats = await queueStats(gateway);
      assert.ok(stats.queued > 0, 'some requests waited');
      assert.equal(stats.admitted, stats.queued);
      assert.equal(stats.depth, 0);
      assert.equal(gateway.inFlight(), 0);
      console.log(`burst of ${burst} over caps 2+3: ${stats.queued} queued, max wait ${stats.maxWaitMs} ms, all answered 200`);
    } finally {
      await gateway.close();
      await one.close();
      await two.close();
    }
  });

  test('queued requests are served by priority (X-Priority, user_level), and user_level is not forwarded', async () => {
    const upstream = await startGatedUpstream('gpu', { hold: true });
    const gateway = await start([upstream], {}, { gpu: 1 });
    try {
      const pending = [chat(gateway, 'busy')];
      await until(() => upstream.held === 1, 'busy on the upstream');
      const plan: Array<[string, Record<string, string>, Record<string, unknown>]> = [
        ['low', { 'x-priority': '1' }, {}],
        ['default', {}, {}],
        ['high-body', {}, { user_level: 9 }],
        ['high-header', { 'x-priority': '9' }, { user_level: 0 }],
        ['mid', { 'x-priority': '6' }, {}],
      ];
      for (const [name, headers, extra] of plan) {
        pending.push(chat(gateway, name, headers, extra));
        await until(async () => (await queueStats(gateway)).depth === pending.length - 1, `${name} waits`);
      }
      for (let index = 0; index < pending.length; index++) {
        upstream.open();
        if (index < pending.length - 1) await until(() => upstream.held === 1 && upstream.arrived.length === index + 2, 'the next one reached the upstream');
      }
      const answers = await Promise.all(pending);
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
      assert.deepEqual(upstream.arrived, ['busy', 'high-body', 'high-header', 'mid', 'default', 'low']);
      assert.ok(upstream.bodies.every((body) => !('user_level' in body)), 'user_level stays in the gateway');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('an invalid priority is a 400 naming it', async () => {
    const upstream = await startGatedUpstream('gpu');
    const gateway = await start([upstream]);
    try {
      const header = await chat(gateway, 'x', { 'x-priority': '11' });
      assert.equal(header.status, 400);
      assert.equal(((await header.json()) as { error: { param: string } }).error.param, 'X-Priority');
      const body = await chat(gateway, 'x', {}, { user_level: 'high' });
      assert.equal(body.status, 400);
      assert.equal(((await body.json()) as { error: { param: string; code: string } }).error.param, 'user_level');
      assert.deepEqual(upstream.arrived, []);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('a full queue answers 429 queue_full and a wait past timeoutMs 503 queue_timeout, both with Retry-After', async () => {
    const upstream = await startGatedUpstream('gpu', { hold: true });
    const gateway = await start([upstream], { queue: { maxSize: 1, timeoutMs: 300, retryAfterMs: 2000 } }, { gpu: 1 });
    try {
      const busy = chat(gateway, 'busy');
      await until(() => upstream.held === 1, 'busy on the upstream');
      const waiting = chat(gateway, 'waits');
      await until(async () => (await queueStats(gateway)).depth === 1, 'one waits');
      const full = await chat(gateway, 'refused');
      assert.equal(full.status, 429);
      assert.equal(full.headers.get('retry-after'), '2');
      assert.equal(((await full.json()) as { error: { code: string } }).error.code, 'queue_full');
      const timedOut = await waiting;
      assert.equal(timedOut.status, 503);
      assert.equal(timedOut.headers.get('retry-after'), '2');
      assert.equal(((await timedOut.json()) as { error: { code: string } }).error.code, 'queue_timeout');
      upstream.open();
      assert.equal((await busy).status, 200);
      const stats = await queueStats(gateway);
      assert.deepEqual([stats.depth, stats.timeouts, stats.rejected], [0, 1, 1]);
      const health = (await (await fetch(`${gateway.url}/health`)).json()) as { queue: { timeouts: number } };
      assert.equal(health.queue.timeouts, 1);
      const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: adminHeaders })).text();
      assert.match(metrics, /zg_gateway_queue_requests_total\{result="timeout"\} 1/);
      assert.match(metrics, /zg_gateway_queue_requests_total\{result="rejected"\} 1/);
      assert.match(metrics, /zg_gateway_queue_depth\{priority="5"\} 0/);
      assert.deepEqual(upstream.arrived, ['busy']);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('closing the gateway answers queued requests with 503 shutting_down', async () => {
    const upstream = await startGatedUpstream('gpu', { hold: true });
    const gateway = await start([upstream], { shutdownGracePeriod: 5000 }, { gpu: 1 });
    try {
      const busy = chat(gateway, 'busy');
      await until(() => upstream.held === 1, 'busy');
      const queued = chat(gateway, 'queued');
      await until(async () => (await queueStats(gateway)).depth === 1, 'one waits');
      const closing = gateway.close();
      const answer = await queued;
      assert.equal(answer.status, 503);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'shutting_down');
      upstream.open();
      assert.equal((await busy).status, 200);
      await closing;
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
