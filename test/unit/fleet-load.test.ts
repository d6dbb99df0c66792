import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AffinityRouter, DEFAULT_AFFINITY_SETTINGS, FleetLoad, prefixBlockHashes, renderPrompt, type FleetLoadStore, type SharedPrefixStore } from 'zg-gateway';
import { fakeClock, type FakeClock } from '../helpers/fakes.js';

/** Instances' published counts in memory, expiring on the injected clock, like the Redis form. */
class FakeFleetStore implements FleetLoadStore {
  readonly published = new Map<string, { counts: ReadonlyMap<string, number>; until: number }>();
  available = true;
  failing = false;
  hang = false;
  exchanges = 0;

  constructor(readonly clock: FakeClock) {}

  async exchangeInFlight(gatewayId: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<ReadonlyMap<string, number> | undefined> {
    this.exchanges += 1;
    if (this.hang) return new Promise(() => undefined);
    if (this.failing) return undefined;
    this.published.set(gatewayId, { counts: new Map(counts), until: this.clock.now() + ttlMs });
    const sum = new Map<string, number>();
    for (const [id, { counts: theirs, until }] of this.published) {
      if (id === gatewayId || until <= this.clock.now()) continue;
      for (const [provider, count] of theirs) sum.set(provider, (sum.get(provider) ?? 0) + count);
    }
    return sum;
  }
}

/** A shared index that knows nothing (the local one places the conversation), with the fleet exchange. */
function sharedWith(fleetLoad: FleetLoadStore): SharedPrefixStore {
  return { available: true, read: async () => undefined, write: () => undefined, traffic: { roundTrips: 0, bytesOut: 0, bytesIn: 0, failures: 0 }, fleetLoad, close: async () => undefined };
}

const MESSAGES = [{ role: 'system', content: 'You are a careful assistant. '.repeat(20) }, { role: 'user', content: 'why is the sky blue? '.repeat(4) }];
const SETTINGS = { ...DEFAULT_AFFINITY_SETTINGS, enabled: true, blockChars: 64, balanceAbs: 4, balanceRel: 1.5 };

/** A router whose local index has the conversation warm on provider `a`, with `local` in flight per provider. */
function router(store: FleetLoadStore, clock: FakeClock, gatewayId: string, local: Map<string, number>): AffinityRouter {
  const affinity = new AffinityRouter({ settings: SETTINGS, gatewayId, shared: sharedWith(store), localInFlight: () => local, fleetLoadPeriodMs: 250, now: clock.now });
  affinity.index.record('a', prefixBlockHashes('m', renderPrompt({ messages: MESSAGES }) as string, 64, 1000));
  return affinity;
}

function decide(affinity: AffinityRouter, local: Map<string, number>): string | undefined {
  const choice = affinity.begin({ messages: MESSAGES }, false)?.choose('m', [
    { id: 'a', inFlight: local.get('a') ?? 0 },
    { id: 'b', inFlight: local.get('b') ?? 0 },
  ]);
  return choice?.kind === 'matched' ? `matched ${choice.provider}` : choice?.reason;
}

describe('fleet-wide in-flight counts for the affinity load bound', () => {
  it("adds the other instances' published counts: their load on the warm provider makes it fall back", async () => {
    const clock = fakeClock();
    const store = new FakeFleetStore(clock);
    const localA = new Map([['a', 5], ['b', 0]]);
    const localB = new Map([['a', 3], ['b', 1]]);
    const one = router(store, clock, 'g1', localA);
    const two = router(store, clock, 'g2', localB);
    assert.equal(decide(two, localB), 'matched a', 'alone, 3 vs 1 in flight is within the bound');
    await one.fleetLoad?.exchange();
    await two.fleetLoad?.exchange();
    assert.equal(two.othersInFlight('a'), 5);
    assert.deepEqual(two.stats().fleet?.others, { a: 5, b: 0 });
    assert.match(decide(two, localB) ?? '', /^imbalance 8\.0 > 1\.5 \(8 vs 1 in flight\)$/, 'with the other instance: 8 vs 1');
    assert.equal(two.stats().decisions['fallback-imbalance'], 1);
    // The other instance's requests end: its next publication brings the bound back.
    localA.set('a', 0);
    await one.fleetLoad?.exchange();
    await two.fleetLoad?.exchange();
    assert.equal(decide(two, localB), 'matched a');
    await one.close();
    await two.close();
  });

  it("ignores stale counts: a dead instance's entry, and a reading older than three periods", async () => {
    const clock = fakeClock();
    const store = new FakeFleetStore(clock);
    const localA = new Map([['a', 9]]);
    const localB = new Map([['a', 3], ['b', 1]]);
    const one = router(store, clock, 'g1', localA);
    const two = router(store, clock, 'g2', localB);
    await one.fleetLoad?.exchange();
    await two.fleetLoad?.exchange();
    assert.equal(two.othersInFlight('a'), 9);
    // g1 stops publishing; its entry expires after 3 periods (750 ms) and g2's next reading drops it.
    clock.advance(800);
    await two.fleetLoad?.exchange();
    assert.equal(two.othersInFlight('a'), 0, 'expired entry ignored');
    assert.equal(decide(two, localB), 'matched a');
    // A reading that is not refreshed (store unavailable: not asked) stops counting after 3 periods.
    await one.fleetLoad?.exchange();
    await two.fleetLoad?.exchange();
    assert.equal(two.othersInFlight('a'), 9);
    store.available = false;
    const before = store.exchanges;
    await two.fleetLoad?.exchange();
    assert.equal(store.exchanges, before, 'a store that is down is not asked');
    clock.advance(700);
    assert.equal(two.othersInFlight('a'), 9, 'still fresh within three periods');
    clock.advance(100);
    assert.equal(two.othersInFlight('a'), 0, 'stale reading ignored');
    assert.deepEqual(two.stats().fleet?.others, {});
    await one.close();
    await two.close();
  });

  it('a failing store leaves local counts only, without throwing or waiting', async () => {
    const clock = fakeClock();
    const store = new FakeFleetStore(clock);
    store.failing = true;
    const localB = new Map([['a', 3], ['b', 1]]);
    const two = router(store, clock, 'g2', localB);
    await two.fleetLoad?.exchange();
    assert.equal(two.stats().fleet?.failures, 1);
    assert.equal(two.othersInFlight('a'), 0);
    assert.equal(decide(two, localB), 'matched a');
    // A store that never answers: the exchange is not awaited by anyone, and is retried after 3 periods.
    store.failing = false;
    store.hang = true;
    void two.fleetLoad?.exchange();
    const asked = store.exchanges;
    await two.fleetLoad?.exchange();
    assert.equal(store.exchanges, asked, 'one pending exchange at a time');
    clock.advance(800);
    void two.fleetLoad?.exchange();
    assert.equal(store.exchanges, asked + 1, 'a hung exchange is given up after 3 periods');
    assert.equal(decide(two, localB), 'matched a', 'local counts only');
    await two.close();
  });

  it('runs on an unref’d timer from start() until close(), only while affinity is on', async () => {
    const clock = fakeClock();
    const store = new FakeFleetStore(clock);
    const fleet = new FleetLoad({ store, gatewayId: 'g', localInFlight: () => new Map([['a', 1]]), periodMs: 10, now: clock.now });
    fleet.start();
    // The timer runs by itself: wait for two exchanges (a loaded machine may take longer than 2 periods).
    const deadline = Date.now() + 5000;
    while (store.exchanges < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    fleet.close();
    const ran = store.exchanges;
    assert.ok(ran >= 2, `${ran} exchanges in 5 s of a 10 ms period`);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(store.exchanges, ran, 'no exchange after close()');
    const off = new AffinityRouter({ settings: { ...SETTINGS, enabled: false }, gatewayId: 'g', shared: sharedWith(store), localInFlight: () => new Map() });
    await off.fleetLoad?.exchange();
    assert.equal(store.exchanges, ran, 'affinity off: nothing exchanged');
    await off.close();
  });
});
