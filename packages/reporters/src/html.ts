/**
 * `html`: one self-contained `report.html` per run — figures embedded as base64 data URIs, metrics with
 * their noise floors, warnings, the resolved config and the environment — that can be mailed or archived
 * as a single file. List it after the figure reporters so figures written at run end (loss.png) are in it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, type PluginContext, type Reporter, runFileOption, type RunStartEvent, withDefaults, z } from '@diffusionlab/core';
import { metricRows } from './console.js';
import { runPath, writeError, writeFileAtomic } from './files.js';
import { PNG_SIGNATURE } from './png.js';
import { jsonReplacer } from './summary.js';

/** Options of the `html` reporter. */
export const htmlOptions = z
  .object({
    file: runFileOption('report.html'),
    title: z.string().optional().describe('Page title; default "diffusionlab: <run name>".'),
  })
  .strict();

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** What the report shows; gathered from the run's events. */
export interface ReportData {
  title: string;
  start?: Pick<RunStartEvent, 'name' | 'config' | 'env' | 'warnings' | 'dataShape' | 'parameterCount' | 'totalSteps' | 'epochs'> & {
    schedule: string;
  };
  metrics?: Record<string, number>;
  summary?: Record<string, unknown>;
  /** File name and PNG bytes of each figure, in display order. */
  figures: { name: string; png: Uint8Array }[];
}

/**
 * CSS width of a figure: half its pixel width, because figures are rendered at 2× for sharp high-density
 * displays. Shown at natural size, every figure would get its own text size (a narrow chart's labels
 * twice as large as a wide one's); at half size all share the charts' 11–14 px text. Undefined when the
 * bytes are not a PNG (then the browser sizes it).
 */
export function displayWidth(png: Uint8Array): number | undefined {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return Math.max(1, Math.round(b.readUInt32BE(16) / 2));
}

const json = (v: unknown) => escapeHtml(JSON.stringify(v, jsonReplacer, 2) ?? 'null');

/** Renders the report page (pure: data in, HTML string out). */
export function renderReport(d: ReportData): string {
  const parts: string[] = [];
  const s = d.start;
  // A run whose samples are garbage says so before anything else (summary.json's `divergence`).
  const divergence = (d.summary?.divergence ?? null) as { message?: unknown; fixes?: unknown } | null;
  if (divergence && typeof divergence.message === 'string') {
    const fixes = Array.isArray(divergence.fixes) ? (divergence.fixes as string[][]).map((f) => `<code>${escapeHtml(f.join(' '))}</code>`).join(' or ') : '';
    parts.push(`<div class="diverged"><strong>${escapeHtml(divergence.message)}</strong>${fixes ? `<br>Fix: ${fixes}` : ''}</div>`);
  }
  if (s) {
    parts.push(
      `<p>data shape [${s.dataShape.join(', ')}] · ${s.parameterCount.toLocaleString('en-US')} parameters · schedule ${escapeHtml(s.schedule)} · ${s.totalSteps} steps (${s.epochs} epochs)</p>`,
    );
    // The summary's list is complete (warnings raised after the start, e.g. by sampling, included).
    const warnings = Array.isArray(d.summary?.warnings) ? (d.summary.warnings as string[]) : s.warnings;
    if (warnings.length > 0) {
      parts.push('<h2>Warnings</h2>', `<ul class="warn">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`);
    }
  }
  if (d.metrics && Object.keys(d.metrics).length > 0) {
    parts.push(
      '<h2>Metrics</h2>',
      '<table><thead><tr><th>metric</th><th>value</th><th>noise floor</th></tr></thead><tbody>',
      metricRows(d.metrics)
        .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join(''),
      '</tbody></table>',
      '<p class="note">The noise floor is the metric between an independent draw from the data (what a perfect generator would output) and the same reference, at the same size: values near it are as good as this sample size can tell.</p>',
    );
  }
  if (d.figures.length > 0) {
    parts.push('<h2>Figures</h2>');
    for (const f of d.figures) {
      const b64 = Buffer.from(f.png).toString('base64');
      const w = displayWidth(f.png);
      const size = w === undefined ? '' : ` width="${w}"`;
      parts.push(`<figure><img alt="${escapeHtml(f.name)}"${size} src="data:image/png;base64,${b64}"><figcaption>${escapeHtml(f.name)}</figcaption></figure>`);
    }
  }
  if (s) {
    parts.push('<h2>Config</h2>', `<pre>${json(s.config)}</pre>`, '<h2>Environment</h2>', `<pre>${json(s.env)}</pre>`);
  }
  if (d.summary) parts.push('<details><summary>summary.json</summary>', `<pre>${json(d.summary)}</pre></details>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.title)}</title>
<style>
body { font-family: system-ui, "DejaVu Sans", sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; } th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow: auto; font-size: 0.85em; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; } figcaption { color: #666; font-size: 0.85em; }
.warn li { color: #8a4b00; } .diverged { background: #fde8e8; border: 2px solid #b00020; color: #b00020; padding: 0.8em; margin: 1em 0; } .note { color: #666; font-size: 0.85em; }
</style>
</head>
<body>
<h1>${escapeHtml(d.title)}</h1>
${parts.join('\n')}
</body>
</html>
`;
}

/** Reads every PNG in the run directory (sorted by name), naming the directory when it cannot be read. */
export function readFigures(runDir: string): { name: string; png: Uint8Array }[] {
  let names: string[];
  try {
    names = readdirSync(runDir)
      .filter((f) => f.toLowerCase().endsWith('.png'))
      .sort();
  } catch (err) {
    throw writeError('html', runDir, err, 'read');
  }
  return names.map((name) => ({ name, png: readFileSync(join(runDir, name)) }));
}

/** Builds the html reporter. */
function buildHtmlReporter(options: z.output<typeof htmlOptions>, context: PluginContext): Reporter {
  const data: ReportData = { title: options.title ?? 'diffusionlab report', figures: [] };
  return {
    name: 'html',
    onRunStart(e) {
      data.title = options.title ?? `diffusionlab: ${e.name}`;
      data.start = {
        name: e.name,
        config: e.config,
        env: e.env,
        warnings: e.warnings,
        dataShape: e.dataShape,
        parameterCount: e.parameterCount,
        totalSteps: e.totalSteps,
        epochs: e.epochs,
        schedule: e.schedule.name,
      };
    },
    onEvaluate(e) {
      data.metrics = { ...e.metrics };
    },
    async onRunEnd(e) {
      const dir = e.runDir ?? context.runDir;
      const path = runPath('html', context, options.file, dir);
      data.summary = e.summary;
      data.figures = readFigures(dir);
      writeFileAtomic('html', path, renderReport(data));
    },
  };
}

/** The `html` reporter plugin. */
export const htmlReporter = definePlugin({
  kind: 'reporter',
  name: 'html',
  description: 'Writes report.html: a self-contained page with figures (embedded), metrics and noise floors, warnings, config and environment.',
  options: htmlOptions,
  create: buildHtmlReporter,
});

/**
 * The `html` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createHtmlReporter({ … })`).
 */
export const createHtmlReporter = withDefaults(htmlReporter.options, buildHtmlReporter, 'reporter');
