import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

/** Responses conversations shared through Redis: stored by one instance, continued and read through another. */

const KEY = 'zgk-shared-0123456789abcdef';
let redis: TestRedis;
let upstreams: HostileUpstream[] = [];
const instances: GatewayHandle[] = [];

before(async () => {
  redis = await startTestRedis();
  upstreams = await Promise.all(['up-a', 'up-b', 'up-c'].map((name) => startHostileUpstream(name)));
  for (let index = 0; index < 2; index++) {
    instances.push(
      await runMultiProviderInferenceServer(
        {
          openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl, model: 'm' })),
          apiKeys: [{ id: 'shared', key: KEY }],
          store: { type: 'redis', url: redis.url, prefix: 'responses-test' },
          healthCheckInterval: 600_000,
          port: 0,
        },
        { logger: silentLogger },
      ),
    );
  }
});

after(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all(upstreams.map((upstream) => upstream.close()));
  await redis?.stop();
});

test('a conversation started on one instance continues on the other, on the same provider; GET works on either', async () => {
  const clients = instances.map((instance) => new OpenAI({ baseURL: `${instance.url}/v1`, apiKey: KEY, maxRetries: 0 }));
  const providers: string[] = [];
  let previous: string | undefined;
  for (const [turn, word] of ['one', 'two', 'three'].entries()) {
    const client = clients[turn % 2] as OpenAI;
    const { data, response } = await client.responses.create({ model: 'm', input: word, ...(previous ? { previous_response_id: previous } : {}) }).withResponse();
    providers.push(response.headers.get('x-provider-address') ?? '');
    previous = data.id;
  }
  assert.equal(new Set(providers).size, 1, providers.join(', '));
  for (const client of clients) {
    const fetched = await client.responses.retrieve(previous ?? '');
    assert.equal(fetched.id, previous);
    assert.equal(fetched.previous_response_id !== null, true);
  }
});
