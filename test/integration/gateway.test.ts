import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Contract, Wallet } from 'ethers';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, GatewayError, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

interface VerifyBody {
  id: string;
  isValid: boolean;
  provider: string;
}

async function verify(gateway: GatewayHandle, id: string): Promise<{ status: number; header: string | null; body: VerifyBody }> {
  const response = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  return { status: response.status, header: response.headers.get('x-provider-address'), body: (await response.json()) as VerifyBody };
}

function client(gateway: GatewayHandle): OpenAI {
  return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
}

/** A non-stream chat through the openai client; returns the id, content and serving provider. */
async function chat(openai: OpenAI, text: string, headers: Record<string, string> = {}): Promise<{ id: string; content: string; provider: string; response: Response }> {
  const { data, response } = await openai.chat.completions
    .create({ model: 'zg-devnet-chat', messages: [{ role: 'user', content: text }] }, { headers })
    .withResponse();
  return { id: data.id, content: data.choices[0]?.message.content ?? '', provider: response.headers.get('x-provider-address') ?? '', response };
}

/** A streamed chat through the openai client; returns the id, assembled content and provider. */
async function streamChat(openai: OpenAI, text: string): Promise<{ id: string; content: string; provider: string; chunks: number }> {
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'zg-devnet-chat', messages: [{ role: 'user', content: text }], stream: true })
    .withResponse();
  let id = '';
  let content = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    id ||= chunk.id;
    content += chunk.choices[0]?.delta.content ?? '';
  }
  return { id, content, provider: response.headers.get('x-provider-address') ?? '', chunks };
}

describe('gateway over the local devnet', () => {
  let devnet: LocalDevnet;
  before(async () => {
    devnet = await startLocalDevnet({ providers: 3 });
  });
  after(async () => {
    await devnet?.stop();
  });

  describe('round-robin', () => {
    let gateway: GatewayHandle;
    before(async () => {
      gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'round-robin' }));
    });
    after(async () => {
      await gateway?.close();
    });

    test('non-stream chats visit every provider in turn, and every id verifies with the provider that served it', async () => {
      const openai = client(gateway);
      const served: string[] = [];
      for (let index = 0; index < 6; index++) {
        const answer = await chat(openai, `hello number ${index}`);
        const provider = devnet.providers.find((candidate) => candidate.address === answer.provider);
        assert.ok(provider, `X-Provider-Address ${answer.provider} is a devnet provider`);
        assert.match(answer.content, new RegExp(`^\\[${provider.name}\\] zg-devnet-chat heard: hello number ${index}$`));
        served.push(answer.provider);
        const verified = await verify(gateway, answer.id);
        assert.equal(verified.status, 200);
        assert.equal(verified.body.isValid, true);
        assert.equal(verified.body.provider, answer.provider);
        assert.equal(verified.header, answer.provider);
      }
      // Every provider once per round, in a fixed rotation.
      assert.equal(new Set(served.slice(0, 3)).size, 3);
      assert.deepEqual(served.slice(3), served.slice(0, 3));
    });

    test('streaming chats are relayed chunk by chunk, spread over providers, and verify', async () => {
      const openai = client(gateway);
      const providers = new Set<string>();
      for (let index = 0; index < 3; index++) {
        const answer = await streamChat(openai, `stream number ${index} please`);
        providers.add(answer.provider);
        const provider = devnet.providers.find((candidate) => candidate.address === answer.provider);
        assert.ok(provider);
        assert.equal(answer.content, `[${provider.name}] zg-devnet-chat heard: stream number ${index} please`);
        assert.ok(answer.chunks >= 5, `relayed ${answer.chunks} chunks, not one buffered blob`);
        const verified = await verify(gateway, answer.id);
        assert.equal(verified.body.isValid, true);
        assert.equal(verified.body.provider, answer.provider);
      }
      assert.equal(providers.size, 3);
    });

    test('a stream without include_usage gets no usage-only chunk; with it, the usage arrives', async () => {
      const read = async (includeUsage: boolean): Promise<string> => {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'count my tokens' }], stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }),
        });
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
        return response.text();
      };
      const plain = await read(false);
      assert.doesNotMatch(plain, /"usage"/);
      assert.match(plain, /data: \[DONE\]\n\n$/);
      const withUsage = await read(true);
      assert.match(withUsage, /"usage":\{"prompt_tokens":\d+,"completion_tokens":\d+/);
    });

    test('unknown ids get 404 from /v1/verify, OpenAI-style', async () => {
      const verified = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'chatcmpl-does-not-exist' }) });
      assert.equal(verified.status, 404);
      const body = (await verified.json()) as { error: { code: string; type: string; param: string } };
      assert.equal(body.error.code, 'response_not_found');
      assert.equal(body.error.param, 'id');
    });

    test('/health and /admin/providers report every provider with counters', async () => {
      const health = await fetch(`${gateway.url}/health`);
      assert.equal(health.status, 200);
      const body = (await health.json()) as {
        status: string;
        loadBalancer: { totalProviders: number; healthyProviders: number; totalConnections: number; activeSessions: number; providers: Array<{ address: string; isHealthy: boolean; connections: number; endpoint: string; model: string }> };
      };
      assert.equal(body.status, 'healthy');
      assert.equal(body.loadBalancer.totalProviders, 3);
      assert.equal(body.loadBalancer.healthyProviders, 3);
      assert.equal(body.loadBalancer.totalConnections, 0);
      assert.ok(body.loadBalancer.activeSessions >= 9);
      assert.deepEqual(body.loadBalancer.providers.map((provider) => provider.address).sort(), devnet.providers.map((provider) => provider.address).sort());
      for (const provider of body.loadBalancer.providers) assert.match(provider.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/v1\/proxy$/);

      const admin = await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway));
      assert.equal(admin.status, 200);
      const adminBody = (await admin.json()) as { providers: Array<{ served: number; failures: number; inFlight: number; weight: number; latencyMs: { count: number; p50: number | null } }> };
      const served = adminBody.providers.reduce((total, provider) => total + provider.served, 0);
      assert.ok(served >= 11, `served ${served}`);
      for (const provider of adminBody.providers) {
        assert.equal(provider.inFlight, 0);
        assert.equal(provider.weight, 1);
        assert.ok(provider.latencyMs.count > 0 && provider.latencyMs.p50 !== null);
      }
    });

    test('bad input gets the right 4xx with an OpenAI-style error, and the gateway keeps serving', async () => {
      const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; code: string; param: unknown }> => {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers, body });
        const json = (await response.json()) as { error: { code: string; param: unknown; message: string; type: string } };
        assert.equal(typeof json.error.message, 'string');
        assert.equal(typeof json.error.type, 'string');
        return { status: response.status, code: json.error.code, param: json.error.param };
      };
      assert.deepEqual(await post('{"messages": ['), { status: 400, code: 'invalid_json', param: null });
      assert.deepEqual(await post('{}'), { status: 400, code: 'invalid_request', param: 'messages' });
      assert.deepEqual(await post('{"messages": []}'), { status: 400, code: 'invalid_request', param: 'messages' });
      assert.deepEqual(await post('{"messages": [{"role": "user", "content": 5}]}'), { status: 400, code: 'invalid_request', param: 'messages.0.content' });
      assert.deepEqual(await post('{"messages": [{"role": "wizard", "content": "hi"}]}'), { status: 400, code: 'invalid_request', param: 'messages.0.role' });
      assert.deepEqual(await post('{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}'), { status: 400, code: 'invalid_request', param: 'stream' });
      assert.deepEqual(await post('[1, 2, 3]'), { status: 400, code: 'invalid_request', param: null });
      const deep = '{"messages": [{"role": "user", "content": "hi"}], "x": ' + '['.repeat(100) + ']'.repeat(100) + '}';
      assert.deepEqual(await post(deep), { status: 400, code: 'invalid_request', param: null });
      const huge = JSON.stringify({ messages: [{ role: 'user', content: 'a'.repeat(2 * 1024 * 1024) }] });
      assert.deepEqual(await post(huge), { status: 413, code: 'body_too_large', param: null });
      const unknownRoute = await fetch(`${gateway.url}/v1/nothing-here`);
      assert.equal(unknownRoute.status, 404);
      assert.equal(((await unknownRoute.json()) as { error: { code: string } }).error.code, 'not_found');
      const badVerify = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": 7}' });
      assert.equal(badVerify.status, 400);
      // Still serving after all that.
      const answer = await chat(client(gateway), 'still there?');
      assert.match(answer.content, /heard: still there\?$/);
    });

    test('X-Session-Id pins a conversation to the provider of its first answer', async () => {
      const openai = client(gateway);
      const first = await chat(openai, 'turn 1', { 'x-session-id': 'conversation-a' });
      for (let turn = 2; turn <= 5; turn++) {
        const next = await chat(openai, `turn ${turn}`, { 'x-session-id': 'conversation-a' });
        assert.equal(next.provider, first.provider, `turn ${turn} stays on the pinned provider`);
        assert.equal(next.response.headers.get('x-session-repinned'), null);
      }
      const invalid = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-session-id': 'bad id with spaces' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(invalid.status, 400);
    });
  });

  describe('failures', () => {
    let gateway: GatewayHandle;
    before(async () => {
      gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'round-robin', healthCheckInterval: 60_000 }));
    });
    after(async () => {
      for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
      await gateway?.close();
    });

    test('a provider that is down is retried around with no client-visible error', async () => {
      const down = devnet.providers[1];
      assert.ok(down);
      await down.setFault({ mode: 'down' });
      try {
        const openai = client(gateway);
        const served = new Set<string>();
        for (let index = 0; index < 9; index++) {
          const answer = await chat(openai, `survive ${index}`);
          assert.notEqual(answer.provider, down.address);
          served.add(answer.provider);
          const verified = await verify(gateway, answer.id);
          assert.equal(verified.body.isValid, true);
        }
        assert.equal(served.size, 2);
        const health = (await (await fetch(`${gateway.url}/health`)).json()) as { status: string; loadBalancer: { healthyProviders: number } };
        assert.equal(health.status, 'degraded');
        assert.equal(health.loadBalancer.healthyProviders, 2);
      } finally {
        await down.setFault({ mode: 'none' });
      }
    });

    test('a pinned session whose provider goes down is re-pinned to a healthy one, and the response says so', async () => {
      const openai = client(gateway);
      const first = await chat(openai, 'pin me', { 'x-session-id': 'conversation-b' });
      const pinned = devnet.providers.find((provider) => provider.address === first.provider);
      assert.ok(pinned);
      await pinned.setFault({ mode: 'down' });
      try {
        // First request after the fault: the attempt on the pinned provider fails, another answers.
        const moved = await chat(openai, 'still me', { 'x-session-id': 'conversation-b' });
        assert.notEqual(moved.provider, pinned.address);
        assert.equal(moved.response.headers.get('x-session-repinned'), 'true');
        assert.equal(moved.response.headers.get('x-session-previous-provider'), pinned.address);
        const after = await chat(openai, 'and again', { 'x-session-id': 'conversation-b' });
        assert.equal(after.provider, moved.provider, 'the session now sticks to its new provider');
      } finally {
        await pinned.setFault({ mode: 'none' });
      }
    });

    test('every provider failing gives a 502 naming each attempt', async () => {
      // A gateway of its own: fresh breakers, so all three providers are tried.
      const fresh = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { healthCheckInterval: 60_000 }));
      for (const provider of devnet.providers) await provider.setFault({ mode: 'http-error', status: 500 });
      try {
        const response = await fetch(`${fresh.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'anyone?' }] }),
        });
        const body = (await response.json()) as { error: { code: string; message: string; details: { attempts: Array<{ provider: string; code: string }> } } };
        assert.equal(response.status, 502);
        assert.equal(body.error.code, 'all_providers_failed');
        assert.deepEqual(body.error.details.attempts.map((attempt) => attempt.provider).sort(), devnet.providers.map((provider) => provider.address).sort());
        for (const attempt of body.error.details.attempts) {
          assert.equal(attempt.code, 'upstream_error');
          assert.ok(body.error.message.includes(attempt.provider));
        }
      } finally {
        for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
        await fresh.close();
      }
    });
  });

  test('least-connections prefers the idle provider under concurrent load', async () => {
    const gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'least-connections' }));
    const [slow, ...fast] = devnet.providers;
    assert.ok(slow && fast.length === 2);
    try {
      // Every provider answers late, so three concurrent requests are all in flight at once and
      // least-connections gives one to each; the slow one then stays busy for seconds.
      await slow.setFault({ mode: 'delay-first-byte', ms: 4000 });
      for (const provider of fast) await provider.setFault({ mode: 'delay-first-byte', ms: 150 });
      const openai = client(gateway);
      const opening = Promise.all([chat(openai, 'a'), chat(openai, 'b'), chat(openai, 'c')]);
      assert.ok(await waitFor(() => gateway.inFlight() === 3, 1000), 'three in flight');
      assert.ok(await waitFor(() => gateway.inFlight() === 1, 2000), 'only the slow provider is still busy');
      const quick: string[] = [];
      for (let index = 0; index < 8; index++) quick.push((await chat(openai, `quick ${index}`)).provider);
      assert.equal(quick.filter((provider) => provider === slow.address).length, 0, 'the busy provider gets none while the others are idle');
      assert.equal(new Set(quick).size, 2, 'the idle providers share the load');
      const openingAnswers = await opening;
      assert.equal(new Set(openingAnswers.map((answer) => answer.provider)).size, 3, 'the opening three went one to each provider');
      assert.equal(gateway.inFlight(), 0);
    } finally {
      for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
      await gateway.close();
    }
  });

  test('weighted-round-robin follows the weights', async () => {
    const [a, b, c] = devnet.providers;
    assert.ok(a && b && c);
    const gateway = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, { strategy: 'weighted-round-robin', weights: { [a.address]: 3, [b.address]: 2, [c.address]: 1 } }),
    );
    try {
      const openai = client(gateway);
      const counts = new Map<string, number>();
      for (let index = 0; index < 30; index++) {
        const answer = await chat(openai, `w ${index}`);
        counts.set(answer.provider, (counts.get(answer.provider) ?? 0) + 1);
      }
      // Smooth weighted round-robin is exact over whole cycles of 6.
      assert.equal(counts.get(a.address), 15);
      assert.equal(counts.get(b.address), 10);
      assert.equal(counts.get(c.address), 5);
    } finally {
      await gateway.close();
    }
  });

  test('in-flight counts return to 0 after a burst with client aborts', async () => {
    const gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'least-connections' }));
    for (const provider of devnet.providers) await provider.setFault({ mode: 'slow-drip', intervalMs: 30 });
    try {
      const work: Array<Promise<unknown>> = [];
      for (let index = 0; index < 30; index++) {
        const controller = new AbortController();
        const stream = index % 2 === 0;
        work.push(
          fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ messages: [{ role: 'user', content: `burst ${index} with a few words` }], stream }),
            signal: controller.signal,
          })
            .then((response) => response.text())
            .catch((error: unknown) => error),
        );
        // Every third request is abandoned by its client midway.
        if (index % 3 === 0) setTimeout(() => controller.abort(), 40 + (index % 5) * 15);
      }
      await waitFor(() => gateway.inFlight() > 0, 2000);
      await Promise.all(work);
      assert.ok(await waitFor(() => gateway.inFlight() === 0, 5000), `in flight at the end: ${gateway.inFlight()}`);
      const admin = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { totalInFlight: number; providers: Array<{ inFlight: number }> };
      assert.equal(admin.totalInFlight, 0);
      for (const provider of admin.providers) assert.equal(provider.inFlight, 0);
    } finally {
      for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
      await gateway.close();
    }
  });

  test('close() stops accepting and leaves nothing listening; a second close is harmless', async () => {
    const gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet));
    const answer = await chat(client(gateway), 'before close');
    assert.ok(answer.id);
    await gateway.close();
    await gateway.close();
    await assert.rejects(fetch(`${gateway.url}/health`));
  });

  test('options are validated with a typed error naming the field; a taken port rejects with listen_failed', async () => {
    await assert.rejects(
      runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { strategy: 'fastest-first' as 'round-robin' })),
      (error: unknown) => GatewayError.isInstance(error) && error.code === 'invalid_config' && error.param === 'strategy',
    );
    const first = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet));
    try {
      await assert.rejects(
        runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { port: first.port })),
        (error: unknown) => GatewayError.isInstance(error) && error.code === 'listen_failed',
      );
    } finally {
      await first.close();
    }
  });
});

test('a provider that failed to initialise joins the rotation once it can (background retry)', async () => {
  const devnet = await startLocalDevnet({ providers: [{}, { name: 'late', acknowledged: false }] });
  const late = devnet.providers[1];
  assert.ok(late);
  const gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { healthCheckInterval: 100 }));
  try {
    assert.equal(gateway.providers.list().length, 1);
    assert.deepEqual(gateway.failedProviders.map((failure) => [failure.address, failure.code]), [[late.address, 'provider_init_failed']]);
    const before = (await (await fetch(`${gateway.url}/health`)).json()) as { failedProviders: Array<{ address: string }> };
    assert.equal(before.failedProviders[0]?.address, late.address);
    // The contract owner acknowledges its TEE signer; the next health tick brings it in.
    const owner = new Wallet(devnet.ownerPrivateKey, devnet.rpc);
    const inference = new Contract(devnet.contracts.inference, ['function acknowledgeTEESignerByOwner(address provider)'], owner);
    await (await inference.getFunction('acknowledgeTEESignerByOwner')(late.address)).wait();
    assert.ok(await waitFor(() => gateway.providers.list().length === 2, 10_000), 'the late provider joined');
    assert.equal(gateway.failedProviders.length, 0);
    const served = new Set<string>();
    for (let index = 0; index < 4; index++) {
      const answer = await chat(client(gateway), `late ${index}`);
      served.add(answer.provider);
      assert.equal((await verify(gateway, answer.id)).body.isValid, true);
    }
    assert.ok(served.has(late.address), 'the late provider serves');
  } finally {
    await gateway.close();
    await devnet.stop();
  }
});
