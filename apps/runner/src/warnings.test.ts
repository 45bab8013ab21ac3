import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { WarningLog } from './warnings.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-warn-'));
/** The oracle-samplers setting (cosine T = 1000, σ(T−1) ≈ 2·10⁴) with heun, small enough to run in a test. */
const HEUN_RUN = `name: d\nbackend: cpu\ndataset: { use: gaussian-mixture, size: 200, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }\nschedule: { use: cosine, timesteps: 1000 }\ndenoiser: { use: oracle }\nsampler: { use: heun, steps: 20 }\nevaluation: { samples: 1000, metrics: [w1] }\nreporters: [console, summary, html]\n`;

async function run(dir: string, text: string, overrides: string[] = []) {
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(cfg, text);
  const loaded = await loadExperiment(cfg, overrides);
  const lines: string[] = [];
  const result = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: (l) => lines.push(l) });
  return { ...result, lines };
}

describe('warning log', () => {
  it('records each warning once and prints it once, also when a reporter prints the same line', () => {
    const out: string[] = [];
    const log = new WarningLog((l) => out.push(l));
    log.add('a');
    log.add({ message: 'b', fixes: [['x=1'], ['y=2', 'z=3']] });
    log.add('a');
    log.print('warning: a');
    log.flush();
    log.flush();
    expect(out).toEqual(['warning: a', 'warning: b Fix: x=1, or y=2 z=3.']);
    expect(log.messages).toEqual(['a', 'b Fix: x=1, or y=2 z=3.']);
    expect(log.withFixes).toEqual([{ message: 'b', fixes: [['x=1'], ['y=2', 'z=3']] }]);
  });
});

describe('warnings of a run reach the console once each, and summary.json', () => {
  it('prints a dataset warning raised while sampling (reference drawn with replacement), and every warning once', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'data.csv'), Array.from({ length: 40 }, (_, i) => `${(i % 2 ? 2 : -2) + i / 100}`).join('\n'));
    const { summary, lines } = await run(
      dir,
      `name: w\nbackend: cpu\ndataset: { use: file, path: data.csv }\nschedule: { use: linear, timesteps: 50 }\ndenoiser: { use: oracle }\nsampler: { use: ddpm }\nevaluation: { samples: 100, metrics: [w1] }\nreporters: [console, summary]\n`,
    );
    const warned = lines.filter((l) => l.startsWith('warning: '));
    const replacement = warned.filter((l) => l.includes('reference points requested') && l.includes('drawn with replacement'));
    expect(replacement).toHaveLength(1);
    expect(new Set(warned).size).toBe(warned.length);
    expect(summary.warnings as string[]).toContainEqual(expect.stringContaining('drawn with replacement'));
  });

  it('a run whose samples are garbage says so on the console, in summary.json and at the top of report.html, with a fix', async () => {
    const dir = tmp();
    // The oracle with heun on the default grid from σ = 2·10⁴ (σ_max bound off): its first trapezoid
    // step multiplies the denoiser's change ≈ 800× and the samples diverge (W1 ≈ 8, floor ≈ 0.03).
    const { summary, lines, runDir } = await run(dir, HEUN_RUN, ['sampler.sigmaMax=false', 'sampler.sigmas=default']);
    const advice = lines.findIndex((l) => l.startsWith('warning: sampler heun takes its first second-order step'));
    const sampled = lines.findIndex((l) => l.startsWith('Sampled'));
    expect(advice).toBeGreaterThanOrEqual(0);
    expect(advice).toBeLessThan(sampled);
    const metrics = summary.metrics as Record<string, number>;
    expect(metrics.w1).toBeGreaterThan(100 * metrics.w1NoiseFloor);
    const diverged = lines.filter((l) => l.startsWith('warning: DIVERGED'));
    expect(diverged).toHaveLength(1);
    expect(diverged[0]).toMatch(/Likely cause: sampler heun takes its first second-order step .* Fix: sampler\.sigmaMax=80, or sampler\.use=dpmpp-2m\./);
    const div = summary.divergence as { fixes: string[][] };
    expect(div.fixes).toEqual([['sampler.sigmaMax=80'], ['sampler.use=dpmpp-2m']]);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html.indexOf('class="diverged"')).toBeGreaterThan(0);
    expect(html.indexOf('class="diverged"')).toBeLessThan(html.indexOf('<h2>'));
  });

  it('the same heun run at the defaults (σ_max = 80, Karras σ) neither warns nor diverges', async () => {
    const { summary, lines } = await run(tmp(), HEUN_RUN);
    expect(lines.filter((l) => l.startsWith('warning: '))).toEqual([]);
    expect(summary.divergence).toBeUndefined();
    const metrics = summary.metrics as Record<string, number>;
    expect(metrics.w1).toBeLessThan(3 * metrics.w1NoiseFloor);
  });
});

describe('a command that cannot apply a fix', () => {
  it('names it as needing a new run instead of suggesting it', () => {
    const log = new WarningLog(
      () => {},
      (fix) => !fix.some((o) => o.startsWith('training.')),
    );
    log.add({ message: 'eps at huge σ.', fixes: [['training.predictionType=v'], ['sampler.use=ddpm']] });
    expect(log.messages).toEqual(['eps at huge σ. (Needs a new run: training.predictionType=v.) Fix: sampler.use=ddpm.']);
    expect(log.items[0].fixes).toEqual([['sampler.use=ddpm']]);
  });
});
