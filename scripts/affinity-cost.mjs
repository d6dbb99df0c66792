// What the cache-aware routing layer costs: CPU per request (rendering and hashing the prompt,
// the index lookup, recording the served blocks) on a multi-turn workload like the issue's
// benchmark, and heap bytes per indexed block (which the index's byte budget counts).
// Usage: npm run build && node scripts/affinity-cost.mjs [requests=20000] [blockChars=1024]
// The layer is driven directly (no HTTP, no providers): the figures are its own work.
import { AffinityRouter, BLOCK_STATE_BYTES, DEFAULT_AFFINITY_SETTINGS, HOLDER_STATE_BYTES } from 'zg-gateway';

const requests = Number(process.argv[2] ?? 20_000);
const blockChars = Number(process.argv[3] ?? DEFAULT_AFFINITY_SETTINGS.blockChars);
const providers = ['p0', 'p1', 'p2', 'p3'];

/** Deterministic text of about `chars` characters (a linear congruential generator picks words). */
function words(seed, chars) {
  const list = ['the', 'cache', 'provider', 'token', 'prefix', 'model', 'answer', 'question', 'river', 'system', 'latency', 'gateway'];
  let state = seed >>> 0;
  const out = [];
  let length = 0;
  while (length < chars) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const word = list[state % list.length];
    out.push(word);
    length += word.length + 1;
  }
  return out.join(' ');
}

// Turns are slices of one corpus (cheap to make, so making them leaves no garbage for the measured part to collect).
const CORPUS = words(12345, 1_000_000);
function text(seed, chars) {
  const start = (Math.imul(seed >>> 0, 2654435761) >>> 0) % (CORPUS.length - chars);
  return CORPUS.slice(start, start + chars);
}

// 10 shared system prompts of ~2,000 tokens; conversations of 6 turns (user 50-200 tokens, answers ~100).
const systems = Array.from({ length: 10 }, (_, index) => words(index + 1, 8000));
function* workload() {
  let conversation = 0;
  for (;;) {
    const messages = [{ role: 'system', content: systems[conversation % systems.length] }];
    for (let turn = 0; turn < 6; turn++) {
      messages.push({ role: 'user', content: text(conversation * 100 + turn, 200 + ((conversation * 7 + turn * 13) % 600)) });
      yield { messages: [...messages], conversation };
      messages.push({ role: 'assistant', content: text(conversation * 1000 + turn, 400) });
    }
    conversation += 1;
  }
}

/** Drives `count` requests through `router`, timing only the layer's calls (bodies are made, 500 at a time, off the clock: a gateway gets them parsed from JSON). */
function run(count, router) {
  const source = workload();
  const inFlight = new Map(providers.map((id) => [id, 0]));
  const candidates = providers.map((id) => ({ id, get inFlight() { return inFlight.get(id); } }));
  const usage = { prompt_tokens: 2000, prompt_tokens_details: { cached_tokens: 1800 } };
  let cpuMicros = 0;
  let wallMs = 0;
  let promptChars = 0;
  for (let done = 0; done < count; ) {
    const batch = Array.from({ length: Math.min(500, count - done) }, () => ({ model: 'm', messages: source.next().value.messages }));
    for (const body of batch) for (const message of body.messages) promptChars += message.content.length;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const body of batch) {
      const request = router.begin(body, false);
      const choice = request.choose('m', candidates);
      const provider = choice?.kind === 'matched' ? choice.provider : providers[done % providers.length];
      request.served('m', provider, usage);
      done += 1;
    }
    wallMs += performance.now() - started;
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
  }
  return { cpuMicros, wallMs, promptChars };
}

const settings = { ...DEFAULT_AFFINITY_SETTINGS, enabled: true, blockChars };
// Warm-up (JIT), then the measured run on a fresh router.
run(Math.min(2000, requests), new AffinityRouter({ settings, gatewayId: 'bench-warmup' }));
const router = new AffinityRouter({ settings, gatewayId: 'bench' });
const { cpuMicros, wallMs, promptChars } = run(requests, router);
const stats = router.stats();
console.log(`affinity layer, ${requests} requests (6-turn conversations, 10 shared ~8,000-character system prompts, 4 providers), blockChars ${blockChars}:`);
console.log(`  mean prompt ${(promptChars / requests / 1000).toFixed(1)} k characters`);
console.log(`  CPU per request (process.cpuUsage) ${(cpuMicros / requests / 1000).toFixed(4)} ms; wall ${(wallMs / requests).toFixed(4)} ms`);
console.log(`  the layer's own count (zg_gateway_affinity_work_seconds_total / requests) ${(stats.work.micros / stats.work.requests / 1000).toFixed(4)} ms`);
console.log(`  decisions ${JSON.stringify(stats.decisions)}`);
console.log(`  index: ${stats.index.blocks} blocks, ${stats.index.holders} holders, ${(stats.index.bytes / 1024 / 1024).toFixed(2)} MiB counted`);

// Heap per block: fill an index with distinct chains and compare heap growth with the counted bytes.
if (global.gc) {
  const big = new AffinityRouter({ settings: { ...settings, maxIndexMiB: 4096, providerCapacityTokens: 1e9 }, gatewayId: 'bench-memory' });
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let index = 0; index < 5000; index++) {
    const request = big.begin({ messages: [{ role: 'user', content: `${index} ${text(index + 77, 16 * blockChars)}` }] }, false);
    request.served('m', providers[index % 2], undefined);
    request.served('m', providers[2 + (index % 2)], undefined);
  }
  global.gc();
  const grown = process.memoryUsage().heapUsed - before;
  const counted = big.stats().index;
  console.log(
    `  heap: ${counted.blocks} blocks with ${counted.holders} holders grew the heap ${(grown / 1024 / 1024).toFixed(1)} MiB = ${Math.round(grown / counted.blocks)} B per block (2 holders each); counted ${BLOCK_STATE_BYTES} + 2 x ${HOLDER_STATE_BYTES} = ${BLOCK_STATE_BYTES + 2 * HOLDER_STATE_BYTES} B`,
  );
} else console.log('  (run with node --expose-gc for the heap bytes per block)');
