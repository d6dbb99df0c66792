import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { CODE_POINTS_PER_PIECE, type DevnetProvider, type LocalDevnet, type ProviderFault } from 'zg-devnet';
import { authorizationFor, postChat, sseData } from './helpers/direct-client.js';
import { startDevnetWithAccounts } from './helpers/sdk-user.js';

/** Long text without spaces (CJK), emoji with skin tone and ZWJ sequences, combining accents. */
const HARD_TEXT = `${'你好世界，零知识证明'.repeat(8)} 👍🏽👨‍👩‍👧${'e\u0301'.repeat(20)} ok`;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface Chunk {
  choices: Array<{ delta?: { content?: string } }>;
  usage?: { completion_tokens: number };
}

/** Reads a body keeping every piece as it arrived. */
async function arrivals(response: Response): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  for await (const chunk of response.body as ReadableStream<Uint8Array>) pieces.push(chunk);
  return pieces;
}

/** True when these bytes are not valid UTF-8 on their own (a character cut in two). */
function cutsACharacter(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

describe('replies that exercise encodings', () => {
  let devnet: LocalDevnet;
  let close: () => Promise<void>;
  let provider: DevnetProvider;
  let wallet: Wallet;
  const expected = (): string => `[${provider.name}] ${provider.model} heard: ${HARD_TEXT}`;
  const ask = async (stream: boolean, fault: ProviderFault = { mode: 'none' }): Promise<Response> => {
    await provider.setFault(fault);
    return postChat(provider, await authorizationFor(wallet, provider.address), { stream, stream_options: { include_usage: true }, messages: [{ role: 'user', content: HARD_TEXT }] });
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

  it('streams text without spaces in many chunks of at most 16 code points, never splitting a surrogate pair', async () => {
    const events = sseData(await (await ask(true)).text()).filter((data) => data !== '[DONE]').map((data) => JSON.parse(data) as Chunk);
    const contents = events.map((event) => event.choices[0]?.delta?.content).filter((content): content is string => typeof content === 'string' && content !== '');
    assert.equal(contents.join(''), expected());
    const longestRun = Math.max(...expected().split(' ').map((word) => Array.from(word).length));
    assert.ok(contents.length >= Math.ceil(longestRun / CODE_POINTS_PER_PIECE) + 4, `${contents.length} chunks`);
    for (const content of contents) {
      assert.ok(Array.from(content.trimStart()).length <= CODE_POINTS_PER_PIECE, JSON.stringify(content));
      assert.doesNotMatch(content, LONE_SURROGATE);
    }
    const usage = events.find((event) => event.usage)?.usage;
    assert.equal(usage?.completion_tokens, contents.length, 'one token per piece');
  });

  it('answers the same text in JSON, with the same token count', async () => {
    const body = (await (await ask(false)).json()) as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
    assert.equal(body.choices[0]?.message.content, expected());
    const streamed = sseData(await (await ask(true)).text()).filter((data) => data !== '[DONE]').map((data) => JSON.parse(data) as Chunk);
    assert.equal(body.usage.completion_tokens, streamed.find((event) => event.usage)?.usage?.completion_tokens);
  });

  for (const stream of [false, true]) {
    it(`byte-drip sends the whole ${stream ? 'SSE' : 'JSON'} answer a byte at a time, cutting UTF-8 characters between packets`, async () => {
      const served = provider.stats.served;
      const pieces = await arrivals(await ask(stream, { mode: 'byte-drip' }));
      const whole = Buffer.concat(pieces);
      assert.ok(pieces.length > whole.length / 4, `${pieces.length} arrivals for ${whole.length} bytes`);
      assert.ok(pieces.some(cutsACharacter), 'at least one arrival ends inside a multibyte character');
      const text = whole.toString('utf8');
      if (stream) {
        const events = sseData(text);
        assert.equal(events[events.length - 1], '[DONE]');
        const content = events.slice(0, -1).map((data) => (JSON.parse(data) as Chunk).choices[0]?.delta?.content ?? '').join('');
        assert.equal(content, expected());
      } else {
        assert.equal((JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content, expected());
      }
      assert.equal(provider.stats.served, served + 1, 'a dripped answer is served and billed');
    });
  }
});
