// The noise floor of a `file` dataset through the real pipeline (run, then sample): a CSV drawn from a
// known 1-D two-Gaussian mixture, and the reported W1 floor must lie within the spread of W1 between
// true i.i.d. draws from that mixture and the very reference the run wrote (reference.npy).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, Rng } from '@diffusionlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';

/** ½·N(−2, 0.5²) + ½·N(2, 0.5²), each point's component at random: the CSV's generating process. */
const mixture = (n: number, rng: Rng): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -2 : 2) + 0.5 * rng.normal());

/** Exact 1-D W1 between equal-size samples: the mean gap between sorted values. */
const w1 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
  return s / x.length;
};

/** Mean and standard deviation of W1(true i.i.d. draw, reference) over 40 seeds. */
function truthSpread(reference: ArrayLike<number>): { mean: number; sd: number } {
  const v = Array.from({ length: 40 }, (_, s) => w1(mixture(reference.length, new Rng(500 + s)), reference));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, sd: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) };
}

const dir = mkdtempSync(join(tmpdir(), 'dl-floor-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file dataset: the reported noise floor is honest', () => {
  it('run (1000 samples) and sample (300 = every held-out row) report floors within the spread of true i.i.d. draws', async () => {
    writeFileSync(join(dir, 'data.csv'), `x\n${Array.from(mixture(3000, new Rng(2026)), (v) => v.toPrecision(9)).join('\n')}\n`);
    writeFileSync(
      join(dir, 'exp.yaml'),
      `name: floor
seed: 3
backend: cpu
dataset: { use: file, path: data.csv }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 8 }
training: { epochs: 1, batchSize: 500 }
sampler: { use: ddim, steps: 5 }
evaluation: { samples: 1000, metrics: [w1] }
reporters: [summary]
`,
    );
    const loaded = await loadExperiment(join(dir, 'exp.yaml'));
    const { runDir, summary } = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: () => {} });
    const check = (folder: string, metrics: Record<string, number>) => {
      const reference = decodeNpy(readFileSync(join(folder, 'reference.npy'))).data;
      const floor = metrics.w1NoiseFloor;
      const { mean, sd } = truthSpread(reference);
      expect(floor).toBeGreaterThan(0);
      expect(Math.abs(floor - mean), `floor ${floor} vs true draws ${mean} ± ${sd}`).toBeLessThan(3 * sd);
    };
    check(runDir, summary.metrics as Record<string, number>);
    // The case that reported exactly 0: the reference is all 300 held-out rows.
    const s = await sampleRun(runDir, ['evaluation.samples=300'], { print: () => {} });
    check(s.sampleDir, s.summary.metrics as Record<string, number>);
  });
});
