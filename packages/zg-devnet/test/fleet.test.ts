import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseMultiModelInfo } from '@0gfoundation/0g-compute-ts-sdk';
import { DevnetError, startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { InferenceReader, sseData } from './helpers/direct-client.js';
import { connectSdkUser, messageContent, openAccount, sdkChat, waitFor, type SdkUser } from './helpers/sdk-user.js';

describe('fleet changes at run time', () => {
  let devnet: LocalDevnet;
  let chain: InferenceReader;
  const users: SdkUser[] = [];
  /** A fresh SDK broker: the SDK caches a service for 10 minutes, so a new one sees the chain as it is now. */
  const freshUser = async (): Promise<SdkUser> => {
    const user = await connectSdkUser(devnet);
    users.push(user);
    return user;
  };

  before(async () => {
    devnet = await startLocalDevnet({ providers: 1 });
    chain = new InferenceReader(devnet);
  });

  after(async () => {
    for (const user of users) user.close();
    await devnet?.stop();
  });

  let newcomer: DevnetProvider;

  it('addProvider stakes, registers and acknowledges a new provider that then serves through the SDK', async () => {
    newcomer = await devnet.addProvider({ name: 'newcomer' });
    assert.deepEqual(devnet.providers.map((provider) => provider.name), ['provider-1', 'newcomer']);
    const service = await chain.service(newcomer.address);
    assert.equal(service.url, newcomer.url);
    assert.equal(newcomer.url, newcomer.serverUrl);
    assert.equal(service.teeSignerAcknowledged, true);
    assert.equal(service.teeSignerAddress, newcomer.signerAddress);
    const user = await freshUser();
    await openAccount(user, newcomer.address);
    const answer = await sdkChat(user, newcomer.address, { messages: [{ role: 'user', content: 'welcome' }] });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(messageContent(answer.body), '[newcomer] zg-devnet-chat heard: welcome');
    assert.equal(await user.broker.inference.processResponse(newcomer.address, answer.chatId, JSON.stringify(answer.body.usage)), true);
  });

  it('addProvider({ acknowledged: false }) leaves the signer unacknowledged until acknowledgeSigner', async () => {
    const late = await devnet.addProvider({ acknowledged: false });
    assert.equal(late.name, 'provider-3', 'default names count every provider created');
    assert.equal((await chain.service(late.address)).teeSignerAcknowledged, false);
    await devnet.acknowledgeSigner(late.address);
    assert.equal((await chain.service(late.address)).teeSignerAcknowledged, true);
  });

  it('updateService changes prices on chain, keeps the signer acknowledged, and bills the new price', async () => {
    await newcomer.updateService({ inputPrice: 3_000_000_000n, outputPrice: 4_000_000_000n });
    const service = await chain.service(newcomer.address);
    assert.equal(service.inputPrice, 3_000_000_000n);
    assert.equal(service.outputPrice, 4_000_000_000n);
    assert.equal(service.teeSignerAcknowledged, true, 'the owner re-acknowledged the same signer');
    assert.equal(newcomer.inputPrice, 3_000_000_000n);
    const user = await freshUser();
    const before = newcomer.unsettledFee(devnet.userAddress);
    const answer = await sdkChat(user, newcomer.address, { messages: [{ role: 'user', content: 'new prices' }] });
    const usage = answer.body.usage as { prompt_tokens: number; completion_tokens: number };
    assert.equal(newcomer.unsettledFee(devnet.userAddress) - before, BigInt(usage.prompt_tokens) * 3_000_000_000n + BigInt(usage.completion_tokens) * 4_000_000_000n);
  });

  it('updateService switches between multi-model and single-model, and announces another URL', async () => {
    await newcomer.updateService({ models: [{ id: 'm-one', inputPrice: 1n, outputPrice: 2n }, { id: 'm-two', inputPrice: 3n, outputPrice: 4n }] });
    let service = await chain.service(newcomer.address);
    assert.equal(parseMultiModelInfo(service.additionalInfo).multiModel, true);
    assert.equal(service.model, 'm-one');
    const catalog = await (await freshUser()).broker.inference.getProviderModels(newcomer.address);
    assert.deepEqual(catalog.models.map((model) => model.id), ['m-one', 'm-two']);

    await newcomer.updateService({ model: 'solo' });
    service = await chain.service(newcomer.address);
    assert.equal(parseMultiModelInfo(service.additionalInfo).multiModel, false);
    assert.equal(service.model, 'solo');
    assert.equal(service.inputPrice, 1n, 'the default model keeps its price');
    assert.deepEqual(newcomer.models.map((model) => model.id), ['solo']);

    const elsewhere = 'http://127.0.0.1:9/moved';
    await newcomer.updateService({ url: elsewhere });
    assert.equal((await chain.service(newcomer.address)).url, elsewhere);
    assert.equal(newcomer.url, elsewhere);
    assert.notEqual(newcomer.serverUrl, elsewhere, 'the server stays where it listens');
    await newcomer.updateService({ url: newcomer.serverUrl });
    assert.equal((await chain.service(newcomer.address)).url, newcomer.serverUrl);
    await assert.rejects(newcomer.updateService({ url: 'not a url' }), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options');
  });

  it('a rotated TEE signer is not acknowledged: the SDK refuses its answers until acknowledgeSigner', async () => {
    const user = await freshUser();
    const before = await sdkChat(user, newcomer.address, { messages: [{ role: 'user', content: 'signed by the old key' }] });
    const oldSigner = newcomer.signerAddress;
    await newcomer.updateService({ rotateSigner: true });
    assert.notEqual(newcomer.signerAddress, oldSigner);
    const service = await chain.service(newcomer.address);
    assert.equal(service.teeSignerAddress, newcomer.signerAddress);
    assert.equal(service.teeSignerAcknowledged, false);

    const rotated = await freshUser();
    const after = await sdkChat(rotated, newcomer.address, { messages: [{ role: 'user', content: 'signed by the new key' }] });
    assert.equal(after.status, 200, after.text);
    const usage = JSON.stringify(after.body.usage);
    assert.equal(await rotated.broker.inference.processResponse(newcomer.address, after.chatId, usage), false, 'unacknowledged signer');

    await devnet.acknowledgeSigner(newcomer);
    const acknowledged = await freshUser();
    assert.equal(await acknowledged.broker.inference.processResponse(newcomer.address, after.chatId, usage), true, 'the new key verifies once acknowledged');
    assert.equal(await acknowledged.broker.inference.processResponse(newcomer.address, before.chatId, JSON.stringify(before.body.usage)), false, 'an answer of the old key does not');
  });

  it('leave() removes the service on chain, lets the stream in flight finish, then stops the server', async () => {
    await newcomer.setFault({ mode: 'slow-drip', intervalMs: 60 });
    const user = await freshUser();
    const { endpoint } = await user.broker.inference.getServiceMetadata(newcomer.address);
    const headers = (await user.broker.inference.getRequestHeaders(newcomer.address)) as unknown as Record<string, string>;
    const response = await fetch(`${endpoint}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'a stream that outlives the service' }] }),
    });
    assert.equal(response.status, 200);
    const streamed = response.text();
    const leaving = newcomer.leave();
    assert.ok(await waitFor(() => newcomer.left, 5000), 'the service was removed');
    assert.equal(await chain.exists(newcomer.address), false);
    assert.deepEqual(devnet.providers.map((provider) => provider.name), ['provider-1', 'provider-3']);
    await assert.rejects(fetch(`${newcomer.serverUrl}/healthz`, { signal: AbortSignal.timeout(2000) }), 'no new connections while draining');
    const events = sseData(await streamed);
    assert.equal(events[events.length - 1], '[DONE]', 'the stream in flight completed');
    await leaving;
    await assert.rejects(fetch(`${newcomer.serverUrl}/healthz`, { signal: AbortSignal.timeout(2000) }));
    await assert.rejects(newcomer.updateService({ inputPrice: 1n }), (error: unknown) => DevnetError.isInstance(error) && error.code === 'stopped');
    const listed = await (await freshUser()).broker.inference.listService(0, 50, true);
    assert.deepEqual(listed.map((entry) => entry.provider).sort(), devnet.providers.map((provider) => provider.address).sort());
  });
});
