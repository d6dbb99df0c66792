import { Counter, Gauge, type Registry } from 'prom-client';
import { AFFINITY_DECISIONS, type AffinityRouter } from '../affinity/index.js';
import type { BoundedLabel } from './metric-labels.js';

/**
 * The cache-aware routing series, read from the gateway's affinity layer when scraped: decisions
 * by kind (`matched`, `fallback-imbalance`, `fallback-no-match`, `opted-out`, `pinned`), prompt and
 * cached tokens each provider reported (its prefix-cache hit rate is cached ÷ prompt; counted with
 * affinity off too), the index's size, the layer's CPU time, and the shared index's traffic.
 */
export function registerAffinityMetrics(registry: Registry, affinity: AffinityRouter, providerLabel: BoundedLabel): void {
  const registers = [registry];
  new Counter({
    name: 'zg_gateway_affinity_decisions_total',
    help: 'Requests placed with prefix affinity on, by decision: matched (a warm provider), fallback-imbalance, fallback-no-match (the strategy chose), opted-out (X-Affinity: off or a sort preference), pinned (X-Session-Id / previous_response_id).',
    labelNames: ['decision'],
    registers,
    collect() {
      this.reset();
      const decisions = affinity.stats().decisions;
      for (const decision of AFFINITY_DECISIONS) this.inc({ decision }, decisions[decision]);
    },
  });
  new Counter({
    name: 'zg_gateway_prefix_cache_tokens_total',
    help: 'Prompt tokens providers reported (kind prompt) and how many of them they served from their prefix cache (kind cached, usage.prompt_tokens_details.cached_tokens): hit rate = cached / prompt.',
    labelNames: ['provider', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const [id, row] of affinity.stats().cacheTokens) {
        const provider = providerLabel.of(id);
        this.inc({ provider, kind: 'prompt' }, row.prompt);
        this.inc({ provider, kind: 'cached' }, row.cached);
      }
    },
  });
  new Gauge({
    name: 'zg_gateway_affinity_index_bytes',
    help: 'State bytes of the prefix index (counted per block and per provider holding it; bounded by affinity.maxIndexMiB).',
    registers,
    collect() {
      this.set(affinity.stats().index.bytes);
    },
  });
  new Gauge({
    name: 'zg_gateway_affinity_index_blocks',
    help: 'Prompt blocks the prefix index holds.',
    registers,
    collect() {
      this.set(affinity.stats().index.blocks);
    },
  });
  new Counter({
    name: 'zg_gateway_affinity_work_seconds_total',
    help: 'Time inside the affinity layer\'s synchronous steps (rendering and hashing prompts, lookups, recording), seconds; divide by zg_gateway_affinity_requests_total. Wall time: its CPU on an idle core, more when the core is shared with busier processes.',
    registers,
    collect() {
      this.reset();
      this.inc(affinity.stats().work.micros / 1e6);
    },
  });
  new Counter({
    name: 'zg_gateway_affinity_requests_total',
    help: 'Requests the affinity layer worked on.',
    registers,
    collect() {
      this.reset();
      this.inc(affinity.stats().work.requests);
    },
  });
  new Counter({
    name: 'zg_gateway_affinity_shared_total',
    help: 'The shared (Redis) prefix index: reads, reads that gave up after sharedReadTimeoutMs (timeouts), round trips, failed commands, and bytes out/in (estimated).',
    labelNames: ['what'],
    registers,
    collect() {
      this.reset();
      const shared = affinity.stats().shared;
      if (!shared) return;
      for (const what of ['reads', 'timeouts', 'roundTrips', 'failures', 'bytesOut', 'bytesIn'] as const) this.inc({ what }, shared[what]);
    },
  });
}
