import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLabel, ModelLabel, reasonKind, routeLabel } from 'zg-gateway';

describe('metric labels stay bounded', () => {
  it('reasonKind keeps the leading word and never a figure', () => {
    assert.equal(reasonKind(undefined), 'default');
    assert.equal(reasonKind(''), 'default');
    assert.equal(reasonKind('session'), 'session');
    assert.equal(reasonKind('cheapest 3 neuron/token'), 'cheapest');
    assert.equal(reasonKind('Least-TTFB 120ms'), 'least-ttfb');
    assert.equal(reasonKind('42 ms'), 'other');
    assert.equal(reasonKind('x'.repeat(100)).length, 40);
  });

  it('routeLabel keeps served routes, folds the docs assets and everything else', () => {
    const known = new Set(['/v1/chat/completions', '/docs/{asset}']);
    assert.equal(routeLabel('/v1/chat/completions', known), '/v1/chat/completions');
    assert.equal(routeLabel('/docs/swagger-ui.css', known), '/docs/{asset}');
    assert.equal(routeLabel('/wp-admin/login.php', known), 'other');
  });

  it('BoundedLabel keeps its first values, then says other', () => {
    const label = new BoundedLabel(2);
    assert.deepEqual(['a', 'b', 'c', 'a', undefined].map((value) => label.of(value)), ['a', 'b', 'other', 'a', 'none']);
  });

  it('ModelLabel knows the models the fleet lists, re-reading them at most once a second', () => {
    let served = ['m'];
    let now = 0;
    let reads = 0;
    const label = new ModelLabel(() => {
      reads += 1;
      return served;
    }, () => now);
    assert.equal(label.of('m'), 'm');
    assert.equal(label.of('made-up'), 'other');
    served = ['m', 'late'];
    assert.equal(label.of('late'), 'other', 'not re-read within the second');
    now = 1000;
    assert.equal(label.of('late'), 'late');
    assert.equal(label.of(undefined), 'none');
    assert.equal(reads, 2);
  });
});
