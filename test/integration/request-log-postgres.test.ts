import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions, type LoggedRequest, type UsageRow } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { asAdmin } from '../helpers/admin-fetch.js';
import { devnetGatewayOptions } from '../helpers/devnet-gateway.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres-server.js';

async function chat(gateway: GatewayHandle, id: string, model: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: `request ${id}` }] }),
  });
  await response.text();
  return { status: response.status, ms: performance.now() - started };
}

const requestsOf = async (gateway: GatewayHandle, query = ''): Promise<LoggedRequest[]> => {
  const response = await fetch(`${gateway.url}/admin/requests?limit=1000${query}`, asAdmin(gateway));
  assert.equal(response.status, 200);
  return ((await response.json()) as { requests: LoggedRequest[] }).requests;
};

describe('the request log on a real PostgreSQL: two instances share it; a database that is down fails no request', () => {
  let devnet: LocalDevnet;
  let postgres: TestPostgres;
  let first: GatewayHandle;
  let second: GatewayHandle;
  let model: string;
  const options = (url: string): GatewayOptions =>
    devnetGatewayOptions(devnet, { requestLog: { url, flushInterval: 50, maxBuffered: 5 }, healthCheckInterval: 3_600_000, autoFundingInterval: 3_600_000 });

  before(async () => {
    [devnet, postgres] = await Promise.all([startLocalDevnet({ providers: 2 }), startTestPostgres()]);
    model = devnet.providers[0]?.model as string;
    const url = await postgres.createDatabase('shared_log');
    // Both start (and migrate) at once.
    [first, second] = await Promise.all([runMultiProviderInferenceServer(options(url)), runMultiProviderInferenceServer(options(url))]);
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await devnet?.stop();
    await postgres?.close();
  });

  test('two instances write one database: each sees every row, told apart by instance', async () => {
    for (let index = 0; index < 3; index++) {
      assert.equal((await chat(first, `first-${index}`, model)).status, 200);
      assert.equal((await chat(second, `second-${index}`, model)).status, 200);
    }
    await Promise.all([first.requestLog?.flush(), second.requestLog?.flush()]);
    const seen = await requestsOf(first);
    assert.deepEqual(seen.map((row) => row.id).sort(), ['first-0', 'first-1', 'first-2', 'second-0', 'second-1', 'second-2']);
    assert.equal(new Set(seen.map((row) => row.instanceId)).size, 2);
    assert.equal(seen.find((row) => row.id === 'second-0')?.instanceId, second.gateway.id);
    assert.deepEqual(await requestsOf(second), seen);
    const usage = (await (await fetch(`${second.url}/admin/usage?group_by=model`, asAdmin(second))).json()) as { usage: UsageRow[] };
    assert.equal(usage.usage.find((row) => row.group === model)?.requests, 6);
  });

  test('PostgreSQL down: requests are served as fast as before, the buffer keeps 5 rows, the rest are dropped and counted; back up, the kept rows are written', async () => {
    const up: number[] = [];
    for (let index = 0; index < 5; index++) up.push((await chat(first, `up-${index}`, model)).ms);
    await first.requestLog?.flush();
    const before = (await requestsOf(first)).length;
    await postgres.stop();
    const down: number[] = [];
    for (let index = 0; index < 12; index++) {
      const answer = await chat(first, `down-${index}`, model);
      assert.equal(answer.status, 200, 'the request is served');
      down.push(answer.ms);
    }
    await first.requestLog?.flush();
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    assert.ok(median(down) < median(up) * 3 + 50, `median ${median(down).toFixed(1)} ms down vs ${median(up).toFixed(1)} ms up`);
    const counts = first.requestLog?.counts();
    assert.equal(counts?.dropped, 7, 'beyond maxBuffered (5), rows are dropped');
    assert.equal(counts?.buffered, 5);
    assert.ok((counts?.failedWrites ?? 0) >= 1);
    const refused = await fetch(`${first.url}/admin/requests`, asAdmin(first));
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'request_log_unavailable');
    const metrics = await (await fetch(`${first.url}/metrics`, asAdmin(first))).text();
    assert.match(metrics, /zg_gateway_request_log_rows_dropped_total 7/);
    assert.match(metrics, /zg_gateway_request_log_buffered_rows 5/);
    await postgres.restart();
    await first.requestLog?.flush();
    const rows = await requestsOf(first);
    assert.equal(rows.length, before + 5, 'the five kept rows are written once the database is back');
    assert.deepEqual(rows.filter((row) => row.id.startsWith('down-')).map((row) => row.id).sort(), ['down-0', 'down-1', 'down-2', 'down-3', 'down-4']);
    assert.equal(first.requestLog?.counts().buffered, 0);
  });
});
