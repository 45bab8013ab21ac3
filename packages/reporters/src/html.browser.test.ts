/**
 * Opens a real report.html (built from real figures) in headless Chromium and checks what a person
 * would see: the title, every figure decoded, the metric table, no console errors, nothing fetched
 * from the network. Needs a Chromium binary: `CHROMIUM_PATH`, else `chromium` / `chromium-browser`
 * on PATH. Without one the test fails and says how to install it, unless DIFFUSIONLAB_SKIP_BROWSER=1.
 * Set DIFFUSIONLAB_SCREENSHOT_DIR to keep the screenshot (otherwise it is written to a temp dir).
 */
import { accessSync, constants, mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createHistogramReporter, histogramOptions } from './histogram.js';
import { createHtmlReporter, htmlOptions } from './html.js';
import { createLossReporter, lossOptions } from './loss.js';
import { createScheduleReporter, scheduleOptions } from './schedule.js';
import { ctx, expectPng, runEnd, runStart, sampleEvent, tempDir } from './test-fixtures.js';
import { createTrajectoryReporter, trajectoryOptions } from './trajectory.js';

/** The Chromium to drive: $CHROMIUM_PATH, else the first `chromium` / `chromium-browser` on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

const executablePath = findChromium();
const skip = executablePath === undefined && process.env.DIFFUSIONLAB_SKIP_BROWSER === '1';
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(skip)('report.html in headless Chromium', () => {
  it('renders the title, every figure, the metric table, with no console errors and no network', async () => {
    if (executablePath === undefined) {
      throw new Error(
        'No Chromium found for the report.html browser test. Install it (Debian/Ubuntu: `apt-get install -y chromium`), ' +
          'or point CHROMIUM_PATH at a Chromium/Chrome binary, or set DIFFUSIONLAB_SKIP_BROWSER=1 to skip this test.',
      );
    }
    // A run directory with the seed example's figures, written by the real reporters.
    const dir = tempDir();
    const c = ctx(dir);
    const start = runStart(dir, { warnings: ['schedule: ᾱ_T = 0.364, far from pure noise'] });
    const sample = sampleEvent();
    const end = runEnd(dir);
    await createScheduleReporter(scheduleOptions.parse({}), c).onRunStart?.(start);
    await createHistogramReporter(histogramOptions.parse({}), c).onSample?.(sample);
    await createTrajectoryReporter(trajectoryOptions.parse({}), c).onSample?.(sample);
    await createLossReporter(lossOptions.parse({}), c).onRunEnd?.(end);
    const html = createHtmlReporter(htmlOptions.parse({}), c);
    await html.onRunStart?.(start);
    await html.onEvaluate?.({ metrics: { w1: 0.0523, w1NoiseFloor: 0.031, modes: 0.02, modesNoiseFloor: 0.01 }, details: {} });
    await html.onRunEnd?.(end);
    const figures = readdirSync(dir).filter((f) => f.endsWith('.png'));
    expect(figures.sort()).toEqual(['histogram.png', 'loss.png', 'schedule.png', 'trajectory.png']);

    browser = await chromium.launch({ executablePath, headless: true });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (!/^(file|data):/.test(r.url())) fetched.push(r.url());
    });
    await page.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });

    expect(await page.title()).toBe('diffusionlab: seed-1d');
    expect(await page.locator('h1').textContent()).toBe('diffusionlab: seed-1d');
    const images = await page.locator('img').evaluateAll((els) =>
      // No DOM lib in this package's types: the fields read from each <img>.
      (els as unknown as { alt: string; complete: boolean; naturalWidth: number; naturalHeight: number; getBoundingClientRect(): { width: number } }[]).map((img) => ({
        alt: img.alt,
        complete: img.complete,
        width: img.naturalWidth,
        height: img.naturalHeight,
        shown: img.getBoundingClientRect().width,
      })),
    );
    expect(images.map((i) => i.alt).sort()).toEqual(figures.sort());
    for (const img of images) {
      expect(img.complete, img.alt).toBe(true);
      expect(img.width, img.alt).toBeGreaterThan(100);
      expect(img.height, img.alt).toBeGreaterThan(100);
      // Drawn at half the pixel width (2× renders), or narrower when the page is: never stretched.
      expect(img.shown, img.alt).toBeGreaterThan(50);
      expect(img.shown, img.alt).toBeLessThanOrEqual(img.width / 2 + 2);
    }
    const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual([
      ['w1', '0.0523', '0.031'],
      ['modes', '0.02', '0.01'],
    ]);
    expect(await page.locator('table thead th').allTextContents()).toEqual(['metric', 'value', 'noise floor']);
    expect(await page.locator('.warn li').textContent()).toContain('ᾱ_T = 0.364');
    expect(errors).toEqual([]);
    expect(fetched).toEqual([]);

    const shots = process.env.DIFFUSIONLAB_SCREENSHOT_DIR ?? tempDir();
    mkdirSync(shots, { recursive: true });
    const shot = join(shots, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const { width, height } = expectPng(shot, 20_000);
    expect(width).toBe(1200);
    expect(height).toBeGreaterThan(900); // four figures do not fit in one screen: the page really grew
  });
});
