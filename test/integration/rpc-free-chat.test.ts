import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions } from '../helpers/devnet-gateway.js';

/**
 * No chain call on the request path: a JSON-RPC relay in front of anvil counts every call the
 * gateway makes; during a burst of chats (JSON and streams, several providers) it must see none.
 * The background work that does read the chain (auto-funding, the funds check, health probes,
 * billing) is set far apart here so that only the request path is measured.
 */
describe('steady-state chats make no JSON-RPC call', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;

  before(async () => {
    devnet = await startLocalDevnet({ providers: 2, countRpcCalls: true });
    gateway = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, {
        autoFundingInterval: 3_600_000,
        healthCheckInterval: 3_600_000,
        verifySampleRate: 0,
        funding: { checkIntervalMs: 3_600_000 },
        billing: { reconcileInterval: 3_600_000 },
      }),
    );
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  async function chat(content: string, stream: boolean): Promise<void> {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: devnet.providers[0]?.model, stream, messages: [{ role: 'user', content }] }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    if (stream) assert.match(text, /data: \[DONE\]\n\n$/);
  }

  test('40 chats over two providers: 0 calls through the relay', async (t) => {
    // Warm: the first answers may finish background work started at start-up.
    for (let index = 0; index < 4; index++) await chat(`warm ${index}`, index % 2 === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startUp = Object.values(devnet.rpcCalls()).reduce((sum, count) => sum + count, 0);
    assert.ok(startUp > 0, 'the relay counts: start-up (ledger, services, acknowledgements) went through it');
    devnet.resetRpcCalls();
    await Promise.all(Array.from({ length: 40 }, (_, index) => chat(`burst ${index}`, index % 3 === 0)));
    const calls = devnet.rpcCalls();
    t.diagnostic(`JSON-RPC calls during 40 chats: ${JSON.stringify(calls)}`);
    assert.deepEqual(calls, {}, 'no chain call on the request path');
    assert.equal(gateway.inFlight(), 0);
  });
});
