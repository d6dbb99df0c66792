import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { DevnetError, gatewayOptionsForDevnet, startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { authorizationFor, postChat } from './helpers/direct-client.js';
import { startDevnetWithAccounts, type SdkUser } from './helpers/sdk-user.js';

async function rpcPost(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  return response.json();
}

describe('counting RPC relay', () => {
  let devnet: LocalDevnet;
  let user: SdkUser;
  let close: () => Promise<void>;

  before(async () => {
    ({ devnet, user, close } = await startDevnetWithAccounts({ providers: 2, countRpcCalls: true }));
  });
  after(async () => {
    await close?.();
  });

  it('puts rpcUrl (and devnet.rpc, and the gateway options) in front of anvil', async () => {
    assert.notEqual(devnet.rpcUrl, devnet.anvilRpcUrl);
    assert.equal(gatewayOptionsForDevnet(devnet).rpc, devnet.rpcUrl);
    devnet.resetRpcCalls();
    assert.deepEqual(devnet.rpcCalls(), {});
    await devnet.rpc.getBlockNumber();
    await devnet.rpc.getBlockNumber();
    assert.deepEqual(devnet.rpcCalls(), { eth_blockNumber: 2 });
    // anvil's own URL is not counted.
    await rpcPost(devnet.anvilRpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
    assert.deepEqual(devnet.rpcCalls(), { eth_blockNumber: 2 });
  });

  it('counts each call of a batch, and relays answers and errors as anvil gives them', async () => {
    devnet.resetRpcCalls();
    const answers = (await rpcPost(devnet.rpcUrl, [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 3, method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 4, method: 'no_suchMethod', params: [] },
    ])) as Array<{ id: number; result?: string; error?: unknown }>;
    assert.equal(answers.length, 4);
    assert.equal(answers.find((answer) => answer.id === 1)?.result, `0x${devnet.chainId.toString(16)}`);
    assert.ok(answers.find((answer) => answer.id === 4)?.error, 'the error comes back');
    assert.deepEqual(devnet.rpcCalls(), { eth_blockNumber: 1, eth_chainId: 2, no_suchMethod: 1 });
  });

  it('counts what the SDK asks, and proves a burst of pre-signed chats makes no chain call from the client side', async () => {
    const provider = devnet.providers[0];
    assert.ok(provider);
    devnet.resetRpcCalls();
    await user.broker.inference.getServiceMetadata(provider.address);
    assert.ok(Object.values(devnet.rpcCalls()).reduce((total, count) => total + count, 0) > 0, 'the SDK read the chain through the relay');

    const wallet = new Wallet(devnet.userPrivateKey);
    const authorization = await authorizationFor(wallet, provider.address);
    devnet.resetRpcCalls();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => postChat(provider, authorization, { stream: index % 2 === 0, messages: [{ role: 'user', content: `burst ${index}` }] }).then((response) => response.status)),
    );
    assert.deepEqual(answers, answers.map(() => 200));
    // The providers' own account reads go to anvil directly: only client traffic is counted.
    assert.deepEqual(devnet.rpcCalls(), {});
  });
});

it('without countRpcCalls, rpcUrl is anvil and counting is refused', async () => {
  const devnet = await startLocalDevnet({ providers: 1 });
  try {
    assert.equal(devnet.rpcUrl, devnet.anvilRpcUrl);
    assert.throws(() => devnet.rpcCalls(), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options');
    assert.throws(() => devnet.resetRpcCalls(), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options');
  } finally {
    await devnet.stop();
  }
});
