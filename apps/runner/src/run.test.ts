import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-run-'));

/** A small, fast version of the seed example (same plugins, tiny sizes). */
const SMALL = `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 4, batchSize: 16, learningRate: 0.001, predictionType: epsilon, logEvery: 2 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1, modes] }
reporters: [{ use: console }, { use: histogram }, { use: summary }]
`;

function writeConfig(dir: string, text = SMALL, name = 'small.yaml'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function runSmall(dir: string, overrides: string[] = [], out = join(dir, 'run')) {
  const cfg = writeConfig(dir);
  const loaded = await loadExperiment(cfg, overrides);
  const lines: string[] = [];
  const result = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out, print: (l) => lines.push(l) });
  return { ...result, lines };
}

describe('diffusionlab run (small end-to-end)', () => {
  it('writes every run-directory file, the reference log lines, a sane summary, and leaks no tensors', async () => {
    const dir = tmp();
    // Warm up the backend so its one-time tensors are not counted as a leak.
    await runSmall(dir, [], join(dir, 'warmup'));
    const before = tf.memory().numTensors;
    const { runDir, summary, lines } = await runSmall(dir);
    expect(tf.memory().numTensors).toBe(before);
    for (const f of ['config.yaml', 'env.json', 'metrics.jsonl', 'samples.npy', 'reference.npy', 'histogram.png', 'summary.json']) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
    expect(existsSync(join(runDir, 'FAILED'))).toBe(false);
    expect(readdirSync(join(runDir, 'checkpoint')).sort()).toEqual(['diffusionlab.json', 'model.json', 'weights.bin']);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(s).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(s.metrics.w1).toBeGreaterThan(0);
    expect(s.metrics.w1NoiseFloor).toBeGreaterThan(0);
    expect(s.metrics.modeFractions).toHaveLength(2);
    expect(s.schedule.alphaBarT).toBeCloseTo(Math.exp(Array.from({ length: 20 }, (_, i) => Math.log(1 - (1e-4 + ((0.02 - 1e-4) * i) / 19))).reduce((a, b) => a + b)), 10);
    expect(s.training.steps).toBe(16);
    expect(s.training.seconds).toBeGreaterThan(0);
    expect(s.training.stepsPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(s.training.finalLoss)).toBe(true);
    expect(s.sampling.nfe).toBe(20);
    expect(s.sampling.seconds).toBeGreaterThan(0);
    expect(s.backend).toBe('cpu');
    expect(s.seed).toBe(7);
    const samples = decodeNpy(new Uint8Array(readFileSync(join(runDir, 'samples.npy'))));
    expect(samples.shape).toEqual([64, 1]);
    expect(decodeNpy(new Uint8Array(readFileSync(join(runDir, 'reference.npy')))).shape).toEqual([64, 1]);
    const logLines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logLines.map((l) => l.epoch)).toEqual([2, 4]);
    expect(lines.filter((l) => /^Epoch \d+\/4, Loss: \d+\.\d{6}$/.test(l))).toHaveLength(2);
    expect(lines.some((l) => l.includes('warning:') && l.includes('ᾱ_T'))).toBe(true);
    expect(lines.some((l) => l.includes(runDir))).toBe(true);
    const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8'));
    expect(env.backend).toBe('cpu');
    expect(env.seed).toBe(7);
    expect(env.node).toBe(process.version);
  });

  it('gives the same summary numbers for the same config and seed', async () => {
    const dir = tmp();
    const a = await runSmall(dir, [], join(dir, 'a'));
    const b = await runSmall(dir, [], join(dir, 'b'));
    expect(b.summary.metrics).toEqual(a.summary.metrics);
    expect((b.summary.training as { finalLoss: number }).finalLoss).toBe((a.summary.training as { finalLoss: number }).finalLoss);
  });

  it('refuses an --out that already holds a run, unless forced', async () => {
    const dir = tmp();
    const out = join(dir, 'run');
    await runSmall(dir, [], out);
    await expect(runSmall(dir, [], out)).rejects.toThrow(/already holds a run/);
  });
});

describe('bad input stops before any work, naming the key', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown plugin name', ['schedule.use=linaer'], /schedule\.use: unknown schedule "linaer"; did you mean "linear".*valid: .*linear/],
    ['mistyped option', ['schedule.timesteps=abc'], /schedule\.timesteps/],
    ['negative size', ['dataset.size=-5'], /dataset\.size/],
    ['unknown key', ['training.epoch=3'], /training\.epoch: unknown key; did you mean "epochs"/],
    ['bad backend', ['backend=gpu'], /backend.*valid: auto, wasm, cpu, tensorflow/],
    ['list value outside sweep', ['sampler.steps=10,20'], /only `diffusionlab sweep`/],
    // A metric that cannot apply to the data fails before training, not after it.
    [
      'epsilon prediction with zero terminal SNR',
      ['schedule.rescaleZeroTerminalSnr=true'],
      /training\.predictionType: epsilon prediction cannot be sampled from a schedule with ᾱ_T = 0/,
    ],
    ['metric that does not fit the dataset', ['dataset.use=moons', 'dataset.size=64', 'evaluation.metrics=[modes]'], /evaluation\.metrics.*the dataset describes no modes/],
  ];
  for (const [what, overrides, message] of cases) {
    it(what, async () => {
      const dir = tmp();
      const cfg = writeConfig(dir);
      const out = join(dir, 'run');
      const errors: string[] = [];
      const origWrite = process.stderr.write.bind(process.stderr);
      let code: number;
      try {
        code = await main(['run', cfg, ...overrides, '--out', out]);
      } catch (e) {
        errors.push((e as Error).message);
        code = 2;
      } finally {
        process.stderr.write = origWrite;
      }
      expect(code).not.toBe(0);
      expect(errors.join('\n')).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('names an unreadable config file and an empty one', async () => {
    const dir = tmp();
    await expect(loadExperiment(join(dir, 'missing.yaml'))).rejects.toThrow(/config file not found/);
    await expect(loadExperiment(writeConfig(dir, '', 'empty.yaml'))).rejects.toThrow(/is empty/);
    await expect(loadExperiment(writeConfig(dir, 'name: [a\nseed: 1', 'bad.yaml'))).rejects.toThrow(/not valid YAML at line \d+/);
  });

  it('validate accepts a good config and reports every problem of a bad one', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    expect(await main(['validate', cfg])).toBe(0);
    await expect(main(['validate', cfg, 'sampler.use=nope', 'dataset.size=0'])).rejects.toThrow(/sampler\.use[\s\S]*dataset\.size|dataset\.size[\s\S]*sampler\.use/);
    // Checks that need the plugins together, as `run` makes them before any work.
    await expect(main(['validate', cfg, 'sampler.steps=500'])).rejects.toThrow(/sampler\.steps: 500 sampling steps exceed the schedule's 20/);
    await expect(main(['validate', cfg, 'dataset.use=moons', 'evaluation.metrics=[modes]'])).rejects.toThrow(/the dataset describes no modes/);
  });
});
