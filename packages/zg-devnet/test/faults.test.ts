import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { DevnetError, type DevnetProvider, type LocalDevnet, type ProviderFault } from 'zg-devnet';
import { authorizationFor, postChat, sseData } from './helpers/direct-client.js';
import { startDevnetWithAccounts } from './helpers/sdk-user.js';

describe('hostile and broken provider faults', () => {
  let devnet: LocalDevnet;
  let close: () => Promise<void>;
  let provider: DevnetProvider;
  let wallet: Wallet;

  const ask = async (fault: ProviderFault, stream: boolean, text = 'hello'): Promise<Response> => {
    await provider.setFault(fault);
    return postChat(provider, await authorizationFor(wallet, provider.address), { stream, messages: [{ role: 'user', content: text }] });
  };

  before(async () => {
    ({ devnet, close } = await startDevnetWithAccounts({ providers: 1 }));
    const first = devnet.providers[0];
    assert.ok(first);
    provider = first;
    wallet = new Wallet(devnet.userPrivateKey);
  });
  afterEach(async () => {
    await provider.setFault({ mode: 'none' });
  });
  after(async () => {
    await close?.();
  });

  it('http-error answers any status from 200 to 599, 3xx, 404 and 413 included', async () => {
    for (const status of [302, 404, 413, 503]) {
      await provider.setFault({ mode: 'http-error', status, ...(status === 503 ? { retryAfterSeconds: 7 } : {}) });
      const response = await fetch(`${provider.url}/v1/proxy/chat/completions`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/json', authorization: await authorizationFor(wallet, provider.address) },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, status);
      assert.equal(((await response.json()) as { error: { code: unknown } }).error.code, status);
      if (status === 503) assert.equal(response.headers.get('retry-after'), '7');
    }
    const empty = await ask({ mode: 'http-error', status: 204 }, false);
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), '');
  });

  it('error-body answers 200 with an OpenAI-style error instead of a completion', async () => {
    for (const stream of [false, true]) {
      const response = await ask({ mode: 'error-body' }, stream);
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal((body.error as { code: unknown }).code, 'simulated_provider_error');
    }
  });

  it('no-choices answers a completion (or chunk) without choices', async () => {
    const json = (await (await ask({ mode: 'no-choices' }, false)).json()) as Record<string, unknown>;
    assert.equal(json.object, 'chat.completion');
    assert.ok(json.usage);
    assert.equal('choices' in json, false);
    const events = sseData(await (await ask({ mode: 'no-choices' }, true)).text());
    assert.equal(events.length, 2);
    assert.equal('choices' in (JSON.parse(events[0] as string) as object), false);
    assert.equal(events[1], '[DONE]');
  });

  it('sse-error-event sends the role chunk, then an `event: error` with an error JSON, and ends', async () => {
    const text = await (await ask({ mode: 'sse-error-event' }, true)).text();
    const events = text.split('\n\n').filter(Boolean);
    assert.equal(events.length, 2, text);
    assert.deepEqual((JSON.parse((events[0] as string).slice('data: '.length)) as { choices: Array<{ delta: unknown }> }).choices[0]?.delta, { role: 'assistant', content: '' });
    const [eventLine, dataLine] = (events[1] as string).split('\n');
    assert.equal(eventLine, 'event: error');
    assert.equal((JSON.parse((dataLine as string).slice('data: '.length)) as { error: { code: string } }).error.code, 'simulated_stream_error');
    // JSON chats are served normally under a stream-only fault.
    assert.ok(((await (await ask({ mode: 'sse-error-event' }, false)).json()) as { choices?: unknown }).choices);
  });

  it('fail-after-role sends only the role chunk, then destroys the connection', async () => {
    const response = await ask({ mode: 'fail-after-role' }, true);
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = '';
    const error = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return null;
          received += Buffer.from(value).toString('utf8');
        }
      } catch (caught) {
        return caught;
      }
    })();
    assert.ok(error, 'the body ended with an error, not a clean end');
    assert.deepEqual(sseData(received).map((data) => (JSON.parse(data) as { choices: Array<{ delta: unknown }> }).choices[0]?.delta), [{ role: 'assistant', content: '' }]);
  });

  it('oversized-body answers 200 with a JSON completion of about the asked size', async () => {
    const bytes = 8 * 1024 * 1024;
    const response = await ask({ mode: 'oversized-body', bytes }, false);
    assert.equal(response.status, 200);
    assert.ok(response.headers.get('zg-res-key'));
    const text = await response.text();
    assert.ok(Math.abs(Buffer.byteLength(text) - bytes) < 1024, `received ${Buffer.byteLength(text)} of about ${bytes} bytes`);
    const body = JSON.parse(text) as { object: string; choices: Array<{ message: { content: string } }>; usage: unknown };
    assert.equal(body.object, 'chat.completion');
    assert.ok((body.choices[0]?.message.content.length ?? 0) > bytes - 1024);
    assert.ok(body.usage);
  });

  it('oversized-body is never materialised: with 512 MiB pending and a reader that stopped, memory stays flat', async () => {
    const bytes = 512 * 1024 * 1024;
    await provider.setFault({ mode: 'oversized-body', bytes });
    const authorization = await authorizationFor(wallet, provider.address);
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'huge' }] });
    const { port } = new URL(provider.serverUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const before = process.memoryUsage();
    socket.write(`POST /v1/proxy/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nauthorization: ${authorization}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // Stop reading after the first megabyte: the provider must wait, not buffer 512 MiB.
      if (received > 1024 * 1024) socket.pause();
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const now = process.memoryUsage();
    const grown = now.heapUsed + now.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    socket.destroy();
    assert.ok(received > 1024 * 1024, 'the answer started at once');
    assert.ok(received < 64 * 1024 * 1024, `the client read only ${received} bytes`);
    assert.ok(grown < 64 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB with a 512 MiB answer pending`);
  });

  it('oversized-body in a stream is one huge SSE event between the role chunk and [DONE]', async () => {
    const bytes = 2 * 1024 * 1024;
    const events = sseData(await (await ask({ mode: 'oversized-body', bytes }, true)).text());
    assert.equal(events.length, 4);
    const huge = JSON.parse(events[1] as string) as { choices: Array<{ delta: { content: string } }> };
    assert.ok(Math.abs((events[1] as string).length - bytes) < 1024);
    assert.ok((huge.choices[0]?.delta.content.length ?? 0) > bytes - 1024);
    assert.equal(events[3], '[DONE]');
  });

  it('endless-sse-line keeps sending one data line that never ends, until the client leaves', async () => {
    const controller = new AbortController();
    await provider.setFault({ mode: 'endless-sse-line' });
    const response = await postChat(provider, await authorizationFor(wallet, provider.address), { stream: true, messages: [{ role: 'user', content: 'x' }] }, controller.signal);
    let text = '';
    for await (const chunk of response.body as ReadableStream<Uint8Array>) {
      text += Buffer.from(chunk).toString('utf8');
      if (text.length > 3 * 1024 * 1024) break;
    }
    controller.abort();
    const [role, line] = text.split('\n\n');
    assert.ok(role?.startsWith('data: '));
    assert.ok(line?.startsWith('data: {"id":'));
    assert.equal(line.includes('\n'), false, 'no end of line after 3 MiB');
    // The provider stopped writing for the departed client and still serves.
    await provider.setFault({ mode: 'none' });
    assert.equal((await postChat(provider, await authorizationFor(wallet, provider.address), { messages: [{ role: 'user', content: 'after' }] })).status, 200);
  });

  it('verify-stall never answers the signature route, while chats are served', async () => {
    const served = await ask({ mode: 'verify-stall' }, false);
    assert.equal(served.status, 200);
    const chatId = served.headers.get('zg-res-key');
    await assert.rejects(fetch(`${provider.url}/v1/proxy/signature/${chatId}`, { signal: AbortSignal.timeout(300) }), (error: unknown) => (error as Error).name === 'TimeoutError');
    await provider.setFault({ mode: 'none' });
    assert.equal((await fetch(`${provider.url}/v1/proxy/signature/${chatId}`)).status, 200);
  });

  it('overcharge settles factor × the fees served, and the chain takes it', async () => {
    await ask({ mode: 'overcharge', factor: 3 }, false);
    const served = provider.unsettledFee(devnet.userAddress);
    assert.ok(served > 0n);
    const report = await provider.settle();
    assert.equal(report.results[0]?.totalFee, served * 3n);
    const record = provider.settlements[provider.settlements.length - 1];
    assert.equal(record?.amount, served * 3n);
    assert.equal(record?.servedFee, served);
    assert.equal(record?.status, 0);
    assert.equal(provider.unsettledFee(devnet.userAddress), 0n);
  });

  it('refuses invalid fault parameters', async () => {
    const invalid = [
      { mode: 'http-error', status: 99 },
      { mode: 'http-error', status: 600 },
      { mode: 'oversized-body', bytes: 0 },
      { mode: 'overcharge', factor: 0 },
      { mode: 'slow-drip', intervalMs: -1 },
      { mode: 'no-such-mode' },
    ] as unknown as ProviderFault[];
    for (const fault of invalid) {
      await assert.rejects(provider.setFault(fault), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options', JSON.stringify(fault));
    }
    assert.equal(provider.fault.mode, 'none', 'a refused fault changes nothing');
  });
});
