import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, startCliServer, type CliServer } from '../helpers/cli-process.js';
import { startHostileUpstream } from '../helpers/hostile-upstream.js';

interface Answer {
  readonly status: number;
  readonly provider: string | null;
  readonly at: number;
  /** Streams: whether `[DONE]` arrived. */
  readonly complete: boolean;
}

function yamlFor(options: { strategy: string; upstreams: Array<[string, string, number]>; port?: number; maxRetries?: number }): string {
  return [
    `strategy: ${options.strategy}`,
    ...(options.port !== undefined ? [`port: ${options.port}`] : []),
    ...(options.maxRetries !== undefined ? [`maxRetries: ${options.maxRetries}`] : []),
    'openAICompatibleProviders:',
    ...options.upstreams.map(([name, baseUrl, weight]) => `  - name: ${name}\n    baseUrl: "${baseUrl}"\n    model: m\n    weight: ${weight}`),
    '',
  ].join('\n');
}

/** Replaces the file as editors and deploy tools do: a new file renamed over the old one. */
function replaceAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function count(server: CliServer, event: string): number {
  return server.logs().filter((record) => record.event === event).length;
}

async function oneRequest(url: string, stream: boolean): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'under reload' }] }),
  });
  const text = await response.text();
  return { status: response.status, provider: response.headers.get('x-provider-address'), at: Date.now(), complete: !stream || text.includes('data: [DONE]') };
}

test('config file changes under load: weights, an upstream added and one removed, the strategy, a broken file and its fix, the file briefly missing; no request fails', async () => {
  const upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startHostileUpstream(name, { kind: 'delay', ms: 30 })));
  const [a, b, c] = upstreams;
  assert.ok(a && b && c);
  const folder = mkdtempSync(join(tmpdir(), 'zg-reload-'));
  const path = join(folder, 'gateway.yaml');
  writeFileSync(path, yamlFor({ strategy: 'weighted-round-robin', upstreams: [['a', a.baseUrl, 1], ['b', b.baseUrl, 1]] }));
  const server = await startCliServer(['serve', '--config', path, '--port', '0', '--log-format', 'json']);
  const answers: Answer[] = [];
  let running = true;
  const client = async (index: number): Promise<void> => {
    for (let n = 0; running; n++) answers.push(await oneRequest(server.url, (n + index) % 2 === 0));
  };
  const reloads = async (expected: number): Promise<void> => {
    assert.ok(await eventually(() => count(server, 'config_reloaded') >= expected, 10_000), `reload ${expected} applied:\n${server.stdout().slice(-3000)}`);
  };
  const lastReload = (): Record<string, unknown> => server.logs().filter((record) => record.event === 'config_reloaded').at(-1) ?? {};
  try {
    const clients = Array.from({ length: 4 }, (_, index) => client(index));
    await new Promise((resolve) => setTimeout(resolve, 300));

    replaceAtomically(path, yamlFor({ strategy: 'weighted-round-robin', upstreams: [['a', a.baseUrl, 1], ['b', b.baseUrl, 4]] }));
    await reloads(1);
    assert.deepEqual(lastReload().reconfigured, ['b']);
    const weightsAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterWeights = answers.filter((answer) => answer.at > weightsAt + 100);
    const toB = afterWeights.filter((answer) => answer.provider === 'b').length;
    const toA = afterWeights.filter((answer) => answer.provider === 'a').length;
    assert.ok(toB > 2 * toA, `weights 1:4 send most traffic to b (a ${toA}, b ${toB})`);

    replaceAtomically(path, yamlFor({ strategy: 'weighted-round-robin', upstreams: [['a', a.baseUrl, 1], ['b', b.baseUrl, 4], ['c', c.baseUrl, 4]] }));
    await reloads(2);
    assert.deepEqual(lastReload().added, ['c']);
    assert.ok(await eventually(() => answers.some((answer) => answer.provider === 'c'), 5000), 'the added upstream takes traffic');

    replaceAtomically(path, yamlFor({ strategy: 'weighted-round-robin', upstreams: [['b', b.baseUrl, 4], ['c', c.baseUrl, 4]] }));
    await reloads(3);
    const removedAt = Date.now();
    assert.deepEqual(lastReload().removed, ['a']);

    writeFileSync(path, yamlFor({ strategy: 'least-connections', upstreams: [['b', b.baseUrl, 4], ['c', c.baseUrl, 4]] }));
    await reloads(4);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { loadBalancer: { strategy: string; providers: Array<{ address: string }> } };
    assert.equal(health.loadBalancer.strategy, 'least-connections');
    assert.deepEqual(health.loadBalancer.providers.map((provider) => provider.address).sort(), ['b', 'c']);

    writeFileSync(path, 'strategy: least-connections\nopenAICompatibleProviders: [\n');
    assert.ok(await eventually(() => count(server, 'config_rejected') >= 1), 'a broken file is rejected');
    writeFileSync(path, yamlFor({ strategy: 'fastest', upstreams: [['b', b.baseUrl, 4]] }));
    assert.ok(await eventually(() => count(server, 'config_rejected') >= 2), 'an invalid value is rejected');
    const rejection = server.logs().filter((record) => record.event === 'config_rejected').at(-1);
    assert.equal(rejection?.param, 'strategy');
    assert.equal(rejection?.level, 50);
    assert.equal(count(server, 'config_reloaded'), 4, 'nothing applied from the bad files');

    // Deleted, then back (as some tools replace files), with changes that need a restart: the port
    // (given by --port too, so it stays what the flag says) and maxRetries (read at start).
    unlinkSync(path);
    await new Promise((resolve) => setTimeout(resolve, 400));
    writeFileSync(path, yamlFor({ strategy: 'round-robin', port: 4321, maxRetries: 2, upstreams: [['b', b.baseUrl, 4], ['c', c.baseUrl, 4]] }));
    await reloads(5);
    const restart = server.logs().find((record) => record.event === 'config_restart_needed');
    assert.deepEqual(restart?.options, ['maxRetries']);
    assert.deepEqual(lastReload().applied, ['strategy']);
    assert.equal(count(server, 'config_file_missing'), 0, 'a short absence is not reported');

    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(clients);
    assert.ok(answers.length > 100, `${answers.length} requests`);
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [200], 'no request failed');
    assert.ok(answers.every((answer) => answer.complete), 'every stream ended with [DONE]');
    const lateOnA = answers.filter((answer) => answer.provider === 'a' && answer.at > removedAt + 500);
    assert.deepEqual(lateOnA, [], 'no new request went to the removed upstream');
  } finally {
    running = false;
    assert.equal(await server.stop(), 0);
    for (const upstream of upstreams) await upstream.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
