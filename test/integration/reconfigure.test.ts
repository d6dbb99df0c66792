import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { GatewayError, hashApiKey, runMultiProviderInferenceServer, watchConfigFile, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { eventually } from '../helpers/cli-process.js';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream } from '../helpers/hostile-upstream.js';
import { startSlowStreamUpstream } from '../helpers/slow-stream-upstream.js';

async function chat(gateway: GatewayHandle, body: Record<string, unknown>, key?: string): Promise<{ status: number; provider: string | null; text: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  return { status: response.status, provider: response.headers.get('x-provider-address'), text: await response.text() };
}

test('a reload that removes a provider with a stream in flight lets the stream finish; new requests go elsewhere', async () => {
  const slow = await startSlowStreamUpstream('slow', 10, 100);
  const other = await startHostileUpstream('other');
  const base: GatewayOptions = { port: 0, openAICompatibleProviders: [{ name: 'slow', baseUrl: slow.baseUrl, model: 'm' }] };
  const gateway = await runMultiProviderInferenceServer(base, { logger: silentLogger });
  try {
    const streaming = chat(gateway, { model: 'm', stream: true });
    assert.ok(await eventually(() => slow.open === 1, 3000), 'the stream is open');
    const report = await gateway.reconfigure({ ...base, openAICompatibleProviders: [{ name: 'other', baseUrl: other.baseUrl, model: 'm' }] });
    assert.deepEqual(report.providers.removed, ['slow']);
    assert.deepEqual(report.providers.added, ['other']);
    assert.equal(gateway.providers.list().find((member) => member.id === 'slow')?.state, 'draining');
    const meanwhile = await chat(gateway, { model: 'm' });
    assert.equal(meanwhile.status, 200);
    assert.equal(meanwhile.provider, 'other');
    const streamed = await streaming;
    assert.equal(streamed.status, 200);
    assert.equal(streamed.provider, 'slow');
    assert.match(streamed.text, /slow9 [\s\S]*data: \[DONE\]/, 'the whole stream arrived');
    assert.ok(await eventually(() => !gateway.providers.list().some((member) => member.id === 'slow')), 'then it left');
  } finally {
    await gateway.close();
    await slow.close();
    await other.close();
  }
});

test('reconfigure: routing, membership options, replaced upstreams and keys apply live; start-only options are named, not applied; invalid options change nothing', async () => {
  const one = await startHostileUpstream('one');
  const two = await startHostileUpstream('two');
  const keyA = 'client-key-a-0123456789';
  const keyB = 'client-key-b-0123456789';
  const base = {
    port: 0,
    apiKeys: [{ id: 'a', key: keyA }],
    openAICompatibleProviders: [{ name: 'up', baseUrl: one.baseUrl, model: 'm' }],
  } satisfies GatewayOptions;
  const gateway = await runMultiProviderInferenceServer(base, { logger: silentLogger });
  try {
    assert.equal((await chat(gateway, { model: 'm' }, keyA)).status, 200);
    const report = await gateway.reconfigure({
      ...base,
      port: 1234,
      host: '127.0.0.2',
      timeouts: { firstByte: 1000 },
      store: { type: 'redis', url: 'redis://127.0.0.1:1' },
      logLevel: 'error',
      modelAliases: { small: 'm' },
      defaultModel: 'small',
      apiKeys: [{ id: 'b', hash: hashApiKey(keyB) }],
      openAICompatibleProviders: [{ name: 'up', baseUrl: two.baseUrl, model: 'm', maxConcurrent: 7 }],
    });
    assert.deepEqual(report.needsRestart.sort(), ['host', 'port', 'store', 'timeouts']);
    assert.deepEqual(report.applied.sort(), ['apiKeys', 'defaultModel', 'logLevel', 'modelAliases', 'openAICompatibleProviders']);
    assert.deepEqual(report.providers.replaced, ['up']);
    assert.equal(gateway.config.port, 0, 'the handle shows what is in force');
    assert.equal(gateway.config.store.type, 'memory');
    assert.equal(gateway.config.defaultModel, 'small');
    assert.equal((await chat(gateway, { model: 'small' }, keyA)).status, 401, 'the old key is refused at once');
    assert.ok(await eventually(async () => /chatcmpl-two/.test((await chat(gateway, {}, keyB)).text)), 'the replaced upstream (same id, new URL) serves the alias by default');
    assert.equal(gateway.gateway.registry.get('up')?.maxConcurrent, 7);
    const models = (await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${keyB}` } })).json()) as { data: Array<{ id: string }> };
    assert.ok(models.data.some((model) => model.id === 'small'));

    const unchanged = gateway.config;
    for (const [options, field] of [
      [{ ...base, strategy: 'fastest' }, 'strategy'],
      [{ ...base, openAICompatibleProviders: [] }, 'providers'],
      [{ ...base, weights: { up: 0 } }, 'weights.up'],
      [{ ...base, keysFile: '/nonexistent/keys.json' }, 'keysFile'],
    ] as Array<[GatewayOptions, string]>) {
      await assert.rejects(gateway.reconfigure(options), (error: unknown) => GatewayError.isInstance(error) && error.code === 'invalid_config' && error.param === field, field);
    }
    assert.deepEqual(gateway.config, unchanged, 'a rejected change changes nothing');
    assert.equal((await chat(gateway, {}, keyB)).status, 200);
  } finally {
    await gateway.close();
    await one.close();
    await two.close();
  }
});

test('keys on a gateway that started without any need a restart (it never switches from open to closed live)', async () => {
  const upstream = await startHostileUpstream('up');
  const base = { port: 0, openAICompatibleProviders: [{ name: 'up', baseUrl: upstream.baseUrl, model: 'm' }] } satisfies GatewayOptions;
  const gateway = await runMultiProviderInferenceServer(base, { logger: silentLogger });
  try {
    const report = await gateway.reconfigure({ ...base, apiKeys: [{ id: 'a', key: 'client-key-a-0123456789' }], strategy: 'random' });
    assert.deepEqual(report.needsRestart, ['apiKeys']);
    assert.deepEqual(report.applied, ['strategy']);
    assert.equal(gateway.gateway.strategy.name, 'random');
    assert.equal((await chat(gateway, { model: 'm' })).status, 200);
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

test('the watcher says when the file stays missing, and applies it when it is back', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'zg-watch-'));
  const path = join(folder, 'gateway.json');
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
  const applied: GatewayOptions[] = [];
  writeFileSync(path, '{"strategy": "random"}');
  const watcher = watchConfigFile({
    path,
    logger,
    missingGraceMs: 300,
    debounceMs: 50,
    apply: async (options) => {
      applied.push(options);
      return { changed: [], applied: [], needsRestart: [], providers: { added: [], removed: [], replaced: [], reconfigured: [], failed: [] } };
    },
  });
  try {
    await watcher.idle();
    rmSync(path);
    assert.ok(await eventually(() => lines.some((line) => line.event === 'config_file_missing'), 3000), 'reported after the grace period');
    assert.equal(applied.length, 0);
    writeFileSync(path, '{"strategy": "least-connections"}');
    assert.ok(await eventually(() => applied.length === 1, 3000));
    assert.deepEqual(applied[0], { strategy: 'least-connections' });
    assert.ok(lines.some((line) => line.event === 'config_file_back'));
    writeFileSync(path, '{"strategy": "least-connections"}');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(applied.length, 1, 'the same text is not applied again');
  } finally {
    watcher.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
