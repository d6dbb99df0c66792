/**
 * A real headless Chromium for page tests: Debian's `chromium` package (never a downloaded
 * browser), driven by playwright-core over a fresh profile. Missing Chromium fails the test
 * with the install line; it never skips silently.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh user-data-dir (removed on close). */
export async function launchChromium(): Promise<HeadlessChromium> {
  assert.ok(
    existsSync(CHROMIUM_PATH),
    `Chromium is not installed at ${CHROMIUM_PATH}; the status page and API docs tests need Debian's package: apt-get install -y chromium`,
  );
  const profile = mkdtempSync(join(tmpdir(), 'zg-gateway-chromium-'));
  // playwright takes the profile directory as a parameter (it refuses --user-data-dir in args).
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, viewport: { width: 1400, height: 700 } });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The mean and variance of a PNG's pixel luminance, decoded by the browser itself (an
 * about:blank page with an OffscreenCanvas), so a blank screenshot is told from a real one.
 */
export async function pngLuminance(context: BrowserContext, png: Buffer): Promise<{ width: number; height: number; mean: number; variance: number }> {
  const page = await context.newPage();
  try {
    // A string, so this file needs no DOM typings: it runs in the page.
    const script = `(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const drawing = canvas.getContext('2d');
      drawing.drawImage(bitmap, 0, 0);
      const data = drawing.getImageData(0, 0, bitmap.width, bitmap.height).data;
      let sum = 0;
      let squares = 0;
      for (let index = 0; index < data.length; index += 4) {
        const luminance = 0.2126 * data[index] + 0.7152 * data[index + 1] + 0.0722 * data[index + 2];
        sum += luminance;
        squares += luminance * luminance;
      }
      const pixels = data.length / 4;
      const mean = sum / pixels;
      return { width: bitmap.width, height: bitmap.height, mean, variance: squares / pixels - mean * mean };
    })(${JSON.stringify(png.toString('base64'))})`;
    return (await page.evaluate(script)) as { width: number; height: number; mean: number; variance: number };
  } finally {
    await page.close();
  }
}
