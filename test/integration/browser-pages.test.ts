/**
 * The status page and the API docs in a real headless Chromium (Debian's package, driven by
 * playwright-core): they render, refresh, authenticate, and load nothing from outside.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { launchChromium, pngLuminance, type HeadlessChromium } from '../helpers/chromium.js';
import { waitFor } from '../helpers/devnet-gateway.js';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

async function chat(gateway: GatewayHandle, content: string): Promise<number> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function start(upstreams: HostileUpstream[], options: Partial<GatewayOptions> = {}): Promise<GatewayHandle> {
  return runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl, models: [{ id: 'm', inputPrice: '2000000000', outputPrice: '5000000000' }] })),
      port: 0,
      healthCheckInterval: 3_600_000,
      ...options,
    },
    { logger: silentLogger },
  );
}

/** Watches a page: every URL it requested, and its console errors (CSP violations among them). */
function watch(page: Page): { urls: string[]; errors: string[] } {
  const seen = { urls: [] as string[], errors: [] as string[] };
  page.on('request', (request) => seen.urls.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') seen.errors.push(message.text());
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  return seen;
}

function assertSameOrigin(urls: readonly string[], origin: string): void {
  const outside = urls.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
  assert.deepEqual(outside, [], 'no request leaves the gateway');
}

/** Markup in a provider's name and in its error: the page must show it as text, never run it. */
const HOSTILE_NAME = '<img src=x onerror=document.body.dataset.pwned=1>';
const HOSTILE_ERROR = '<script>document.body.dataset.pwned=2</script><img src=y onerror=document.body.dataset.pwned=3>';

const cellText = (page: Page, provider: string, field: string): Promise<string> =>
  page.locator(`tr[data-provider="${provider}"] td[data-field="${field}"]`).innerText();

describe('pages in headless Chromium', () => {
  let chromium: HeadlessChromium;
  let alpha: HostileUpstream;
  let beta: HostileUpstream;
  let gamma: HostileUpstream;
  let evil: HostileUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    chromium = await launchChromium();
    alpha = await startHostileUpstream('alpha');
    beta = await startHostileUpstream('beta');
    gamma = await startHostileUpstream('gamma', { kind: 'status', status: 500, body: JSON.stringify({ error: { message: `${HOSTILE_ERROR} ${'and a long tail '.repeat(12)}END` } }) });
    // A provider whose configured name is markup: it must show as text.
    evil = await startHostileUpstream(HOSTILE_NAME, { kind: 'status', status: 500 });
    // A long cool-down: the failing breakers stay open however slow the machine is.
    gateway = await start([alpha, beta, gamma, evil], { circuitBreaker: { coolDownMs: 600_000 } });
    // gamma and the hostile one fail three times in a row: their breakers open; alpha and beta serve everything.
    for (let index = 0; index < 12; index++) assert.equal(await chat(gateway, `warm-up ${index}`), 200);
    // Chromium can need a while to start on a busy machine.
  }, { timeout: 60_000 });

  after(async () => {
    await chromium?.close();
    await gateway?.close();
    for (const upstream of [alpha, beta, gamma, evil]) await upstream?.close();
  });

  test('/status renders the fleet, states and figures, and refreshes by itself', { timeout: 60_000 }, async () => {
    const page = await chromium.context.newPage();
    const seen = watch(page);
    await page.goto(`${gateway.url}/status?refresh=300`);
    // No adminToken configured: the page asks for the one the gateway generated (admin is never open without one).
    await page.waitForSelector('#auth:not([hidden])', { timeout: 15_000 });
    // The controls have accessible names.
    await page.getByLabel('Admin token').fill(gateway.adminToken);
    await page.getByRole('button', { name: 'Show status' }).click();
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
    assert.equal(await page.locator('#providers tr').count(), 4);
    for (const name of ['alpha', 'beta', 'gamma']) assert.match(await page.locator(`tr[data-provider="${name}"] .name`).innerText(), new RegExp(`^${name}$`));
    assert.equal(await cellText(page, 'alpha', 'breaker'), 'closed');
    assert.match(await cellText(page, 'gamma', 'breaker'), /^open\s+retry in (9|10) min/, 'the cool-down counts down');
    // Why it is out, in plain text on the page (not only a tooltip).
    assert.match(await cellText(page, 'gamma', 'health'), /^out\s+breaker open/);
    assert.equal(await cellText(page, 'alpha', 'health'), 'in rotation');
    // Plain upstreams have no funding or trust to show: no green badge.
    assert.equal(await cellText(page, 'beta', 'funding'), 'n/a');
    assert.equal(await cellText(page, 'beta', 'trust'), 'n/a');
    assert.equal(await page.locator('tr[data-provider="beta"] td[data-field="funding"] .badge').count(), 0);
    assert.equal(await cellText(page, 'gamma', 'share'), '0 %');
    assert.match(await cellText(page, 'alpha', 'spend'), / 0G$/);
    assert.doesNotMatch(await cellText(page, 'alpha', 'spend'), /neuron|B /, 'people read 0G, not "B neuron"');
    assert.equal(await page.locator('#overall').innerText(), 'degraded');
    // The last error is shown whole (wrapped, not cut) and as text.
    const lastError = await cellText(page, 'gamma', 'lastError');
    assert.ok(lastError.includes(HOSTILE_ERROR) && lastError.includes('END'), `the whole error as text: ${lastError}`);
    assert.equal(await cellText(page, 'alpha', 'lastError'), '-');
    // The hostile name is text: no element was made from it, nothing ran.
    assert.equal(await page.locator(`tr[data-provider="${HOSTILE_NAME}"] .name`).innerText(), HOSTILE_NAME);
    assert.equal(await page.locator('#providers img, #failures img, #providers script').count(), 0);
    assert.equal(await page.evaluate(`document.body.dataset.pwned === undefined`), true, 'no provider string ran');
    assert.ok((await page.locator('#failures tr').count()) >= 6, 'the failed attempts are listed with their times');
    assert.equal(await page.getByRole('combobox', { name: 'Charts for' }).count(), 1, 'the chart control has an accessible name');
    assert.match(await page.locator('#uptime').innerText(), /^\d+ (s|min)/);
    assert.match(await page.locator('#version').innerText(), /^\d+\.\d+\.\d+/);
    assert.equal(await page.locator('#billing').innerText(), 'n/a', 'no 0G wallet: no billing');

    const screenshot = await page.screenshot({ fullPage: true });
    const file = join(tmpdir(), 'zg-gateway-status-page.png');
    writeFileSync(file, screenshot);
    assert.deepEqual([...screenshot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(screenshot.length > 10_000, `a screenshot of ${screenshot.length} bytes (${file})`);
    const picture = await pngLuminance(chromium.context, screenshot);
    assert.ok(picture.width >= 1000 && picture.height >= 200, `size ${picture.width}x${picture.height}`);
    assert.ok(picture.variance > 50, `the page is not blank (luminance variance ${picture.variance.toFixed(1)})`);

    const servedBefore = await cellText(page, 'alpha', 'served');
    for (let index = 0; index < 4; index++) assert.equal(await chat(gateway, `more ${index}`), 200);
    // Polled from here: a string predicate would be eval'd in the page, which its CSP forbids.
    const changed = await waitFor(async () => (await cellText(page, 'alpha', 'served')) !== servedBefore, 20_000);
    assert.ok(changed, `the served figure changed (page message: ${await page.locator('#message').innerText().catch(() => '?')})`);
    assert.ok(Number(await cellText(page, 'alpha', 'served')) > Number(servedBefore), 'the page refreshed with the new traffic');
    assert.ok(Number(await page.locator('#chart-rate').getAttribute('data-points')) > 0, 'the requests chart has data');
    assert.ok(Number(await page.locator('#chart-latency').getAttribute('data-points')) > 0, 'the latency chart has data');
    // Scope the charts to one provider: its series comes back.
    await page.getByRole('combobox', { name: 'Charts for' }).selectOption('alpha');
    assert.ok(await waitFor(async () => Number(await page.locator('#chart-rate').getAttribute('data-points')) > 0, 10_000));
    assertSameOrigin(seen.urls, gateway.url);
    // The polls before the token was entered were answered 401 (Chromium logs each); nothing else.
    assert.deepEqual(seen.errors.filter((error) => !/status of 401/.test(error)), [], 'no console error (CSP violations included)');
    await page.close();
  });

  test('/status asks for the admin token when one is set, and keeps it for the tab only', { timeout: 60_000 }, async () => {
    const token = 'a-long-admin-token-for-the-page';
    const guarded = await start([alpha], { adminToken: token });
    try {
      const page = await chromium.context.newPage();
      const seen = watch(page);
      await page.goto(`${guarded.url}/status?refresh=300`);
      await page.waitForSelector('#auth:not([hidden])', { timeout: 15_000 });
      assert.equal(await page.locator('#providers tr').count(), 0, 'no data without the token');
      await page.fill('#token', token);
      await page.click('#auth button');
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
      assert.equal(await page.locator('tr[data-provider="alpha"] .name').innerText(), 'alpha');
      assert.equal(await page.evaluate(`sessionStorage.getItem('zg-gateway.adminToken')`), token);
      assert.equal(await page.evaluate(`localStorage.length`), 0, 'nothing kept beyond the tab');
      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
      assert.equal(await page.locator('#auth').isHidden(), true, 'a reload in the same tab does not ask again');
      assert.ok(!(await page.content()).includes(token), 'the token is never written into the page');
      assertSameOrigin(seen.urls, guarded.url);
      await page.close();
    } finally {
      await guarded.close();
    }
  });

  test('/docs renders Swagger UI for every route, with nothing loaded from outside', { timeout: 60_000 }, async () => {
    const page = await chromium.context.newPage();
    const seen = watch(page);
    await page.goto(`${gateway.url}/docs`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(document.paths).reduce((total, methods) => total + Object.keys(methods).length, 0);
    assert.ok(await waitFor(async () => (await page.locator('.opblock').count()) === operations, 10_000), `${operations} operations shown`);
    assert.match(await page.locator('.info .title').innerText(), /zg-gateway/);
    assert.ok(await page.locator('.opblock-summary-path[data-path="/v1/chat/completions"]').count() >= 1, 'the chat route is listed');
    assertSameOrigin(seen.urls, gateway.url);
    assert.deepEqual(seen.errors, [], 'no console error (CSP violations included)');
    await page.close();
  });
});
