import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConversationRunResult, TurnRecord } from '../../bench/affinity-client.js';
import { figuresOf } from '../../bench/affinity-figures.js';
import { readAffinityOptions } from '../../bench/affinity-options.js';
import { buildWorkload } from '../../bench/affinity-workload.js';

const SHAPE = { conversations: 6, turns: 3, systemPrompts: 2, systemTokens: 100, userTokensMin: 5, userTokensMax: 9, seed: 1 };

function turn(provider: string, startMs: number, endMs: number, promptTokens: number, cachedTokens: number): TurnRecord {
  return { conversation: 0, turn: 0, provider, startMs, endMs, ttftMs: endMs - startMs, promptTokens, cachedTokens };
}

describe('affinity benchmark: workload and figures', () => {
  it('builds the same workload from the same seed: shared system prompts of the asked length, user turns in range; the control shares none', () => {
    const shared = buildWorkload(SHAPE, true);
    assert.deepEqual(buildWorkload(SHAPE, true), shared);
    assert.equal(new Set(shared.map((conversation) => conversation.system)).size, 2);
    for (const conversation of shared) {
      assert.equal(conversation.system.split(' ').length, 99, 'plus the role token: 100');
      assert.equal(conversation.userTurns.length, 3);
      for (const said of conversation.userTurns) assert.ok(said.split(' ').length >= 4 && said.split(' ').length <= 8);
    }
    const control = buildWorkload(SHAPE, false);
    assert.equal(new Set(control.map((conversation) => conversation.system)).size, 6);
  });

  it('computes hit rate from usage, prefill, in-flight balance from intervals, and CPU per request', () => {
    const run: ConversationRunResult = {
      turns: [turn('0xAAAA0000', 0, 100, 1000, 0), turn('0xaaaa0000', 50, 100, 1000, 900), turn('0xBBBB0000', 0, 50, 1000, 500)],
      failures: 0,
      skipped: 0,
      wallMs: 100,
    };
    const figures = figuresOf('single', 'x', run, ['0xaaaa0000', '0xbbbb0000'], 30);
    assert.equal(figures.hitRate, 1400 / 3000);
    assert.equal(figures.prefillTokens, 1600);
    assert.deepEqual(figures.meanInFlight, { '0xaaaa00': 1.5, '0xbbbb00': 0.5 });
    assert.deepEqual(figures.peakInFlight, { '0xaaaa00': 2, '0xbbbb00': 1 });
    assert.equal(figures.inFlightImbalance, 1.5);
    assert.equal(figures.prefillImbalance, 1100 / 800);
    assert.equal(figures.gatewayCpuMsPerRequest, 10);
  });

  it('reads flags as `--name value` or `--name=value`, and refuses unknown ones', () => {
    const options = readAffinityOptions(['--conversations', '40', '--think-ms=0', '--systems', 'round-robin,oracle']);
    assert.deepEqual([options.conversations, options.thinkMs, options.systems], [40, 0, ['round-robin', 'oracle']]);
    assert.equal(readAffinityOptions(['--quick']).conversations, 40);
    assert.throws(() => readAffinityOptions(['--conversation', '3']), /unknown flag --conversation/);
    assert.throws(() => readAffinityOptions(['--systems', 'fastest']), /takes round-robin/);
  });
});
