import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHtmlReporter, displayWidth, escapeHtml, htmlOptions } from './html.js';
import { encodePng } from './png.js';
import { ctx, runEnd, runStart, tempDir } from './test-fixtures.js';

describe('html reporter', () => {
  it('writes a self-contained report with embedded figures, metrics, warnings, config and environment', async () => {
    const dir = tempDir();
    const png = encodePng(new Uint8Array(4).fill(7), 2, 2, 1);
    writeFileSync(join(dir, 'histogram.png'), png);
    writeFileSync(join(dir, 'notes.txt'), 'not a figure');
    const r = createHtmlReporter(htmlOptions.parse({}), ctx(dir));
    await r.onRunStart?.(runStart(dir, { warnings: ['ᾱ_T <= 0.5 & raw t'] }));
    await r.onEvaluate?.({ metrics: { w1: 0.0523456, w1NoiseFloor: 0.031 }, details: {} });
    await r.onRunEnd?.(runEnd(dir));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>diffusionlab: seed-1d</title>');
    expect(html).toContain(`<img alt="histogram.png" width="1" src="data:image/png;base64,${png.toString('base64')}">`);
    expect(html).not.toContain('notes.txt');
    expect(html).toContain('<tr><td>w1</td><td>0.05235</td><td>0.031</td></tr>');
    expect(html).toContain('<li>ᾱ_T &lt;= 0.5 &amp; raw t</li>');
    expect(html).toContain('&quot;use&quot;: &quot;gaussian-mixture&quot;');
    expect(html).toContain('&quot;backend&quot;: &quot;cpu&quot;');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing loaded from elsewhere
  });

  it('shows figures at half their pixel width (they are rendered at 2×), and leaves non-PNG bytes unsized', () => {
    expect(displayWidth(encodePng(new Uint8Array(960 * 2), 960, 2, 1))).toBe(480);
    expect(displayWidth(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('names the directory it cannot read', async () => {
    const dir = join(tempDir(), 'missing');
    await expect(createHtmlReporter(htmlOptions.parse({}), ctx(dir)).onRunEnd?.(runEnd(dir))).rejects.toThrow(`reporter 'html' could not read ${dir}`);
  });
});
