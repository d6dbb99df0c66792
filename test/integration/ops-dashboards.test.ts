/**
 * The Grafana dashboard (ops/grafana/zg-gateway.json) and the Prometheus alert rules
 * (ops/prometheus/alerts.yml) query only what a gateway exposes: a devnet gateway serves a little
 * traffic (JSON and a stream), `/metrics` is scraped, and every metric name and label in every
 * expression (and legend) must be there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { parseGatewayConfig, type GatewayOptions } from 'zg-gateway';
import { startDevnetGateway, waitFor, type DevnetGateway } from '../helpers/devnet-gateway.js';
import { scrape, type Sample } from '../helpers/prometheus-text.js';

// Compiled to build/test/integration/: the repository root is three levels up.
const root = join(__dirname, '..', '..', '..');
/** Labels Prometheus adds to every series of a target at scrape time. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface Query {
  where: string;
  expr: string;
  legend?: string;
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readFileSync(join(root, 'ops', 'grafana', 'zg-gateway.json'), 'utf8')) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string; legendFormat?: string }> }>;
  };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr, ...(target.legendFormat ? { legend: target.legendFormat } : {}) })));
}

function alertQueries(): Query[] {
  const rules = parse(readFileSync(join(root, 'ops', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations?: Record<string, string> }> }> };
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr, legend: Object.values(rule.annotations ?? {}).join(' ') })));
}

/** Metric names, and the labels an expression matches on, groups by, or shows. */
function referencesOf(query: Query): { metrics: string[]; labels: string[] } {
  const metrics = [...new Set(query.expr.match(/\bzg_gateway_[a-z0-9_]+/g) ?? [])];
  const labels = new Set<string>();
  for (const braces of query.expr.matchAll(/\{([^}]*)\}/g)) for (const matcher of (braces[1] as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.add(matcher[1] as string);
  for (const grouping of query.expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) for (const name of (grouping[1] as string).split(',')) if (name.trim()) labels.add(name.trim());
  // Legends: Grafana's {{label}}, alert annotations' {{ $labels.label }}.
  for (const legend of (query.legend ?? '').matchAll(/\{\{\s*(?:\$labels\.)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) labels.add(legend[1] as string);
  return { metrics, labels: [...labels] };
}

let devnet: DevnetGateway;
let samples: Sample[];

before(async () => {
  devnet = await startDevnetGateway({ gateway: { healthCheckInterval: 60_000 } });
  const { gateway } = devnet;
  const model = gateway.providers.list()[0]?.model ?? '';
  for (const stream of [false, true, false]) {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
  }
  // A retry: one provider fails its chats until a request has been retried on another.
  await devnet.devnet.providers[0]?.setFault({ mode: 'http-error', status: 500 });
  for (let index = 0; index < 6 && !(await scrape(`${gateway.url}/metrics`, gateway.adminToken)).some((sample) => sample.name === 'zg_gateway_retries_total'); index++) {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'again' }] }) });
    await response.arrayBuffer();
  }
  await devnet.devnet.providers[0]?.setFault({ mode: 'none' });
  // The ledger is read by the funding keeper after start: wait for its first reading.
  const ready = await waitFor(async () => {
    samples = await scrape(`${gateway.url}/metrics`, gateway.adminToken);
    return samples.some((sample) => sample.name === 'zg_gateway_ledger_available_neuron');
  }, 15_000);
  assert.ok(ready, 'the ledger balance appears in /metrics');
});

after(async () => {
  await devnet?.close();
});

test('the dashboard and the alert rules have queries to check (a positive control)', () => {
  const dashboard = dashboardQueries();
  const alerts = alertQueries();
  assert.ok(dashboard.length >= 25, `dashboard queries: ${dashboard.length}`);
  assert.equal(new Set(alerts.map((query) => query.where)).size, alerts.length);
  for (const name of ['NoHealthyProvider', 'HighErrorRate', 'LedgerBelowFloor', 'ProviderOvercharging', 'QueueSaturated']) {
    assert.ok(alerts.some((query) => query.where === `alert ZgGateway${name}`), `alert ZgGateway${name}`);
  }
  // The reference reader finds what it should in a known expression.
  assert.deepEqual(referencesOf({ where: 'x', expr: 'sum by (provider, le) (rate(zg_gateway_a_bucket{kind="c", x!~"y"}[5m]))', legend: '{{model}}' }), {
    metrics: ['zg_gateway_a_bucket'],
    labels: ['kind', 'x', 'provider', 'le', 'model'],
  });
});

test('every metric and label the dashboard and the alerts query exists in /metrics after traffic', () => {
  const names = new Set(samples.map((sample) => sample.name));
  const problems: string[] = [];
  for (const query of [...dashboardQueries(), ...alertQueries()]) {
    const { metrics, labels } = referencesOf(query);
    assert.ok(metrics.length > 0, `${query.where} queries no zg_gateway metric: ${query.expr}`);
    for (const metric of metrics) if (!names.has(metric)) problems.push(`${query.where}: no series ${metric}`);
    const available = new Set(samples.filter((sample) => metrics.includes(sample.name)).flatMap((sample) => Object.keys(sample.labels)));
    for (const label of labels) if (!TARGET_LABELS.has(label) && !available.has(label)) problems.push(`${query.where}: no label ${label} on ${metrics.join(', ')}`);
  }
  assert.deepEqual(problems, []);
});

test('the funds and billing gauges carry what the gateway knows', () => {
  const ledger = samples.find((sample) => sample.name === 'zg_gateway_ledger_available_neuron');
  assert.ok(ledger && ledger.value > 0, 'the devnet wallet has a funded ledger');
  assert.equal(samples.find((sample) => sample.name === 'zg_gateway_ledger_below_floor')?.value, 0);
  const overcharging = samples.filter((sample) => sample.name === 'zg_gateway_provider_overcharging');
  assert.equal(overcharging.length, devnet.gateway.providers.list().length, 'one series per provider');
  assert.ok(overcharging.every((sample) => sample.value === 0));
  assert.ok(samples.some((sample) => sample.name === 'zg_gateway_sub_account_balance_neuron' && sample.value > 0));
});

test('the container files agree with each other (on paper: nothing is built here)', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  assert.equal(dockerfile.match(/^FROM /gm)?.length, 2, 'two stages');
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /^USER node$/m);
  const compose = parse(readFileSync(join(root, 'ops', 'compose', 'compose.yaml'), 'utf8')) as { services: Record<string, { volumes?: string[] }> };
  assert.deepEqual(Object.keys(compose.services).sort(), ['gateway-1', 'gateway-2', 'postgres', 'prometheus', 'redis']);
  const prometheus = parse(readFileSync(join(root, 'ops', 'compose', 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
  // The rules Prometheus loads are the tested alerts.yml, mounted where it looks.
  const mounts = compose.services.prometheus?.volumes ?? [];
  for (const file of prometheus.rule_files) assert.ok(mounts.includes(`../prometheus/alerts.yml:${file}:ro`), `${file} is mounted from ops/prometheus/alerts.yml`);
  assert.deepEqual(prometheus.scrape_configs[0]?.static_configs[0]?.targets, ['gateway-1:3000', 'gateway-2:3000']);
  // The gateway config the compose file mounts is a valid config for this version.
  const gatewayConfig = parse(readFileSync(join(root, 'ops', 'compose', 'gateway.yaml'), 'utf8')) as Record<string, unknown>;
  assert.doesNotThrow(() => parseGatewayConfig({ ...gatewayConfig, key: `0x${'1'.repeat(64)}`, store: { type: 'redis', url: 'redis://redis:6379' } } as GatewayOptions, {}));
});
