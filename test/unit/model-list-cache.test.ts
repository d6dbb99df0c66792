import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelListCache, RoutePlanner, estimateRequestCost } from 'zg-gateway';
import { FakeProvider, testRegistry } from '../helpers/fakes.js';

function catalogOf(count: number, extra = 0): Map<string, number> {
  const models = new Map<string, number>();
  for (let i = 0; i < count; i++) models.set(`catalog/model-${String(i).padStart(5, '0')}`, 1 + extra);
  return models;
}

describe('ModelListCache (/v1/models)', () => {
  it('builds once for 10,000 catalog models, serves later calls from the cache, and rebuilds on a fleet or catalog change', () => {
    const registry = testRegistry();
    registry.add(new FakeProvider('p1', ['a', 'b']));
    let catalog = catalogOf(10_000);
    const planner = new RoutePlanner(registry, { catalogModels: () => catalog, modelAliases: { fast: 'a' } });
    // A fleet source builds its catalog map afresh on each call (as the configured fleet does).
    const cache = new ModelListCache(registry, planner, () => new Map(catalog));
    const started = performance.now();
    const all = cache.list();
    const buildMs = performance.now() - started;
    assert.equal(all.length, 10_003);
    const cachedStart = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(cache.list(), all);
    const cachedMs = (performance.now() - cachedStart) / 10;
    console.log(`# /v1/models with 10,000 catalog models: build ${buildMs.toFixed(1)} ms, cached call ${cachedMs.toFixed(2)} ms`);
    assert.equal(cache.builds, 1, 'not rebuilt per call');
    assert.deepEqual(
      cache.list(['b', 'fast', 'unknown', 'b']).map((view) => view.id),
      ['b', 'fast'],
      'a key sees only the names it lists, each once',
    );
    assert.equal(cache.get('a', ['b']), undefined);
    assert.equal(cache.get('fast', ['fast'])?.alias_of, 'a');
    assert.equal(cache.builds, 1);

    registry.add(new FakeProvider('p2', ['c']));
    assert.ok(cache.list().some((view) => view.id === 'c'), 'a provider joined: rebuilt');
    assert.equal(cache.builds, 2);
    catalog = catalogOf(10_000, 1);
    assert.equal(cache.list().find((view) => view.id === 'catalog/model-00000')?.catalog_providers, 2, 'the catalog changed: rebuilt');
    assert.equal(cache.builds, 3);
    planner.configure({ catalogModels: () => catalog });
    assert.ok(!cache.list().some((view) => view.id === 'fast'), 'the aliases changed (reload): rebuilt');
  });
});

describe('estimateRequestCost', () => {
  it('is the most expensive offer among the model\'s providers and its fallbacks the key may use', () => {
    const registry = testRegistry();
    registry.add(new FakeProvider('cheap', [{ id: 'a', inputPrice: 1n, outputPrice: 2n }]));
    registry.add(new FakeProvider('dear', [{ id: 'a', inputPrice: 10n, outputPrice: 20n }]));
    registry.add(new FakeProvider('other', [{ id: 'b', inputPrice: 100n, outputPrice: 200n }]));
    const planner = new RoutePlanner(registry, { fallbacks: { a: ['b'] }, modelAliases: { alias: 'a' } });
    assert.equal(estimateRequestCost(registry, planner, 'alias', 3, 4, (model) => model === 'a'), 3n * 10n + 4n * 20n);
    assert.equal(estimateRequestCost(registry, planner, 'a', 3, 4), 3n * 100n + 4n * 200n, 'a fallback the key may use counts');
    assert.equal(estimateRequestCost(registry, planner, 'a', 3, undefined, (model) => model === 'a'), 3n * 10n + 256n * 20n, '256 completion tokens without max_tokens');
    assert.equal(estimateRequestCost(registry, planner, 'nothing', 3, 4), 0n);
  });
});
