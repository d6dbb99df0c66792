import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet, type ProviderFault } from 'zg-devnet';
import { devnetGatewayOptions, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Faults the flaky providers cycle through (bad signatures are tested on their own: a gateway cannot tell at serve time). */
const FAULTS: ProviderFault[] = [
  { mode: 'none' },
  { mode: 'down' },
  { mode: 'http-error', status: 500 },
  { mode: 'http-error', status: 503 },
  { mode: 'http-error', status: 429, retryAfterSeconds: 1 },
  { mode: 'reject-auth' },
  { mode: 'delay-first-byte', ms: 150 },
  { mode: 'stall' },
  { mode: 'stall-after-chunks', chunks: 2 },
  { mode: 'cut-after-chunks', chunks: 3 },
  { mode: 'malformed' },
  { mode: 'slow-drip', intervalMs: 15 },
];

/** Bounds the gateway is configured with; no client may wait longer than these allow. */
const TIMEOUTS = { connect: 500, firstByte: 1500, chunkGap: 500, total: 6000 };
const CLIENT_LIMIT_MS = 15_000;
const REQUESTS_PER_ROUND = 300;
/** Every error a client may legitimately see, with its status. */
const ALLOWED_ERRORS = new Map([
  ['all_providers_failed', 502],
  ['no_healthy_provider', 503],
  ['upstream_timeout', 504],
  ['upstream_rate_limited', 429],
  ['insufficient_funds', 402],
]);

interface RoundFigures {
  requests: number;
  ok: number;
  streamsCompleted: number;
  streamsCut: number;
  errors: Record<string, number>;
  maxWaitMs: number;
  verified: number;
  heapMb: number;
  peakInFlight: number;
  peakOutstanding: number;
}

let outstanding = 0;

/** Seeded generator, so a failing round can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

let devnet: LocalDevnet;
let gateway: GatewayHandle;

before(async () => {
  // Streams drip a chunk every 25 ms, so they stay open and hundreds overlap.
  devnet = await startLocalDevnet({ providers: [{ chunkIntervalMs: 25 }, { chunkIntervalMs: 25 }, { chunkIntervalMs: 25 }] });
  gateway = await runMultiProviderInferenceServer(
    devnetGatewayOptions(devnet, {
      strategy: 'least-connections',
      timeouts: TIMEOUTS,
      healthCheckInterval: 250,
      maxRetries: 3,
      circuitBreaker: { coolDownMs: 300, windowMs: 5000 },
      sessionCacheSize: 2000,
    }),
  );
});

after(async () => {
  await gateway?.close();
  await devnet?.stop();
});

async function verifyId(id: string): Promise<boolean> {
  const response = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  if (response.status !== 200) return false;
  return ((await response.json()) as { isValid: boolean }).isValid;
}

async function oneChat(index: number, stream: boolean, figures: RoundFigures, problems: string[], servedIds: string[]): Promise<void> {
  const text = `chaos request ${index} asks a question`;
  const started = performance.now();
  outstanding += 1;
  figures.peakOutstanding = Math.max(figures.peakOutstanding, outstanding);
  let response: Response;
  let body: string;
  try {
    response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: text }], stream }),
      signal: AbortSignal.timeout(CLIENT_LIMIT_MS),
    });
    body = await response.text();
  } catch (error) {
    problems.push(`#${index} (stream ${stream}) hung or broke: ${error instanceof Error ? error.message : String(error)}`);
    return;
  } finally {
    outstanding -= 1;
  }
  const waited = performance.now() - started;
  figures.maxWaitMs = Math.max(figures.maxWaitMs, waited);
  if (response.status !== 200) {
    let code = '(not JSON)';
    try {
      code = (JSON.parse(body) as { error: { code: string } }).error.code;
    } catch {
      // reported below
    }
    figures.errors[code] = (figures.errors[code] ?? 0) + 1;
    if (ALLOWED_ERRORS.get(code) !== response.status) problems.push(`#${index}: unexpected error ${response.status} ${code}: ${body.slice(0, 200)}`);
    return;
  }
  const provider = devnet.providers.find((candidate) => candidate.address === response.headers.get('x-provider-address'));
  if (!provider) {
    problems.push(`#${index}: X-Provider-Address missing or unknown`);
    return;
  }
  const expected = `[${provider.name}] zg-devnet-chat heard: ${text}`;
  if (!stream) {
    const completion = JSON.parse(body) as { id: string; choices: Array<{ message: { content: string } }> };
    if (completion.choices[0]?.message.content !== expected) problems.push(`#${index}: wrong content ${completion.choices[0]?.message.content}`);
    figures.ok += 1;
    servedIds.push(completion.id);
    return;
  }
  const events = body
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6));
  const last = events[events.length - 1];
  if (last === '[DONE]') {
    let content = '';
    let id = '';
    for (const event of events.slice(0, -1)) {
      const chunk = JSON.parse(event) as { id: string; choices: Array<{ delta: { content?: string } }>; error?: unknown };
      if (chunk.error) problems.push(`#${index}: error event before [DONE]`);
      id ||= chunk.id;
      content += chunk.choices[0]?.delta.content ?? '';
    }
    // A stream that ends with [DONE] must be whole: a truncated answer that looks complete is the worst failure.
    if (content !== expected) problems.push(`#${index}: stream completed with [DONE] but content is "${content}"`);
    figures.streamsCompleted += 1;
    figures.ok += 1;
    servedIds.push(id);
    return;
  }
  let inBand: { error?: { code?: string } } = {};
  try {
    inBand = JSON.parse(last ?? '') as { error?: { code?: string } };
  } catch {
    // reported below
  }
  if (!inBand.error?.code) {
    problems.push(`#${index}: stream ended with neither [DONE] nor an error event: ${(last ?? '').slice(0, 120)}`);
    return;
  }
  figures.streamsCut += 1;
  figures.errors[`in-band ${inBand.error.code}`] = (figures.errors[`in-band ${inBand.error.code}`] ?? 0) + 1;
}

async function chaosRound(seed: number): Promise<{ figures: RoundFigures; problems: string[] }> {
  const random = seededRandom(seed);
  const figures: RoundFigures = { requests: REQUESTS_PER_ROUND, ok: 0, streamsCompleted: 0, streamsCut: 0, errors: {}, maxWaitMs: 0, verified: 0, heapMb: 0, peakInFlight: 0, peakOutstanding: 0 };
  const problems: string[] = [];
  const [steady, ...flaky] = devnet.providers;
  assert.ok(steady && flaky.length === 2);
  let cycling = true;
  const cycler = (async () => {
    while (cycling) {
      for (const provider of flaky) await provider.setFault(FAULTS[Math.floor(random() * FAULTS.length)] as ProviderFault);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
  })();
  const sampler = setInterval(() => {
    figures.peakInFlight = Math.max(figures.peakInFlight, gateway.inFlight());
  }, 5);
  const chats: Array<Promise<void>> = [];
  const servedIds: string[] = [];
  for (let index = 0; index < REQUESTS_PER_ROUND; index++) {
    chats.push(oneChat(index, index % 2 === 1, figures, problems, servedIds));
    // Bursts of 50 about every 150 ms: a few hundred in flight at once, at a rate two cores can
    // serve with the devnet, its providers, the gateway and these clients all in this one process.
    if (index % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await Promise.all(chats);
  clearInterval(sampler);
  cycling = false;
  await cycler;
  for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
  if (!(await waitFor(() => gateway.inFlight() === 0, 5000))) problems.push(`in flight after the round: ${gateway.inFlight()}`);
  // Verified once the faults are cleared: a provider that is down while asked cannot prove anything.
  for (const id of servedIds) {
    if (await verifyId(id)) figures.verified += 1;
    else problems.push(`served id ${id} does not verify`);
  }
  collectGarbage();
  figures.heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  return { figures, problems };
}

test('chaos: concurrent chats while providers cycle through faults; nothing truncated, hung or leaked', async (context) => {
  const rounds: RoundFigures[] = [];
  for (const seed of [1, 2, 3]) {
    const { figures, problems } = await chaosRound(seed);
    context.diagnostic(`round ${seed}: ${JSON.stringify(figures)}`);
    assert.deepEqual(problems, [], `round ${seed} problems`);
    assert.ok(figures.ok > REQUESTS_PER_ROUND / 2, `round ${seed}: only ${figures.ok} succeeded`);
    assert.ok(figures.maxWaitMs < CLIENT_LIMIT_MS, `round ${seed}: a client waited ${figures.maxWaitMs} ms`);
    rounds.push(figures);
  }
  const admin = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { totalInFlight: number; providers: Array<{ inFlight: number }> };
  assert.equal(admin.totalInFlight, 0);
  for (const provider of admin.providers) assert.equal(provider.inFlight, 0);
  // Memory: after the first round warmed caches up, later rounds must not keep growing.
  const [, second, third] = rounds;
  assert.ok(second && third);
  assert.ok(third.heapMb < second.heapMb + 15, `heap grew from ${second.heapMb.toFixed(1)} MB to ${third.heapMb.toFixed(1)} MB`);
});
