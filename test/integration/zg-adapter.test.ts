import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Contract, hexlify, parseEther, randomBytes, Wallet } from 'ethers';
import pino from 'pino';
import {
  GatewayError,
  UpstreamHttpClient,
  ZgNetwork,
  type ChatCompletionRequest,
  type ProviderJsonResult,
  type UpstreamCall,
  type ProviderStreamResult,
  type TokenUsage,
  type ZgNetworkOptions,
  type ZgProvider,
} from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';

const silentLogger = pino({ level: 'silent' });

const GET_LEDGER =
  'function getLedger(address user) view returns (tuple(address user, uint256 availableBalance, uint256 totalBalance, string additionalInfo))';
const GET_ACCOUNT =
  'function getAccount(address user, address provider) view returns (tuple(address user,address provider,uint256 nonce,uint256 balance,uint256 pendingRefund,tuple(uint256 index,uint256 amount,uint256 createdAt,bool processed)[] refunds,string additionalInfo,bool acknowledged,uint256 validRefundsLength,uint256 generation,uint256 revokedBitmap))';

interface StreamChunk {
  id?: string;
  choices?: Array<{ delta?: { content?: unknown; role?: unknown }; finish_reason?: string | null }>;
  usage?: TokenUsage;
}

function messageContent(body: Record<string, unknown>): string {
  const choices = body.choices as Array<{ message?: { content?: unknown } }> | undefined;
  const content = choices?.[0]?.message?.content;
  return typeof content === 'string' ? content : '';
}

/** A JSON answer with its body parsed (the adapter keeps the provider's bytes as they came). */
interface JsonAnswer extends ProviderJsonResult {
  body: Record<string, unknown>;
  usage: TokenUsage | undefined;
}

function asJson(result: Awaited<ReturnType<ZgProvider['chat']>>): JsonAnswer {
  assert.equal(result.kind, 'json');
  const json = result as ProviderJsonResult;
  return { ...json, body: JSON.parse(json.bytes.toString('utf8')) as Record<string, unknown>, usage: json.facts.usage };
}

function asStream(result: Awaited<ReturnType<ZgProvider['chat']>>): ProviderStreamResult {
  assert.equal(result.kind, 'stream');
  return result as ProviderStreamResult;
}

/** Reads a stream result to its end: the assembled content, every parsed chunk. */
async function drain(result: ProviderStreamResult): Promise<{ content: string; chunks: StreamChunk[] }> {
  const chunks: StreamChunk[] = [];
  let content = '';
  for (let next = await result.events.next(); !next.done; next = await result.events.next()) {
    const chunk = next.value.json as StreamChunk;
    chunks.push(chunk);
    for (const choice of chunk.choices ?? []) {
      if (typeof choice.delta?.content === 'string') content += choice.delta.content;
    }
  }
  return { content, chunks };
}

/** Asserts `promise` rejects with a GatewayError and returns it. */
async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `expected a GatewayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

/** A chat as the gateway sends it: the model chosen (the devnet providers' model), the body final. */
const ask = (text: string, extra: Partial<ChatCompletionRequest> = {}): UpstreamCall => ({
  route: 'chat',
  body: {
    model: 'zg-devnet-chat',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: text },
    ],
    ...extra,
  },
});

const MODEL = 'zg-devnet-chat';

const timeout = (): AbortSignal => AbortSignal.timeout(10_000);

describe('0G adapter (ZgNetwork / ZgProvider) against the local devnet', () => {
  let devnet: LocalDevnet | undefined;
  let network: ZgNetwork | undefined;
  const otherNetworks: ZgNetwork[] = [];
  const client = new UpstreamHttpClient();
  const adapters: ZgProvider[] = [];

  const dev = (): LocalDevnet => {
    assert.ok(devnet, 'the devnet did not start');
    return devnet;
  };
  const net = (): ZgNetwork => {
    assert.ok(network, 'the network did not connect');
    return network;
  };
  const simulated = (index: number): DevnetProvider => {
    const provider = dev().providers[index];
    assert.ok(provider, `no devnet provider ${index}`);
    return provider;
  };
  const adapter = (index: number): ZgProvider => {
    const provider = adapters[index];
    assert.ok(provider, `provider ${index} was not initialised`);
    return provider;
  };
  const networkOptions = (privateKey: string, extra: Partial<ZgNetworkOptions> = {}): ZgNetworkOptions => ({
    privateKey,
    rpcUrl: dev().rpcUrl,
    chainId: dev().chainId,
    contracts: dev().contracts,
    gasPrice: 1e9,
    rpcPollingIntervalMs: 20,
    ...extra,
  });

  before(async () => {
    devnet = await startLocalDevnet({ providers: [{}, {}, {}, { name: 'unacknowledged', acknowledged: false }] });
    network = await ZgNetwork.connect(networkOptions(devnet.userPrivateKey), silentLogger);
    for (const provider of devnet.providers.slice(0, 3)) {
      adapters.push(await network.initProvider(provider.address, client));
    }
  });

  after(async () => {
    for (const other of otherNetworks) await other.close().catch(() => undefined);
    await network?.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    await devnet?.stop();
  });

  it('initialises each acknowledged provider with its on-chain endpoint and model', async () => {
    assert.equal(adapters.length, 3);
    assert.equal(net().walletAddress.toLowerCase(), dev().userAddress.toLowerCase());
    for (const [index, provider] of adapters.entries()) {
      const devProvider = simulated(index);
      assert.equal(provider.descriptor.address.toLowerCase(), devProvider.address.toLowerCase());
      assert.equal(provider.descriptor.kind, 'zg');
      assert.equal(provider.descriptor.verifiable, true);
      assert.equal(provider.descriptor.endpoint, `${devProvider.url}/v1/proxy`);
      assert.equal(provider.descriptor.models[0]?.id, devProvider.model);
      assert.equal(provider.descriptor.models[0]?.inputPrice, devProvider.inputPrice, 'the on-chain prices');
      assert.equal(provider.descriptor.verifiability, 'TeeML');
      // Initialising again hands back the same instance.
      assert.equal(await net().initProvider(devProvider.address, client), provider);
    }
  });

  it('each provider answers a JSON chat with its own reply, chat id and usage', async () => {
    for (const [index, provider] of adapters.entries()) {
      const devProvider = simulated(index);
      const servedBefore = devProvider.stats.served;
      const text = `json question for ${devProvider.name}`;
      const result = asJson(await provider.chat(ask(text), { signal: timeout() }));
      const content = messageContent(result.body);
      assert.equal(content, `[${devProvider.name}] ${devProvider.model} heard: ${text}`);
      assert.match(result.chatId, /^chatcmpl-[0-9a-f]+$/);
      assert.equal(result.body.id, result.chatId);
      assert.equal(result.body.model, devProvider.model);
      assert.ok(result.usage, 'usage present');
      assert.ok(result.usage.prompt_tokens > 0);
      assert.equal(result.usage.completion_tokens, content.split(' ').length);
      assert.equal(result.usage.total_tokens, result.usage.prompt_tokens + result.usage.completion_tokens);
      assert.equal(devProvider.stats.served, servedBefore + 1, 'the request reached this provider');
    }
  });

  it('each provider streams a chat that assembles to the JSON reply, with usage in the last chunk', async () => {
    for (const [index, provider] of adapters.entries()) {
      const devProvider = simulated(index);
      const text = `stream question for ${devProvider.name}`;
      const json = asJson(await provider.chat(ask(text), { signal: timeout() }));
      const stream = asStream(await provider.chat(ask(text, { stream: true }), { signal: timeout() }));
      assert.ok(stream.chatId, 'chat id from the ZG-Res-Key header');
      assert.notEqual(stream.chatId, json.chatId);
      const { content, chunks } = await drain(stream);
      assert.equal(content, messageContent(json.body));
      assert.ok(content.includes(`[${devProvider.name}]`));
      assert.ok(chunks.length > 3, 'several chunks');
      for (const chunk of chunks) assert.equal(chunk.id, stream.chatId);
      const last = chunks[chunks.length - 1];
      assert.ok(last?.usage, 'the last chunk carries usage');
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, json.usage, 'same counts as the JSON answer');
      assert.equal(chunks.filter((chunk) => chunk.usage !== undefined).length, 1, 'usage only once');
      assert.ok(chunks.some((chunk) => chunk.choices?.[0]?.finish_reason === 'stop'));
      assert.equal(await provider.verify(stream.chatId, MODEL, timeout()), 'valid', 'a streamed response verifies too');
    }
  });

  it('verify: true for a genuine response, false for a forged signature or an unknown chat id', async () => {
    const provider = adapter(0);
    const devProvider = simulated(0);
    const genuine = asJson(await provider.chat(ask('genuine'), { signal: timeout() }));
    assert.equal(await provider.verify(genuine.chatId, MODEL, timeout()), 'valid');

    await devProvider.setFault({ mode: 'bad-signature' });
    let forged: JsonAnswer;
    try {
      forged = asJson(await provider.chat(ask('forged'), { signal: timeout() }));
    } finally {
      await devProvider.setFault({ mode: 'none' });
    }
    assert.ok(messageContent(forged.body).includes('forged'), 'the forged response was served normally');
    assert.equal(await provider.verify(forged.chatId, MODEL, timeout()), 'invalid');
    // Still false once the fault is gone: the signature belongs to the response.
    assert.equal(await provider.verify(forged.chatId, MODEL, timeout()), 'invalid');

    assert.equal(await provider.verify('chatcmpl-does-not-exist', MODEL, timeout()), 'unsigned');
    assert.equal(await provider.verify(genuine.chatId, MODEL, timeout()), 'valid', 'the genuine one still verifies');
    // A chat id served by another provider is unknown here.
    const elsewhere = asJson(await adapter(1).chat(ask('elsewhere'), { signal: timeout() }));
    assert.equal(await provider.verify(elsewhere.chatId, MODEL, timeout()), 'unsigned', 'another provider never signed it');
  });

  it('verify rejects with verify_unavailable when the provider cannot be asked', async () => {
    const provider = adapter(2);
    const devProvider = simulated(2);
    const served = asJson(await provider.chat(ask('then down'), { signal: timeout() }));
    await devProvider.setFault({ mode: 'down' });
    try {
      const error = await rejection(provider.verify(served.chatId, MODEL, AbortSignal.timeout(5000)));
      assert.equal(error.code, 'verify_unavailable');
    } finally {
      await devProvider.setFault({ mode: 'none' });
    }
    assert.equal(await provider.verify(served.chatId, MODEL, timeout()), 'valid', 'verifies once the provider is back');
  });

  it('refusing an unacknowledged provider moves no funds into its sub-account', async () => {
    const unacknowledged = simulated(3);
    const ledger = new Contract(dev().contracts.ledger, [GET_LEDGER], dev().rpc);
    const inference = new Contract(dev().contracts.inference, [GET_ACCOUNT], dev().rpc);
    const available = async (): Promise<bigint> => {
      const raw: unknown = await ledger.getFunction('getLedger').staticCall(dev().userAddress);
      return (raw as { availableBalance: bigint }).availableBalance;
    };
    const availableBefore = await available();
    const error = await rejection(net().initProvider(unacknowledged.address, client));
    assert.equal(error.code, 'provider_init_failed');
    const availableAfter = await available();
    let subAccountBalance = 0n;
    try {
      const raw: unknown = await inference.getFunction('getAccount').staticCall(dev().userAddress, unacknowledged.address);
      subAccountBalance = (raw as { balance: bigint }).balance;
    } catch {
      // AccountNotExists: nothing was transferred.
    }
    assert.equal(
      availableAfter,
      availableBefore,
      `the ledger paid ${availableBefore - availableAfter} neuron into the sub-account of a provider it refuses (sub-account balance ${subAccountBalance})`,
    );
    assert.equal(subAccountBalance, 0n);
  });

  it('an unacknowledged provider fails initProvider with provider_init_failed, the others keep working', async () => {
    const unacknowledged = simulated(3);
    assert.equal(unacknowledged.name, 'unacknowledged');
    const error = await rejection(net().initProvider(unacknowledged.address, client));
    assert.equal(error.code, 'provider_init_failed');
    assert.ok(error.message.includes(unacknowledged.address), error.message);
    for (const provider of adapters) {
      const result = asJson(await provider.chat(ask('still there?'), { signal: timeout() }));
      assert.ok(messageContent(result.body).includes('still there?'));
    }
  });

  it('an unknown provider address fails initProvider with a typed error', async () => {
    const stranger = new Wallet(hexlify(randomBytes(32))).address;
    const error = await rejection(net().initProvider(stranger, client));
    // Not registered on chain: the contract reverts ServiceNotExist while the service is read.
    assert.ok(['provider_init_failed', 'chain_error'].includes(error.code), error.code);
    assert.ok(error.message.includes(stranger), error.message);
  });

  it('a wallet without a ledger: connect rejects with insufficient_funds; with ledgerDeposit it works', async () => {
    const wallet = new Wallet(hexlify(randomBytes(32)));
    await dev().rpc.send('anvil_setBalance', [wallet.address, `0x${parseEther('100').toString(16)}`]);

    const error = await rejection(ZgNetwork.connect(networkOptions(wallet.privateKey), silentLogger));
    assert.equal(error.code, 'insufficient_funds');
    assert.ok(!error.message.includes(wallet.privateKey.slice(2)), 'the key is never in a message');

    const funded = await ZgNetwork.connect(networkOptions(wallet.privateKey, { ledgerDeposit: 10 }), silentLogger);
    otherNetworks.push(funded);
    assert.equal(funded.walletAddress, wallet.address);
    const ledger = new Contract(dev().contracts.ledger, [GET_LEDGER], dev().rpc);
    const raw: unknown = await ledger.getFunction('getLedger').staticCall(wallet.address);
    assert.equal((raw as { totalBalance: bigint }).totalBalance, parseEther('10'), 'a 10 0G ledger was created');

    const devProvider = simulated(1);
    const provider = await funded.initProvider(devProvider.address, client);
    const result = asJson(await provider.chat(ask('from a new wallet'), { signal: timeout() }));
    assert.ok(messageContent(result.body).includes('from a new wallet'));
    assert.ok(devProvider.unsettledFee(wallet.address) > 0n, 'the fee is charged to the new wallet');
    assert.equal(await provider.verify(result.chatId, MODEL, timeout()), 'valid');
    await funded.close();
  });

  it('an invalid private key is rejected with invalid_config', async () => {
    const error = await rejection(ZgNetwork.connect(networkOptions('0x1234'), silentLogger));
    assert.equal(error.code, 'invalid_config');
  });

  it('chat errors are typed: 503, 429 with Retry-After, down, 401', async () => {
    const provider = adapter(1);
    const devProvider = simulated(1);
    try {
      await devProvider.setFault({ mode: 'http-error', status: 503 });
      const unavailable = await rejection(provider.chat(ask('503'), { signal: timeout() }));
      assert.equal(unavailable.code, 'upstream_error');
      assert.equal(unavailable.retryable, true);
      assert.equal(unavailable.upstreamStatus, 503);

      await devProvider.setFault({ mode: 'http-error', status: 429, retryAfterSeconds: 2 });
      const limited = await rejection(provider.chat(ask('429'), { signal: timeout() }));
      assert.equal(limited.code, 'upstream_rate_limited');
      assert.equal(limited.retryAfterMs, 2000);
      assert.equal(limited.retryable, true);

      await devProvider.setFault({ mode: 'reject-auth' });
      const rejected = await rejection(provider.chat(ask('401'), { signal: timeout() }));
      assert.equal(rejected.code, 'upstream_auth_rejected');

      await devProvider.setFault({ mode: 'down' });
      const down = await rejection(provider.chat(ask('down'), { signal: timeout() }));
      assert.equal(down.code, 'upstream_unreachable');
      assert.equal(down.retryable, true);
      const probe = await rejection(provider.probe(AbortSignal.timeout(5000)));
      assert.equal(probe.code, 'upstream_unreachable');
    } finally {
      await devProvider.setFault({ mode: 'none' });
    }
    await provider.probe(AbortSignal.timeout(5000));
    const recovered = asJson(await provider.chat(ask('recovered'), { signal: timeout() }));
    assert.ok(messageContent(recovered.body).includes('recovered'));
  });

  it('an aborted signal rejects with its reason (before sending and in flight)', async () => {
    const provider = adapter(0);
    const devProvider = simulated(0);

    const before = new AbortController();
    before.abort(new GatewayError('shutting_down', 'closing'));
    const early = await rejection(provider.chat(ask('too late'), { signal: before.signal }));
    assert.equal(early.code, 'shutting_down');
    assert.equal(early, before.signal.reason);

    await devProvider.setFault({ mode: 'stall' });
    try {
      const inFlight = new AbortController();
      const reason = new GatewayError('upstream_timeout', 'no first byte in time', { retryable: true });
      const started = performance.now();
      const timer = setTimeout(() => inFlight.abort(reason), 150);
      const error = await rejection(provider.chat(ask('stalled'), { signal: inFlight.signal }));
      clearTimeout(timer);
      assert.equal(error, reason);
      assert.equal(error.code, 'upstream_timeout');
      assert.ok(performance.now() - started < 3000, 'rejected promptly after the abort');

      const plain = new AbortController();
      setTimeout(() => plain.abort(), 50);
      const closed = await rejection(provider.chat(ask('stalled, no reason'), { signal: plain.signal }));
      assert.equal(closed.code, 'client_closed_request');
    } finally {
      await devProvider.setFault({ mode: 'none' });
    }
  });

  it('close() closes cleanly, is idempotent, and refuses new providers afterwards', async () => {
    const closing = net();
    await closing.close();
    await closing.close();
    const error = await rejection(closing.initProvider(simulated(0).address, client));
    assert.equal(error.code, 'shutting_down');
    network = undefined;
  });
});
