import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

/** A tiny run: 16 rows in one batch, so an epoch is one step and the default 100 epochs take a second. */
const config = (training: string) => `
name: length
seed: 3
backend: cpu
dataset: { use: gaussian-mixture, size: 16, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 10, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 8 }
training: ${training}
sampler: { use: ddpm }
evaluation: { samples: 16, metrics: [w1] }
reporters: [{ use: console }, { use: summary }]
`;

async function run(training: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dl-length-'));
  const file = join(dir, 'length.yaml');
  writeFileSync(file, config(training));
  const loaded = await loadExperiment(file, []);
  const lines: string[] = [];
  const { summary } = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: (l) => lines.push(l) });
  const announced = lines.map((l) => /training (\d+) steps \((\d+) epochs\)/.exec(l)).find((m) => m !== null);
  const trained = summary.training as { steps: number; epochs: number };
  return { announced: announced ? { steps: Number(announced[1]), epochs: Number(announced[2]) } : null, trained: { steps: trained.steps, epochs: trained.epochs } };
}

describe('what a run announces is what it trains', () => {
  it('with neither training.epochs nor training.steps: the schema default, 100 epochs of one step', async () => {
    const { announced, trained } = await run('{ batchSize: 16, logEvery: 50 }');
    expect(trained).toEqual({ steps: 100, epochs: 100 });
    expect(announced).toEqual(trained);
  });

  it('with training.steps: that many steps, and the epochs they span', async () => {
    const { announced, trained } = await run('{ batchSize: 8, steps: 7, logEvery: 50 }');
    // 16 rows in batches of 8 = 2 steps an epoch, so 7 steps span 4 epochs
    expect(trained).toEqual({ steps: 7, epochs: 4 });
    expect(announced).toEqual(trained);
  });
});
