import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { MAX_PRIORITY, MIN_PRIORITY, type AdmissionQueue } from '../admission/admission-queue.js';

/** Seconds. */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The admission queue's series: depth per priority and the oldest wait (read when scraped), waits
 * that ended by result, and how long they lasted. Labels are bounded: `priority` 0-10, `result`
 * one of admitted, timeout, abandoned, rejected.
 */
export class QueueMetrics {
  readonly #unsubscribe: () => void;

  constructor(registry: Registry, queue: AdmissionQueue) {
    const registers = [registry];
    new Gauge({
      name: 'zg_gateway_queue_depth',
      help: 'Requests waiting in the admission queue (every provider that could serve them at its concurrency cap), per priority.',
      labelNames: ['priority'],
      registers,
      collect() {
        const byPriority = queue.stats().depthByPriority;
        for (let priority = MIN_PRIORITY; priority <= MAX_PRIORITY; priority++) this.set({ priority: String(priority) }, byPriority[String(priority)] ?? 0);
      },
    });
    new Gauge({
      name: 'zg_gateway_queue_oldest_wait_seconds',
      help: 'How long the oldest request in the admission queue has waited (0 when empty).',
      registers,
      collect() {
        this.set(queue.stats().oldestWaitMs / 1000);
      },
    });
    new Gauge({
      name: 'zg_gateway_queue_max_size',
      help: 'The admission queue bound (`queue.maxSize`).',
      registers,
      collect() {
        this.set(queue.settings.maxSize);
      },
    });
    const ended = new Counter({ name: 'zg_gateway_queue_requests_total', help: 'Admission queue waits by how they ended: admitted, timeout (503 queue_timeout), abandoned (client gone, shutdown), rejected (429 queue_full).', labelNames: ['result'], registers });
    const waited = new Histogram({ name: 'zg_gateway_queue_wait_seconds', help: 'How long requests waited in the admission queue, by how the wait ended.', labelNames: ['result'], buckets: WAIT_BUCKETS, registers });
    this.#unsubscribe = queue.onLeave((result, waitedMs) => {
      ended.inc({ result });
      if (result !== 'rejected') waited.observe({ result }, waitedMs / 1000);
    });
  }

  close(): void {
    this.#unsubscribe();
  }
}
