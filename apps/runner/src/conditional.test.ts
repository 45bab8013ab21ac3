import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@diffusionlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { configRunner, npy } from './run-text.test-util.js';
import { sampleRun } from './sample.js';

const dir = mkdtempSync(join(tmpdir(), 'dl-cond-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { print: () => {} };

const runText = configRunner(dir);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);

const UNCOND = `
name: uncond
seed: 11
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: mlp, width: 16, depth: 1, timeEmbedding: 8 }
training: { epochs: 3, batchSize: 16, predictionType: epsilon }
sampler: { use: ddim, steps: 10 }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

describe('unconditional configs are untouched by conditioning', () => {
  it('give bit-identical samples and weights to the code before conditioning, on the tfjs and the fused path', async () => {
    // sha256 prefixes of samples.npy and checkpoint/weights.bin as main wrote them for this config before this change.
    const tfjs = await runText('uncond-tfjs', UNCOND);
    expect(tfjs.summary.training.path).toBe('tfjs');
    expect([sha(join(tfjs.out, 'samples.npy')), sha(join(tfjs.out, 'checkpoint', 'weights.bin'))]).toEqual(['69e2cac8e21885cb', 'c57c386af95def26']);
    const fused = await runText('uncond-fused', UNCOND, [], true);
    expect(fused.summary.training.path).toBe('fused:wasm-simd-mlp');
    expect([sha(join(fused.out, 'samples.npy')), sha(join(fused.out, 'checkpoint', 'weights.bin'))]).toEqual(['f892b6e4e0e8b40d', '8a023e69edb98be6']);
    const saved = YAML.parse(readFileSync(join(tfjs.out, 'config.yaml'), 'utf8'));
    expect(saved.conditioning).toBeUndefined();
    expect(saved.evaluation.classes).toBeUndefined();
  });
});

const MIXTURE = { mu: [-2, 3], sd: [0.5, 0.8] };
const ORACLE = `
name: cond-oracle
seed: 3
backend: cpu
dataset: { use: gaussian-mixture, components: [{ mean: ${MIXTURE.mu[0]}, std: ${MIXTURE.sd[0]}, weight: 3 }, { mean: ${MIXTURE.mu[1]}, std: ${MIXTURE.sd[1]} }] }
schedule: { use: linear, timesteps: 1000 }
denoiser: { use: oracle }
conditioning: { enabled: true }
sampler: { use: ddim, steps: 50 }
evaluation: { samples: 2000, metrics: [w1] }
reporters: [{ use: summary }]
`;

describe('the exact conditional oracle through every sampler kind: samples of class k follow component k', () => {
  for (const sampler of ['ddim', 'ddpm', 'euler', 'dpmpp-2m']) {
    it(sampler, async () => {
      const { out, summary } = await runText(`oracle-${sampler}`, ORACLE, [`sampler.use=${sampler}`, ...(sampler === 'ddpm' ? [] : ['sampler.steps=50'])]);
      const x = npy(join(out, 'samples.npy'));
      const y = npy(join(out, 'samples-labels.npy'));
      expect(y.length).toBe(2000);
      // Equal shares although the mixture weights are 3:1: conditional sampling draws what was asked.
      expect(y.filter((k) => k === 0).length).toBe(1000);
      for (const k of [0, 1]) {
        const xs = x.filter((_, i) => y[i] === k);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
        // 1000 draws: the mean within 5 standard errors, the std within 10 % (sampler discretisation included).
        expect(Math.abs(mean - MIXTURE.mu[k])).toBeLessThan((5 * MIXTURE.sd[k]) / Math.sqrt(1000));
        expect(Math.abs(sd / MIXTURE.sd[k] - 1)).toBeLessThan(0.1);
      }
      expect(summary.sampling.guidance).toBe(1);
      expect(summary.sampling.classes).toEqual(['component 0', 'component 1']);
    });
  }

  it('evaluation.classes picks one class by name; guidance 0 is the unconditional mixture (its 3:1 weights come back)', async () => {
    const one = await runText('oracle-one', ORACLE, ['evaluation.classes=component 1', 'evaluation.samples=500']);
    expect(npy(join(one.out, 'samples-labels.npy')).every((k) => k === 1)).toBe(true);
    expect(npy(join(one.out, 'samples.npy')).every((v) => v > 0)).toBe(true);
    const uncond = await runText('oracle-w0', ORACLE, ['sampler.guidance=0']);
    const share = npy(join(uncond.out, 'samples.npy')).filter((v) => v < 0.5).length / 2000;
    // weight 3/4 on the left component: 0.75 ± 5σ, σ = √(0.75·0.25/2000)
    expect(Math.abs(share - 0.75)).toBeLessThan(5 * Math.sqrt((0.75 * 0.25) / 2000));
  });
});

const TRAINED = `
name: cond-mlp
seed: 5
backend: cpu
dataset: { use: gaussian-mixture, size: 128, components: [{ mean: -2, std: 0.3 }, { mean: 2, std: 0.3 }] }
schedule: { use: linear, timesteps: 50 }
denoiser: { use: mlp, width: 32, depth: 2, timeEmbedding: 16 }
conditioning: { enabled: true, dropout: 0.2 }
training: { epochs: 3, batchSize: 32 }
sampler: { use: ddim, steps: 20 }
evaluation: { samples: 40, metrics: [w1] }
reporters: [{ use: summary }]
`;

describe('a trained conditional model', () => {
  it('trains on the fused kernels (class embedding and all, issue 19), records its label set, and `sample` changes guidance and classes without retraining', async () => {
    const { out, summary } = await runText('cond-mlp', TRAINED, [], true);
    expect(summary.training.path).toBe('fused:wasm-simd-mlp');
    expect(summary.training.acceleratorDeclined).toBeUndefined();
    // backend cpu: the fused sampling path runs with wasm only
    expect(summary.sampling.path).toBe('tfjs');
    const meta = JSON.parse(readFileSync(join(out, 'checkpoint', 'model.json'), 'utf8'));
    expect(meta.userDefinedMetadata.diffusionlab.labelNames).toEqual(['component 0', 'component 1']);
    const s = await sampleRun(out, ['sampler.guidance=3', 'evaluation.classes=[1]', 'evaluation.samples=10'], { ...quiet, out: join(dir, 'cond-mlp-w3') });
    const sampling = s.summary.sampling as Record<string, unknown>;
    expect(sampling.guidance).toBe(3);
    expect(sampling.classes).toEqual(['component 1']);
    expect(npy(join(s.sampleDir, 'samples-labels.npy'))).toEqual(new Array(10).fill(1));
    // Guided sampling costs one (batched) model call per step, as unguided does.
    expect(sampling.nfe).toBe(20);
  });
});

describe('conditional training on every backend', () => {
  it('trains on wasm, the default without tfjs-node, as on cpu: no UnsortedSegmentSum (gather gradient), no float32 OneHot (wasm writes 1 as 1.4e-45)', async () => {
    const cpu = await runText('cond-cpu', TRAINED);
    const wasm = await runText('cond-wasm', TRAINED, ['backend=wasm']);
    expect(wasm.summary.training.path).toBe('tfjs');
    // Each epoch's mean loss, as the two backends train it: equal up to float rounding. (The weights
    // themselves drift apart by up to 2·lr per Adam step where a gradient is ≈ 0 and its sign is rounding.)
    const losses = (out: string) =>
      readFileSync(join(out, 'loss-history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).loss as number);
    const [a, b] = [losses(cpu.out), losses(wasm.out)];
    expect(b.length).toBe(3);
    expect(a.length).toBe(3);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / a[i]).toBeLessThan(1e-5);
  });
});

describe('conditioning config errors name the key and the fix', () => {
  const issue = async (text: string, overrides: string[]) => {
    try {
      await runText(`bad-${Math.random()}`, text, overrides);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return 'no error';
  };
  it('a dataset without labels, a denoiser without a class embedding, guidance or classes on an unconditional config, an unknown class', async () => {
    expect(await issue(TRAINED, ['dataset.use=swiss-roll', 'dataset.size=64'])).toMatch(/conditioning\.enabled.*gives no class labels/s);
    expect(await issue(TRAINED, ['denoiser.use=seed-mlp'])).toMatch(/denoiser\.use.*does not take class labels/s);
    expect(await issue(UNCOND, ['sampler.guidance=2'])).toMatch(/sampler\.guidance.*unconditional/s);
    expect(await issue(UNCOND, ['evaluation.classes=1'])).toMatch(/evaluation\.classes.*unconditional/s);
    expect(await issue(TRAINED, ['sampler.guidance=-1'])).toMatch(/sampler\.guidance.*≥ 0/s);
    const before = Date.now();
    expect(await issue(TRAINED, ['evaluation.classes=7', 'training.epochs=200'])).toMatch(/evaluation\.classes.*2 classes/s);
    // Refused before training (200 epochs would take far longer).
    expect(Date.now() - before).toBeLessThan(3000);
  });
});

const LEARN = `
name: cond-learn
seed: 1
backend: cpu
dataset: { use: gaussian-mixture, components: [{ mean: -2, std: 0.3, weight: 4 }, { mean: 2, std: 0.3 }] }
schedule: { use: cosine, timesteps: 100 }
denoiser: { use: mlp, width: 32, depth: 2, timeEmbedding: 16 }
conditioning: { enabled: true }
training: { steps: 1500, batchSize: 64, learningRate: 0.003 }
sampler: { use: ddim, steps: 25 }
evaluation: { samples: 400, metrics: [w1] }
reporters: [{ use: summary }]
`;

describe('a trained conditional model draws what was asked', () => {
  it('class k lands on component k although the data is 4:1 (the exact w = 0 case is the oracle test above: mode weights of a briefly trained model vary by seed)', async () => {
    const { out } = await runText('cond-learn', LEARN);
    const x = npy(join(out, 'samples.npy'));
    const y = npy(join(out, 'samples-labels.npy'));
    const onOwnSide = (k: number) => x.filter((v, i) => y[i] === k && (k === 0 ? v < 0 : v > 0)).length / y.filter((l) => l === k).length;
    expect(onOwnSide(0)).toBeGreaterThan(0.95);
    expect(onOwnSide(1)).toBeGreaterThan(0.95);
  }, 120_000);
});
