/**
 * The status page on the devnet after traffic, in headless Chromium at a desktop and a phone
 * width: charts drawn with data, 0G funds and billing, recent failures, no console error.
 * Screenshots go to the temp folder; with ZG_STATUS_SCREENSHOTS=<folder> (e.g. `docs`) they are
 * written there instead (that is how docs/status-1280.png and docs/status-390.png were made).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { asAdmin } from '../helpers/admin-fetch.js';
import { launchChromium, pngLuminance, type HeadlessChromium } from '../helpers/chromium.js';
import { startDevnetGateway, waitFor, type DevnetGateway } from '../helpers/devnet-gateway.js';

async function chat(url: string, content: string, stream: boolean): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'zg-devnet-chat', stream, messages: [{ role: 'user', content }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Pixels of a chart's canvas drawn in its first series' colour (the grid and axes are grey). */
async function seriesPixels(page: Page, chart: string): Promise<number> {
  return (await page.evaluate(`(() => {
    const canvas = document.querySelector('#${chart} canvas');
    const color = getComputedStyle(document.documentElement).getPropertyValue('${chart === 'chart-errors' ? '--bad' : '--bar'}').trim();
    const probe = document.createElement('canvas').getContext('2d');
    probe.fillStyle = color;
    const hex = probe.fillStyle;
    const want = [1, 3, 5].map((index) => parseInt(hex.slice(index, index + 2), 16));
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let index = 0; index < data.length; index += 4) {
      if (data[index + 3] > 200 && Math.abs(data[index] - want[0]) < 40 && Math.abs(data[index + 1] - want[1]) < 40 && Math.abs(data[index + 2] - want[2]) < 40) count++;
    }
    return count;
  })()`)) as number;
}

describe('the status page on the devnet', () => {
  let chromium: HeadlessChromium;
  let setup: DevnetGateway;

  before(async () => {
    chromium = await launchChromium();
    setup = await startDevnetGateway({
      devnet: { providers: [{ name: 'alpha' }, { name: 'beta', chunkIntervalMs: 2 }, { name: 'gamma' }] },
      gateway: { circuitBreaker: { coolDownMs: 600_000 } },
    });
    const gamma = setup.devnet.providers[2];
    assert.ok(gamma);
    await gamma.setFault({ mode: 'http-error', status: 500 });
    // Spread over about 25 s: three 10 s buckets, so the charts draw lines, not only dots.
    for (let index = 0; index < 24; index++) {
      assert.equal(await chat(setup.gateway.url, `hello ${index}`, index % 2 === 0), 200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }, { timeout: 180_000 });

  after(async () => {
    await chromium?.close();
    await setup?.close();
  });

  test('charts drawn with data, funds in 0G, billing, failures; at 1280 and 390 px; no console error', { timeout: 120_000 }, async () => {
    const folder = process.env.ZG_STATUS_SCREENSHOTS ?? tmpdir();
    mkdirSync(folder, { recursive: true });
    for (const width of [1280, 390]) {
      const page = await chromium.context.newPage();
      await page.setViewportSize({ width, height: 900 });
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      const urls: string[] = [];
      page.on('request', (request) => urls.push(request.url()));
      await page.goto(`${setup.gateway.url}/status?refresh=500`);
      await page.waitForSelector('#auth:not([hidden])', { timeout: 15_000 });
      await page.getByRole('textbox', { name: 'Admin token' }).fill(setup.gateway.adminToken);
      await page.getByRole('button', { name: 'Show status' }).click();
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
      // Billing is read at most every 30 s: the first read may still be on its way.
      assert.ok(await waitFor(async () => (await page.locator('#billing').innerText()) !== '-', 15_000));
      for (const chart of ['chart-rate', 'chart-ttft', 'chart-latency']) {
        assert.ok(Number(await page.locator(`#${chart}`).getAttribute('data-points')) > 0, `${chart} has data`);
        const pixels = await seriesPixels(page, chart);
        // At least a dot (a bucket alone is drawn as a 5 px point), in practice lines.
        assert.ok(pixels > 5, `${chart}: ${pixels} pixels in the series colour`);
      }
      assert.equal(await page.locator('#providers tr').count(), 3);
      // The devnet's gateway options name its providers: the name first, the address under it.
      const alpha = setup.devnet.providers[0];
      assert.ok(alpha);
      const who = page.locator(`#providers tr[data-provider="${alpha.address}"] td[data-field="id"]`);
      assert.equal(await who.locator('.name').innerText(), 'alpha');
      assert.equal(await who.locator('.address').innerText(), alpha.address);
      assert.equal(await page.locator('#providers td[data-field="health"] .reason').count(), await page.locator('#providers td[data-field="health"] .badge.bad').count(), 'a provider out of rotation says why');
      assert.match(await page.locator('#ledger').innerText(), /^[\d,.]+ 0G$/, 'the ledger in 0G');
      assert.ok((await page.locator('#funds tr').count()) >= 2, 'the ledger and sub-accounts');
      assert.match(await page.locator('#billing').innerText(), /^(ok|pending|overcharging)$/);
      assert.ok((await page.locator('#failures tr').count()) >= 1, 'recent failures listed');
      assert.match(await page.locator('#failures tr td[data-field="at"]').first().innerText(), /\d{1,2}:\d{2}:\d{2}/, 'with their times');
      // 0G providers show funding and trust badges.
      assert.ok((await page.locator('td[data-field="funding"] .badge').count()) === 3);
      const spend = await page.locator('#spend').innerText();
      assert.match(spend, / 0G$/);
      assert.doesNotMatch(spend, /neuron/);
      const screenshot = await page.screenshot({ fullPage: true });
      const file = join(folder, `status-${width}.png`);
      writeFileSync(file, screenshot);
      const picture = await pngLuminance(chromium.context, screenshot);
      assert.ok(picture.variance > 50, `not blank (${file})`);
      // What sticks out, if anything (named in the failure).
      const wide = await page.evaluate(`[...document.querySelectorAll('body *')].filter((node) => node.getBoundingClientRect().right > innerWidth + 1).slice(-3).map((node) => node.tagName + '#' + node.id + '.' + node.className + ' ' + Math.round(node.getBoundingClientRect().right)).join(', ')`);
      assert.ok(Math.abs(picture.width - width) <= 20, `${picture.width} px wide, no horizontal overflow at ${width}: ${String(wide)}`);
      assert.deepEqual(urls.filter((url) => !url.startsWith(`${setup.gateway.url}/`) && !url.startsWith('data:')), [], 'nothing from outside');
      assert.deepEqual(errors.filter((error) => !/status of 401/.test(error)), [], 'no console error (CSP violations included)');
      await page.close();
    }
  });

  test('uPlot is served from the package with long cache headers; the page keeps its strict CSP', async () => {
    const page = await fetch(`${setup.gateway.url}/status`);
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self' 'sha256-[^']+';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] as string);
    assert.equal(scripts.length, 1);
    const asset = await fetch(new URL(scripts[0] as string, `${setup.gateway.url}/status`));
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    assert.match(await asset.text(), /uPlot/);
    assert.equal((await fetch(`${setup.gateway.url}/status/assets/..%2Fpackage.json`)).status, 404);
    // The data stays behind the admin token.
    assert.equal((await fetch(`${setup.gateway.url}/admin/status`)).status, 401);
    // /admin/providers gives each named 0G provider's name.
    const admin = (await (await fetch(`${setup.gateway.url}/admin/providers`, asAdmin(setup.gateway))).json()) as { providers: Array<{ address: string; name: string | null }> };
    assert.deepEqual(admin.providers.map((provider) => [provider.address, provider.name]), setup.devnet.providers.map((provider) => [provider.address, provider.name]));
  });
});
