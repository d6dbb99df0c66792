import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AffinityRouter,
  BLOCK_STATE_BYTES,
  DEFAULT_AFFINITY_SETTINGS,
  HOLDER_STATE_BYTES,
  imbalanceOf,
  prefixBlockHashes,
  PrefixIndex,
  providerRemovedChannel,
  providerStateChannel,
  publish,
  renderPrompt,
  sharedPositions,
  type AffinitySettings,
  type SharedPrefixStore,
} from 'zg-gateway';
import { fakeClock } from '../helpers/fakes.js';

const SYSTEM = 'You are a careful assistant. '.repeat(20);

function conversation(turns: number, system = SYSTEM): Array<{ role: string; content: string }> {
  const messages = [{ role: 'system', content: system }];
  for (let turn = 0; turn < turns; turn++) {
    messages.push({ role: 'user', content: `question ${turn}: ${'why is the sky blue? '.repeat(4)}` });
    if (turn < turns - 1) messages.push({ role: 'assistant', content: `answer ${turn}: ${'because of Rayleigh scattering. '.repeat(4)}` });
  }
  return messages;
}

function keysOf(messages: unknown[], blockChars = 64, model = 'm'): string[] {
  return prefixBlockHashes(model, renderPrompt({ messages }) as string, blockChars, 1000);
}

describe('prompt rendering and block hashes', () => {
  it('renders a later turn as an extension of the earlier one, tools first, text parts as their text', () => {
    const first = renderPrompt({ messages: conversation(1) }) as string;
    const third = renderPrompt({ messages: conversation(3) }) as string;
    assert.ok(third.startsWith(first.slice(0, first.length)), 'the third turn extends the first');
    const withParts = renderPrompt({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] }) as string;
    assert.ok(withParts.includes('hello') && !withParts.includes('"type"'));
    const withTools = renderPrompt({ tools: [{ type: 'function', function: { name: 'lookup' } }], messages: [{ role: 'user', content: 'x' }] }) as string;
    assert.ok(withTools.startsWith('tools') && withTools.includes('lookup'));
    assert.equal(renderPrompt({ prompt: 'plain completion' }), 'plain completion');
    assert.equal(renderPrompt({ input: 'embedding' }), undefined);
  });

  it('chains: equal prefixes give equal hashes up to where the texts differ, then all differ', () => {
    const a = prefixBlockHashes('m', 'a'.repeat(64) + 'b'.repeat(64) + 'c'.repeat(64), 64, 100);
    const b = prefixBlockHashes('m', 'a'.repeat(64) + 'x'.repeat(64) + 'c'.repeat(64), 64, 100);
    assert.equal(a.length, 3);
    assert.equal(a[0], b[0]);
    assert.notEqual(a[1], b[1]);
    assert.notEqual(a[2], b[2], 'block 2 has the same text but names a different prefix');
    assert.equal(new Set(a).size, 3);
    const otherModel = prefixBlockHashes('n', 'a'.repeat(192), 64, 100);
    assert.notEqual(otherModel[0], a[0], 'the model group seeds the chain');
    assert.equal(prefixBlockHashes('m', 'a'.repeat(127), 64, 100).length, 1, 'a partial last block is left out');
    assert.equal(prefixBlockHashes('m', 'a'.repeat(640), 64, 4).length, 4, 'at most maxBlocks');
    assert.equal(a[0]?.length, 28, 'SHA-1 in base64');
  });

  it('keeps every k-th block and the last for the shared index', () => {
    assert.deepEqual(sharedPositions(10, 4), [3, 7, 9]);
    assert.deepEqual(sharedPositions(8, 4), [3, 7]);
    assert.deepEqual(sharedPositions(1, 4), [0]);
    assert.deepEqual(sharedPositions(0, 4), []);
  });
});

describe('PrefixIndex', () => {
  const options = (clock: { now(): number }, overrides: Partial<ConstructorParameters<typeof PrefixIndex>[0]> = {}) => ({
    maxBytes: 1024 * 1024,
    ttlMs: 60_000,
    providerCapacityBlocks: 1000,
    now: clock.now,
    ...overrides,
  });

  it('finds the provider holding the longest prefix among those accepted', () => {
    const clock = fakeClock();
    const index = new PrefixIndex(options(clock));
    const turn1 = keysOf(conversation(1));
    const turn3 = keysOf(conversation(3));
    index.record('a', turn1);
    index.record('b', turn1.slice(0, 2));
    const match = index.longestMatch(turn3, () => true);
    assert.deepEqual(match, { matched: turn1.length, providers: ['a'] });
    assert.deepEqual(index.longestMatch(turn3, (id) => id === 'b'), { matched: 2, providers: ['b'] });
    assert.deepEqual(index.longestMatch(keysOf(conversation(3, 'Another system prompt entirely. '.repeat(20))), () => true), { matched: 0, providers: [] });
    assert.equal(index.matchedBlocks('b', turn3), 2);
  });

  it('forgets records older than the TTL, and says when a record is news', () => {
    const clock = fakeClock();
    const index = new PrefixIndex(options(clock));
    const keys = keysOf(conversation(2));
    assert.equal(index.record('a', keys), true);
    assert.equal(index.record('a', keys), false, 'nothing new');
    clock.advance(31_000);
    assert.equal(index.record('a', keys.slice(0, 1)), true, 'older than half the TTL: refreshed');
    clock.advance(30_000);
    const match = index.longestMatch(keys, () => true);
    assert.deepEqual(match, { matched: 1, providers: ['a'] }, 'only the refreshed block is still fresh');
    index.sweep();
    assert.equal(index.stats().blocks, 1);
    clock.advance(60_001);
    index.sweep();
    assert.equal(index.stats().blocks, 0);
    assert.equal(index.stats().bytes, 0);
  });

  it('stays within its byte budget, evicting the least recently recorded blocks, a chain\'s tail first', () => {
    const clock = fakeClock();
    const unit = BLOCK_STATE_BYTES + HOLDER_STATE_BYTES;
    const old = keysOf(conversation(1, 'old '.repeat(100)));
    const recent = keysOf(conversation(1, 'recent '.repeat(100)));
    assert.ok(old.length >= 6 && recent.length >= 6);
    const budget = (recent.length + 2) * unit;
    const index = new PrefixIndex(options(clock, { maxBytes: budget }));
    index.record('a', old);
    clock.advance(1);
    index.record('b', recent);
    const stats = index.stats();
    assert.equal(stats.bytes, budget);
    assert.equal(stats.blocks, recent.length + 2);
    assert.equal(index.longestMatch(recent, () => true).matched, recent.length, 'the recent chain is whole');
    assert.deepEqual(index.longestMatch(old, () => true), { matched: 2, providers: ['a'] }, 'the old chain keeps its first two blocks');
  });

  it('bounds what one provider is believed to hold, and shrinks the estimate on reported misses', () => {
    const clock = fakeClock();
    const index = new PrefixIndex(options(clock, { providerCapacityBlocks: 8, minCapacityBlocks: 2 }));
    const first = keysOf(conversation(1, 'first '.repeat(100)));
    const second = keysOf(conversation(1, 'second '.repeat(100)));
    index.record('a', first);
    index.record('a', second);
    assert.equal(index.stats().providers[0]?.blocks, 8);
    assert.equal(index.longestMatch(second, () => true).matched, Math.min(8, second.length));
    index.cacheMissed('a');
    assert.deepEqual(index.stats().providers[0], { id: 'a', blocks: 4, capacity: 4 });
    index.cacheConfirmed('a', 3);
    assert.equal(index.stats().providers[0]?.capacity, 7);
    index.cacheConfirmed('a', 100);
    assert.equal(index.stats().providers[0]?.capacity, 8, 'never above the configured bound');
  });

  it('drops everything of a provider that left', () => {
    const index = new PrefixIndex(options(fakeClock()));
    const keys = keysOf(conversation(2));
    index.record('a', keys);
    index.record('b', keys);
    index.dropProvider('a');
    assert.deepEqual(index.longestMatch(keys, () => true), { matched: keys.length, providers: ['b'] });
    index.dropProvider('b');
    assert.deepEqual(index.stats(), { blocks: 0, holders: 0, bytes: 0, maxBytes: 1024 * 1024, providers: [] });
  });
});

describe('load bounds', () => {
  it('is imbalanced only past both the absolute and the relative bound', () => {
    const bounds = { absolute: 4, relative: 1.5 };
    assert.equal(imbalanceOf(4, 0, bounds), undefined, 'within the absolute bound');
    assert.equal(imbalanceOf(20, 16, bounds), undefined, 'within the relative bound');
    assert.equal(imbalanceOf(8, 2, bounds), 'imbalance 4.0 > 1.5 (8 vs 2 in flight)');
    assert.equal(imbalanceOf(5, 0, bounds), 'imbalance 5.0 > 1.5 (5 vs 0 in flight)');
  });
});

function settings(overrides: Partial<AffinitySettings> = {}): AffinitySettings {
  return { ...DEFAULT_AFFINITY_SETTINGS, enabled: true, blockChars: 64, ...overrides };
}

describe('AffinityRouter', () => {
  const candidates = (inFlight: Record<string, number>) => Object.entries(inFlight).map(([id, count]) => ({ id, inFlight: count }));

  it('sends a later turn to the provider that served the earlier one, within load bounds', async () => {
    const router = new AffinityRouter({ settings: settings(), gatewayId: 'g1', now: fakeClock().now });
    const first = router.begin({ messages: conversation(1) }, false);
    assert.ok(first);
    assert.deepEqual(first.choose('m', candidates({ a: 0, b: 0 })), { kind: 'fallback', reason: `no warm provider for ${first.keys('m').length} blocks` });
    first.served('m', 'b', { prompt_tokens: 100 });
    const third = router.begin({ messages: conversation(3) }, false);
    const choice = third?.choose('m', candidates({ a: 0, b: 1 }));
    assert.equal(choice?.kind, 'matched');
    assert.equal(choice?.kind === 'matched' && choice.provider, 'b');
    assert.match(choice?.reason ?? '', new RegExp(`^prefix-affinity: matched ${first.keys('m').length}/${third?.keys('m').length} blocks$`));
    // The warm provider far busier than another: the strategy decides.
    const busy = router.begin({ messages: conversation(3) }, false)?.choose('m', candidates({ a: 1, b: 9 }));
    assert.deepEqual(busy, { kind: 'fallback', reason: 'imbalance 9.0 > 1.5 (9 vs 1 in flight)', avoid: 'b' });
    // Another model group has its own chains.
    assert.equal(router.begin({ messages: conversation(3) }, false)?.choose('other', candidates({ a: 0, b: 0 }))?.kind, 'fallback');
    // Opted out: no choice; pinned: counted so.
    assert.equal(router.begin({ messages: conversation(3) }, true)?.choose('m', candidates({ a: 0, b: 0 })), undefined);
    router.begin({ messages: conversation(3) }, false)?.notePinned();
    assert.deepEqual(router.stats().decisions, { matched: 1, 'fallback-imbalance': 1, 'fallback-no-match': 2, 'opted-out': 1, pinned: 1 });
    assert.equal(router.stats().work.requests, 4, 'the opted-out and pinned requests did no affinity work');
    await router.close();
  });

  it('needs minMatch of the prompt held, and a short prompt has nothing to match', () => {
    const router = new AffinityRouter({ settings: settings({ minMatch: 0.9 }), gatewayId: 'g1' });
    router.begin({ messages: conversation(1) }, false)?.served('m', 'a', undefined);
    const later = router.begin({ messages: conversation(6) }, false);
    const choice = later?.choose('m', candidates({ a: 0, b: 0 }));
    assert.equal(choice?.kind, 'fallback');
    assert.match(choice?.reason ?? '', /^matched \d+\/\d+ blocks < 0\.9$/);
    assert.deepEqual(router.begin({ messages: [{ role: 'user', content: 'hi' }] }, false)?.choose('m', candidates({ a: 0 })), { kind: 'fallback', reason: 'prompt shorter than one block' });
    assert.equal(router.begin({ messages: conversation(1) }, false) === undefined, false);
    const byDefault = new AffinityRouter({ settings: DEFAULT_AFFINITY_SETTINGS, gatewayId: 'g' });
    assert.equal(byDefault.begin({ messages: [] }, false), undefined, 'off by default');
    byDefault.followStrategy('cache-aware');
    assert.ok(byDefault.begin({ messages: [] }, false), 'on while the strategy is cache-aware');
    byDefault.followStrategy('least-connections');
    assert.equal(byDefault.begin({ messages: [] }, false), undefined, 'off again when a reload picks another strategy');
  });

  it('counts reported cached tokens per provider and shrinks a provider that missed what it was thought to hold', () => {
    const router = new AffinityRouter({ settings: settings({ providerCapacityTokens: 100_000 }), gatewayId: 'g1' });
    router.begin({ messages: conversation(3) }, false)?.served('m', 'a', { prompt_tokens: 200, prompt_tokens_details: { cached_tokens: 0 } });
    const before = router.stats().index.providers[0];
    router.begin({ messages: conversation(3) }, false)?.served('m', 'a', { prompt_tokens: 200, prompt_tokens_details: { cached_tokens: 0 } });
    const after = router.stats().index.providers[0];
    assert.ok(before && after && after.capacity < before.capacity, `capacity ${before?.capacity} -> ${after?.capacity}`);
    router.begin({ messages: conversation(3) }, false)?.served('m', 'a', { prompt_tokens: 200, prompt_tokens_details: { cached_tokens: 190 } });
    assert.ok((router.stats().index.providers[0]?.capacity ?? 0) > (after?.capacity ?? 0), 'a confirmed hit grows it back');
    assert.deepEqual(router.stats().cacheTokens.get('a'), { prompt: 600, cached: 190, reported: 3 });
  });

  it('drops the entries of a provider removed or ejected from its own gateway only', async () => {
    const router = new AffinityRouter({ settings: settings(), gatewayId: 'g-own' });
    const keys = router.begin({ messages: conversation(2) }, false);
    keys?.served('m', 'a', undefined);
    keys?.served('m', 'b', undefined);
    publish(providerRemovedChannel, { gatewayId: 'g-other', providerId: 'a', kind: 'x', reason: 'test' });
    assert.equal(router.stats().index.providers.length, 2);
    publish(providerRemovedChannel, { gatewayId: 'g-own', providerId: 'a', kind: 'x', reason: 'test' });
    publish(providerStateChannel, { gatewayId: 'g-own', providerId: 'b', aspect: 'trust', state: 'untrusted', reason: 'test' });
    assert.equal(router.stats().index.providers.length, 0);
    await router.close();
    keys?.served('m', 'c', undefined);
    publish(providerRemovedChannel, { gatewayId: 'g-own', providerId: 'c', kind: 'x', reason: 'test' });
    assert.equal(router.stats().index.providers.length, 1, 'closed: no longer listening');
  });
});

/** A shared index in memory, with a switchable delay and outage. */
class FakeSharedStore implements SharedPrefixStore {
  readonly values = new Map<string, string>();
  readonly traffic = { roundTrips: 0, bytesOut: 0, bytesIn: 0, failures: 0 };
  available = true;
  hang = false;
  writes = 0;

  async read(keys: readonly string[]): Promise<ReadonlyArray<string | undefined> | undefined> {
    this.traffic.roundTrips += 1;
    if (this.hang) return new Promise(() => undefined);
    return keys.map((key) => this.values.get(key));
  }

  write(keys: readonly string[], provider: string): void {
    this.writes += 1;
    for (const key of keys) this.values.set(key, provider);
  }

  async close(): Promise<void> {}
}

describe('the shared index', () => {
  it('tells another instance where a conversation is warm; a hung store costs at most the read bound', async () => {
    const shared = new FakeSharedStore();
    const one = new AffinityRouter({ settings: settings(), gatewayId: 'g1', shared });
    const two = new AffinityRouter({ settings: settings({ sharedReadTimeoutMs: 20 }), gatewayId: 'g2', shared });
    one.begin({ messages: conversation(2) }, false)?.served('m', 'b', { prompt_tokens: 50 });
    assert.equal(shared.writes, 1);
    one.begin({ messages: conversation(2) }, false)?.served('m', 'b', { prompt_tokens: 50 });
    assert.equal(shared.writes, 1, 'nothing new: nothing written');
    const later = two.begin({ messages: conversation(4) }, false);
    const reading = later?.loadShared('m');
    assert.ok(reading, 'the local index knows nothing: the shared one is read');
    await reading;
    const choice = later?.choose('m', [
      { id: 'a', inFlight: 0 },
      { id: 'b', inFlight: 0 },
    ]);
    assert.equal(choice?.kind === 'matched' && choice.provider, 'b');
    shared.hang = true;
    const hung = two.begin({ messages: conversation(5, 'x'.repeat(500)) }, false);
    const started = performance.now();
    await hung?.loadShared('m');
    const waited = performance.now() - started;
    assert.ok(waited >= 15 && waited < 500, `waited ${waited} ms`);
    assert.equal(two.stats().shared?.timeouts, 1);
    shared.available = false;
    assert.equal(two.begin({ messages: conversation(5, 'y'.repeat(500)) }, false)?.loadShared('m'), undefined, 'a store that is down is not asked');
    await one.close();
    await two.close();
  });
});
