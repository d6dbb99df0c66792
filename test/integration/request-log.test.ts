import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminRequestsSchema, adminUsageSchema, runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions, type KeyView, type LoggedRequest, type UsageRow } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { asAdmin } from '../helpers/admin-fetch.js';
import { devnetGatewayOptions, waitFor } from '../helpers/devnet-gateway.js';
import { cliEnvironment, runCli } from '../helpers/cli-process.js';

const ALICE = 'zgk-alice-0123456789abcdef';
const BOB = 'zgk-bob-0123456789abcdefgh';

/** One chat with its request id; the stream is read to its end (or `abortAfterChunks` chunks, then the client leaves). */
async function chat(gateway: GatewayHandle, id: string, key: string, options: { model?: string; stream?: boolean; abortAfterChunks?: number } = {}): Promise<{ status: number; cost: string | null; text: string }> {
  const controller = new AbortController();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    signal: controller.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id },
    body: JSON.stringify({ model: options.model, messages: [{ role: 'user', content: `request ${id}, a few words to count` }], ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}) }),
  });
  if (options.abortAfterChunks === undefined) return { status: response.status, cost: response.headers.get('x-request-cost'), text: await response.text() };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (let chunk = 0; chunk < options.abortAfterChunks; chunk++) await reader.read();
  controller.abort();
  await reader.cancel().catch(() => undefined);
  return { status: response.status, cost: null, text: '' };
}

const admin = async <T>(gateway: GatewayHandle, path: string): Promise<T> => {
  const response = await fetch(`${gateway.url}${path}`, asAdmin(gateway));
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as T;
};

describe('the request log on the devnet (PGlite): a row per request, totals that match keys and billing, kept across a restart', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  const directory = mkdtempSync(join(tmpdir(), 'zg-reqlog-'));
  const options = (): GatewayOptions =>
    devnetGatewayOptions(devnet, {
      apiKeys: [{ id: 'alice', key: ALICE }, { id: 'bob', key: BOB }],
      requestLog: { path: join(directory, 'log'), flushInterval: 50 },
      healthCheckInterval: 3_600_000,
      autoFundingInterval: 3_600_000,
      billing: { reconcileInterval: 3_600_000, reclaimAfter: 0 },
    });
  const rowsOf = async (): Promise<LoggedRequest[]> => (await admin<{ requests: LoggedRequest[] }>(gateway, '/admin/requests?limit=1000')).requests;

  before(async () => {
    devnet = await startLocalDevnet({ providers: 2 });
    gateway = await runMultiProviderInferenceServer(options());
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  test('JSON, stream, failure and client abort: each one row with what happened', async () => {
    const model = devnet.providers[0]?.model as string;
    const json = await chat(gateway, 'json-1', ALICE, { model });
    assert.equal(json.status, 200);
    const stream = await chat(gateway, 'stream-1', BOB, { model, stream: true });
    assert.equal(stream.status, 200);
    const failed = await chat(gateway, 'fail-1', ALICE, { model: 'no-such-model' });
    assert.equal(failed.status, 404);
    for (const provider of devnet.providers) await provider.setFault({ mode: 'slow-drip', intervalMs: 100 });
    await chat(gateway, 'abort-1', BOB, { model, stream: true, abortAfterChunks: 3 });
    assert.ok(await waitFor(async () => (await gateway.requestLog?.flush(), (await rowsOf()).some((row) => row.id === 'abort-1')), 10_000), 'the aborted stream is logged once settled');
    for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
    const rows = await rowsOf();
    const row = (id: string): LoggedRequest => {
      const found = rows.filter((entry) => entry.id === id);
      assert.equal(found.length, 1, `one row for ${id}`);
      return found[0] as LoggedRequest;
    };
    const jsonRow = row('json-1');
    assert.equal(jsonRow.outcome, 'ok');
    assert.equal(jsonRow.status, 200);
    assert.equal(jsonRow.keyId, 'alice');
    assert.equal(jsonRow.modelRequested, model);
    assert.equal(jsonRow.model, model);
    assert.equal(jsonRow.stream, false);
    assert.equal(jsonRow.costNeuron, json.cost, 'the cost the answer said, exactly');
    assert.ok(jsonRow.provider && devnet.providers.some((provider) => provider.address.toLowerCase() === jsonRow.provider?.toLowerCase()));
    assert.ok((jsonRow.promptTokens ?? 0) > 0 && (jsonRow.completionTokens ?? 0) > 0 && jsonRow.attempts === 1 && (jsonRow.ttftMs ?? 0) > 0 && jsonRow.durationMs >= (jsonRow.ttftMs ?? 0));
    const streamRow = row('stream-1');
    assert.equal(streamRow.stream, true);
    assert.equal(streamRow.keyId, 'bob');
    assert.equal(streamRow.outcome, 'ok');
    assert.ok(BigInt(streamRow.costNeuron ?? '0') > 0n);
    const failRow = row('fail-1');
    assert.equal(failRow.status, 404);
    assert.equal(failRow.outcome, 'error');
    assert.equal(failRow.errorCode, 'model_not_found');
    assert.equal(failRow.costNeuron, null);
    const abortRow = row('abort-1');
    assert.equal(abortRow.outcome, 'client_closed');
    assert.equal(abortRow.stream, true);
    assert.ok(BigInt(abortRow.costNeuron ?? '0') > 0n, 'what the aborted stream produced is charged and logged');
    assert.equal(gateway.requestLog?.counts().dropped, 0);
  });

  test('exact totals: spend and tokens per key match /admin/keys, served spend per provider matches /admin/billing', async () => {
    for (let index = 0; index < 4; index++) await chat(gateway, `more-${index}`, index % 2 === 0 ? ALICE : BOB, { model: devnet.providers[index % 2]?.model as string, stream: index > 1 });
    await gateway.requestLog?.flush();
    const byKey = (await admin<{ usage: UsageRow[] }>(gateway, '/admin/usage?group_by=key&interval=day')).usage;
    const { keys } = await admin<{ keys: KeyView[] }>(gateway, '/admin/keys');
    for (const key of keys) {
      const rows = byKey.filter((entry) => entry.group === key.id);
      assert.equal(rows.reduce((sum, entry) => sum + BigInt(entry.spendNeuron), 0n).toString(), key.spend.totalNeuron, `spend of ${key.id}`);
      assert.equal(rows.reduce((sum, entry) => sum + entry.promptTokens, 0), key.usage.promptTokens, `prompt tokens of ${key.id}`);
      assert.equal(rows.reduce((sum, entry) => sum + entry.completionTokens, 0), key.usage.completionTokens, `completion tokens of ${key.id}`);
    }
    assert.ok(keys.every((key) => BigInt(key.spend.totalNeuron) > 0n));
    // /status takes per-key usage from the log (its last 24 h: every row here): the same figures.
    const status = (await admin<{ keys: { source: string; keys: Array<{ id: string; spendNeuron: string; promptTokens: number; inFlight: number | null }> } }>(gateway, '/admin/status')).keys;
    assert.equal(status.source, 'request-log');
    assert.deepEqual(
      status.keys.map((entry) => [entry.id, entry.spendNeuron, entry.promptTokens, entry.inFlight]).sort(),
      keys.map((key) => [key.id, key.spend.totalNeuron, key.usage.promptTokens, null]).sort(),
    );
    // Billing counts complete answers: the rows served `ok`.
    const billing = await admin<{ providers: Array<{ provider: string; served: string }> }>(gateway, '/admin/billing');
    assert.ok(billing.providers.some((provider) => BigInt(provider.served) > 0n), 'billing counted fees');
    const served = (await admin<{ usage: UsageRow[] }>(gateway, '/admin/usage?group_by=provider&outcome=ok')).usage;
    for (const provider of billing.providers) {
      const logged = served.filter((entry) => entry.group?.toLowerCase() === provider.provider.toLowerCase()).reduce((sum, entry) => sum + BigInt(entry.spendNeuron), 0n);
      assert.equal(logged.toString(), provider.served, `served by ${provider.provider}`);
    }
  });

  test('filters, pages and CSV over HTTP; bad parameters are 400; no token is 401', async () => {
    const alice = await admin<{ requests: LoggedRequest[] }>(gateway, '/admin/requests?key=alice');
    // The answers are what the OpenAPI document says (strictly: no field more or less).
    assert.deepEqual(adminRequestsSchema.strict().parse(alice), alice);
    const hourly = await admin<object>(gateway, '/admin/usage?group_by=provider&interval=hour');
    assert.deepEqual(adminUsageSchema.strict().parse(hourly), hourly);
    assert.ok(alice.requests.length >= 3 && alice.requests.every((row) => row.keyId === 'alice'));
    const first = await admin<{ requests: LoggedRequest[]; nextCursor: string }>(gateway, '/admin/requests?limit=2');
    assert.equal(first.requests.length, 2);
    const second = await admin<{ requests: LoggedRequest[] }>(gateway, `/admin/requests?limit=2&cursor=${first.nextCursor}`);
    assert.notDeepEqual(second.requests.map((row) => row.id), first.requests.map((row) => row.id));
    const csv = await fetch(`${gateway.url}/admin/requests?format=csv&outcome=error`, asAdmin(gateway));
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.match(lines[0] as string, /^id,time,instanceId,keyId,/);
    assert.ok(lines.some((line) => line.startsWith('fail-1,')));
    const usageCsv = await (await fetch(`${gateway.url}/admin/usage?format=csv&group_by=model&interval=hour`, asAdmin(gateway))).text();
    assert.match(usageCsv, /^bucket,group,requests,errors,promptTokens,completionTokens,spendNeuron,p50Ms,p95Ms\r\n/);
    for (const bad of ['/admin/requests?limit=0', '/admin/requests?limit=5000', '/admin/usage?group_by=route', '/admin/usage?interval=week', '/admin/requests?from=yesterday', '/admin/requests?cursor=abc']) {
      const response = await fetch(`${gateway.url}${bad}`, asAdmin(gateway));
      assert.equal(response.status, 400, bad);
    }
    assert.equal((await fetch(`${gateway.url}/admin/requests`)).status, 401);
    const metrics = await (await fetch(`${gateway.url}/metrics`, asAdmin(gateway))).text();
    assert.match(metrics, /zg_gateway_request_log_rows_written_total \d+/);
    assert.match(metrics, /zg_gateway_request_log_rows_dropped_total 0/);
  });

  test('the CLI prints the same from the running gateway: a usage table, the requests, JSON and CSV', async () => {
    const env = cliEnvironment({ ZG_GATEWAY_URL: gateway.url, ADMIN_TOKEN: gateway.adminToken });
    const table = await runCli(['usage', '--group-by', 'key', '--interval', 'day'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0] as string, /^DAY \(UTC\)\s+KEY\s+REQUESTS\s+ERRORS\s+TOKENS IN\s+TOKENS OUT\s+SPEND 0G\s+P50 MS\s+P95 MS$/);
    const api = (await admin<{ usage: UsageRow[] }>(gateway, '/admin/usage?group_by=key&interval=day')).usage;
    for (const row of api) {
      const line = lines.find((entry) => entry.split(/\s+/)[1] === row.group);
      assert.ok(line, `a line for ${row.group}`);
      assert.equal(line.split(/\s+/)[2], String(row.requests));
    }
    const json = await runCli(['usage', 'requests', '--key', 'alice', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const page = JSON.parse(json.stdout) as { requests: LoggedRequest[] };
    assert.deepEqual(page.requests, (await admin<{ requests: LoggedRequest[] }>(gateway, '/admin/requests?key=alice')).requests);
    const list = await runCli(['usage', 'requests', '--limit', '2'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^TIME\s+ID\s+KEY\s+MODEL/);
    assert.match(list.stdout, /More: --cursor \S+/);
    const csv = await runCli(['usage', '--csv', '--group-by', 'provider'], env);
    assert.match(csv.stdout, /^bucket,group,requests/);
    const denied = await runCli(['usage'], cliEnvironment({ ZG_GATEWAY_URL: gateway.url, ADMIN_TOKEN: 'not-the-admin-token-000' }));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /401/);
    const missing = await runCli(['usage'], cliEnvironment({ ZG_GATEWAY_URL: gateway.url }));
    assert.equal(missing.code, 2, 'no token is a usage error');
  });

  test('a restart keeps the rows (the PGlite directory)', async () => {
    const before = (await rowsOf()).map((row) => row.id);
    await gateway.close();
    gateway = await runMultiProviderInferenceServer(options());
    assert.deepEqual((await rowsOf()).map((row) => row.id), before);
  });
});
