import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayHandle, GatewayOptions } from 'zg-gateway';
import { adminView, besideHonest, type HostilePair } from '../helpers/hostile-pair.js';
import { startHostileUpstream, type HostileUpstream, type UpstreamMode } from '../helpers/hostile-upstream.js';

interface Answer {
  status: number;
  provider: string | null;
  text: string;
  json: { error?: { code: string; message: string }; choices?: Array<{ message: { content: string } }> } | undefined;
}

async function post(gateway: GatewayHandle, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    json = undefined;
  }
  return { status: response.status, provider: response.headers.get('x-provider-address'), text, json };
}

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });

/** The gateway in front of one hostile and one honest upstream. */
const pair = async (mode: UpstreamMode, options: Partial<GatewayOptions> = {}): Promise<HostilePair<HostileUpstream>> => besideHonest(await startHostileUpstream('bad', mode), options);

describe('provider-side failures are the provider\'s: excluded, counted, retried elsewhere', () => {
  const cases: Array<[string, UpstreamMode, string]> = [
    ['404 model not found', { kind: 'status', status: 404, body: '{"error":{"message":"The model `m` does not exist","code":"model_not_found"}}' }, 'upstream_model_unavailable'],
    ['404 on the route', { kind: 'status', status: 404, body: '{"error":{"message":"no route"}}' }, 'upstream_error'],
    ['301 redirect', { kind: 'status', status: 301, headers: { location: 'http://elsewhere.invalid/' } }, 'upstream_error'],
    ['413 payload too large', { kind: 'status', status: 413 }, 'upstream_error'],
    ['200 with an error object', { kind: 'error-body' }, 'upstream_error'],
    ['200 without choices', { kind: 'no-choices' }, 'upstream_error'],
  ];
  for (const [name, mode, code] of cases) {
    test(`${name}: every client request succeeds on the healthy provider; the bad one is charged with ${code}`, async () => {
      const { gateway, bad, good, close } = await pair(mode);
      try {
        for (let index = 0; index < 4; index++) {
          const answer = await post(gateway, ask(`question ${index}`));
          assert.equal(answer.status, 200, answer.text);
          assert.equal(answer.provider, 'good');
          assert.equal(answer.json?.choices?.[0]?.message.content, `question ${index}`);
        }
        assert.ok(bad.requests >= 1 && good.requests === 4);
        const view = await adminView(gateway, 'bad');
        assert.equal(view.lastError?.code, code);
        if (code === 'upstream_model_unavailable') {
          assert.equal(bad.requests, 1, 'a provider that does not serve the model is not asked for it again');
          assert.equal(view.breaker.state, 'closed', 'not a health fault: its other models stay available');
        } else {
          assert.ok(view.breaker.windowFailures >= 1, 'counted against its breaker');
        }
        assert.equal(gateway.inFlight(), 0);
      } finally {
        await close();
      }
    });
  }

  test('a stream that sends a role-only chunk and then fails is retried elsewhere: the client sees one complete stream', async () => {
    const { gateway, bad, close } = await pair({ kind: 'fail-after-role' });
    try {
      const answer = await post(gateway, ask('stream me', { stream: true }));
      assert.equal(answer.status, 200);
      assert.equal(answer.provider, 'good');
      assert.equal(bad.requests, 1);
      const events = answer.text.split('\n\n').filter(Boolean);
      assert.equal(events[events.length - 1], 'data: [DONE]');
      const content = events
        .slice(0, -1)
        .map((event) => JSON.parse(event.slice('data: '.length)) as { choices: Array<{ delta: { content?: string } }> })
        .map((chunk) => chunk.choices[0]?.delta.content ?? '')
        .join('');
      assert.equal(content, 'stream me');
    } finally {
      await close();
    }
  });

  test('an SSE `event: error` before content is retried elsewhere', async () => {
    const { gateway, close } = await pair({ kind: 'sse-error-event' });
    try {
      const answer = await post(gateway, ask('errors?', { stream: true }));
      assert.equal(answer.status, 200);
      assert.equal(answer.provider, 'good');
      assert.match(answer.text, /data: \[DONE\]\n\n$/);
    } finally {
      await close();
    }
  });

  test('a 400 from one provider is confirmed on another before it is blamed on the client', async () => {
    const rejecting: UpstreamMode = { kind: 'status', status: 400, body: '{"error":{"message":"bad parameter"}}' };
    const { gateway, bad, good, close } = await pair(rejecting);
    try {
      const served = await post(gateway, ask('fine elsewhere'));
      assert.equal(served.status, 200, 'the other provider served it: the 400 was the provider\'s');
      assert.equal(served.provider, 'good');
      assert.equal((await adminView(gateway, 'bad')).breaker.windowFailures, 1, 'and it is counted against the provider that sent it');
      good.mode = rejecting;
      const refused = await post(gateway, ask('bad everywhere'));
      assert.equal(refused.status, 400);
      assert.equal(refused.json?.error?.code, 'upstream_client_error');
      assert.equal(bad.requests + good.requests, 4);
    } finally {
      await close();
    }
  });

  test('n > 1 is passed to the provider, not refused by the gateway', async () => {
    const { gateway, close } = await pair({ kind: 'normal' });
    try {
      const answer = await post(gateway, ask('two please', { n: 2 }));
      assert.equal(answer.status, 200);
    } finally {
      await close();
    }
  });
});

describe('limits bound what a hostile provider can make the gateway hold', () => {
  const rss = (): number => process.memoryUsage().rss;
  let gateway: GatewayHandle;
  let bad: HostileUpstream;
  let good: HostileUpstream;
  let close: () => Promise<void>;

  before(async () => {
    ({ gateway, bad, good, close } = await pair({ kind: 'huge-json', bytes: 200 * 1024 * 1024 }, { limits: { maxResponseBytes: 1024 * 1024, maxSseEventBytes: 64 * 1024 } }));
  });
  after(async () => close());

  test('a 200 MB JSON answer is cut at maxResponseBytes and the request served elsewhere; RSS stays bounded', async (t) => {
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
    try {
      for (let index = 0; index < 3; index++) {
        bad.mode = { kind: 'huge-json', bytes: 200 * 1024 * 1024 };
        const answer = await post(gateway, ask(`huge ${index}`));
        assert.equal(answer.status, 200);
        assert.equal(answer.provider, 'good');
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(bad.bytesWritten < 60 * 1024 * 1024, `the upstream was stopped early (${bad.bytesWritten} bytes written)`);
    assert.equal((await adminView(gateway, 'bad')).lastError?.code, 'upstream_response_too_large');
    const grewMb = (peak - before) / 1024 / 1024;
    t.diagnostic(`RSS grew ${grewMb.toFixed(1)} MB over 3 answers of 200 MB (upstream stopped after ${(bad.bytesWritten / 2 ** 20).toFixed(1)} MB)`);
    assert.ok(grewMb < 100, `RSS grew ${grewMb.toFixed(1)} MB (bound: 100 MB)`);
  });

  test('an SSE line that never ends is cut at maxSseEventBytes and retried before anything reached the client', async () => {
    bad.mode = { kind: 'endless-sse-line' };
    const written = bad.bytesWritten;
    const answer = await post(gateway, ask('endless?', { stream: true }));
    assert.equal(answer.status, 200);
    assert.equal(answer.provider, 'good');
    assert.match(answer.text, /data: \[DONE\]\n\n$/);
    assert.ok(bad.bytesWritten - written < 8 * 1024 * 1024, 'the endless line was cut');
    assert.equal(gateway.inFlight(), 0);
  });

  test('an oversized event before any content: retried; when every provider sends one, a 502 naming the limit', async () => {
    good.mode = { kind: 'huge-sse-event', bytes: 200 * 1024 };
    bad.mode = { kind: 'huge-sse-event', bytes: 200 * 1024 };
    try {
      const answer = await post(gateway, ask('big event', { stream: true }));
      assert.equal(answer.status, 502);
      assert.equal(answer.json?.error?.code, 'all_providers_failed');
      assert.match(answer.text, /upstream_response_too_large/);
    } finally {
      good.mode = { kind: 'normal' };
    }
  });

  test('an oversized event after content has reached the client ends the stream in band, without [DONE]', async () => {
    good.mode = { kind: 'huge-sse-event', bytes: 200 * 1024, late: true };
    bad.mode = { kind: 'huge-sse-event', bytes: 200 * 1024, late: true };
    try {
      const answer = await post(gateway, ask('late big event', { stream: true }));
      assert.equal(answer.status, 200);
      const events = answer.text.split('\n\n').filter(Boolean);
      assert.ok(!events.includes('data: [DONE]'));
      const last = JSON.parse((events[events.length - 1] as string).slice('data: '.length)) as { error?: { code: string } };
      assert.equal(last.error?.code, 'upstream_response_too_large');
      assert.equal(gateway.inFlight(), 0);
    } finally {
      good.mode = { kind: 'normal' };
    }
  });
});
