// `backend: auto` per model: the rule on real accelerator objects, the question it asks of a real
// model before any backend runs it, and the whole choice as a run makes it — without tfjs-node on
// every machine (a loader hides it), and with it where @tensorflow/tfjs-node resolves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTfjsTrainingPath, Rng, type TrainAccelerator, type TrainingPath, type TrainingPathContext } from '@diffusionlab/core';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseAutoBackend, FUSED_BACKEND, probeTrainAccelerator } from './auto-backend.js';
import { setupBackend } from './backend.js';
import { activateBackend, type BackendProbe, instantiatePlugins, probeFusedTraining } from './experiment.js';
import { loadExperiment } from './load.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'dl-auto-backend-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { seed: 0, print: () => {}, interactive: false };

/** Whether @tensorflow/tfjs-node resolves from the runner (it is never a dependency; CI has none). */
function tfjsNodeResolves(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
const tfjsNode = tfjsNodeResolves();

const MLP = `name: auto-mlp
seed: 3
backend: auto
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { steps: 2, batchSize: 16 }
sampler: { use: ddpm }
evaluation: { samples: 32, metrics: [w1] }
reporters: [summary]
`;

const UNET = `name: auto-unet
seed: 3
backend: auto
dataset: { use: digits, resolution: 14, size: 32 }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: unet, channels: 4, channelMultipliers: [1, 2] }
training: { steps: 1, batchSize: 8 }
sampler: { use: ddim, steps: 2 }
evaluation: { samples: 4, metrics: [] }
reporters: [summary]
`;

/** A U-Net the fused kernels decline (GroupNorm has no fused kernel): the model auto sends to tfjs-node. */
const UNET_GROUPNORM = UNET.replace('channelMultipliers: [1, 2] }', 'channelMultipliers: [1, 2], norm: group, groups: 2 }');

let configs = 0;
/** A config's plugins, training set and rng, as `run` has them when it activates the backend. */
async function prepared(yaml: string, overrides: string[] = [], accelerator?: TrainAccelerator) {
  const file = join(tmp, `c${configs++}.yaml`);
  writeFileSync(file, yaml);
  const r = (await loadExperiment(file, overrides)).resolved;
  const plugins = await instantiatePlugins(r, quiet);
  const rng = new Rng(r.experiment.seed);
  const probe: BackendProbe = { accelerator, trainingSet: await plugins.dataset.load(rng.fork('data')), rng };
  return { r, plugins, probe };
}

/**
 * A real accelerator that takes every model: core's tfjs path under a fused name. It records the
 * backend it was asked for and which of its paths were disposed.
 */
class TakesEverything implements TrainAccelerator {
  readonly name = 'takes-everything';
  readonly askedFor: string[] = [];
  readonly disposed: string[] = [];

  create(ctx: TrainingPathContext): TrainingPath {
    this.askedFor.push(ctx.backend);
    const inner = createTfjsTrainingPath(ctx);
    return {
      path: 'fused:takes-everything',
      step: (batch, lr) => inner.step(batch, lr),
      emaUpdate: (decay) => inner.emaUpdate(decay),
      takeLossSum: () => inner.takeLossSum(),
      snapshot: () => inner.snapshot(),
      restore: (state) => inner.restore(state),
      withSamplingWeights: (fn) => inner.withSamplingWeights(fn),
      finish: (completed) => inner.finish(completed),
      dispose: () => {
        inner.dispose();
        this.disposed.push('fused:takes-everything');
      },
    };
  }
}

/** A real accelerator that declines every model, with its reason. */
const takesNothing: TrainAccelerator = { name: 'takes-nothing', create: () => 'this accelerator trains no model' };

describe('chooseAutoBackend', () => {
  it('without tfjs-node, takes wasm whatever the accelerator said', () => {
    for (const fused of [undefined, { path: 'fused:x' }, { declined: 'no' }]) {
      expect(chooseAutoBackend("Cannot find package '@tensorflow/tfjs-node'", fused)).toEqual({
        name: 'wasm',
        reason: 'auto: @tensorflow/tfjs-node is not installed; wasm is the fastest embedded backend',
      });
    }
  });

  it('with tfjs-node, takes wasm for a model a fused path trains and tensorflow for any other, saying why', () => {
    const fusedModel = chooseAutoBackend(null, { path: 'fused:wasm-simd-mlp' });
    expect(fusedModel.name).toBe('wasm');
    expect(fusedModel.reason).toMatch(/^auto: fused:wasm-simd-mlp trains this model, faster than @tensorflow\/tfjs-node's ops/);
    const declined = chooseAutoBackend(null, { declined: 'the fused kernels do not run this model' });
    expect(declined.name).toBe('tensorflow');
    expect(declined.reason).toContain('no fused path trains this model');
    expect(declined.reason).toContain('the fused kernels do not run this model');
    expect(chooseAutoBackend(null).name).toBe('tensorflow');
  });
});

describe('probeTrainAccelerator and probeFusedTraining (on the cpu backend, as on any)', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('asks for the fused backend, reports the path, and disposes it at once', async () => {
    const { r, plugins, probe } = await prepared(MLP);
    const model = await plugins.denoiser.build({
      dataShape: plugins.dataset.shape,
      schedule: plugins.schedule,
      predictionType: 'epsilon',
      rng: new Rng(1),
      dataset: plugins.dataset,
      trainingSet: probe.trainingSet,
    });
    const before = tf.memory().numTensors;
    const acc = new TakesEverything();
    expect(probeTrainAccelerator(acc, { model, shape: plugins.dataset.shape, config: r.experiment.training })).toEqual({ path: 'fused:takes-everything' });
    expect(acc.askedFor).toEqual([FUSED_BACKEND]);
    expect(acc.disposed).toEqual(['fused:takes-everything']);
    expect(tf.memory().numTensors).toBe(before); // the path's optimiser state and loss sum are gone
    expect(probeTrainAccelerator(takesNothing, { model, shape: plugins.dataset.shape, config: r.experiment.training })).toEqual({
      declined: 'this accelerator trains no model',
    });
    model.dispose();
  });

  it('the kernels take the seed MLP and the default U-Net and decline a GroupNorm U-Net, on throwaway models that leave no tensor', async () => {
    const mlp = await prepared(MLP, [], mlpTrainAccelerator);
    const unet = await prepared(UNET, [], mlpTrainAccelerator);
    const grouped = await prepared(UNET_GROUPNORM, [], mlpTrainAccelerator);
    const before = tf.memory().numTensors;
    expect(await probeFusedTraining(mlp.r, mlp.plugins, mlp.probe)).toEqual({ path: 'fused:wasm-simd-mlp' });
    expect(await probeFusedTraining(unet.r, unet.plugins, unet.probe)).toEqual({ path: 'fused:wasm-simd-unet' });
    const declined = await probeFusedTraining(grouped.r, grouped.plugins, grouped.probe);
    expect(declined).toEqual({ declined: expect.stringMatching(/no normalisation layers \(norm 'group'\)/) });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('declines without building a model when nothing would be accelerated', async () => {
    const acc = new TakesEverything();
    const off = await prepared(MLP, ['training.accelerate=false'], acc);
    expect(await probeFusedTraining(off.r, off.plugins, off.probe)).toEqual({ declined: 'training.accelerate is false' });
    const oracle = await prepared(MLP, ['denoiser.use=oracle'], acc);
    expect(await probeFusedTraining(oracle.r, oracle.plugins, oracle.probe)).toEqual({ declined: 'the denoiser is closed-form: nothing trains' });
    const none = await prepared(MLP);
    expect(await probeFusedTraining(none.r, none.plugins, none.probe)).toEqual({ declined: 'no training accelerator is loaded' });
    expect(acc.askedFor).toEqual([]);
  });
});

describe('backend auto in a run', () => {
  it('without tfjs-node (hidden by a loader, as in CI): the U-Net runs on wasm, and env.json says why', () => {
    const file = join(tmp, 'unet.yaml');
    writeFileSync(file, UNET);
    const out = join(tmp, 'unet-run');
    const fixtures = join(here, '..', 'test-fixtures');
    const r = spawnSync(
      process.execPath,
      ['--import', join(fixtures, 'hide-tfjs-node.mjs'), '--import', join(fixtures, 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', file, '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const env = JSON.parse(readFileSync(join(out, 'env.json'), 'utf8'));
    expect(env.backend).toBe('wasm');
    expect(env.backendReason).toBe('auto: @tensorflow/tfjs-node is not installed; wasm is the fastest embedded backend');
  });

  it.skipIf(!tfjsNode)(
    'with tfjs-node: the fused seed MLP and U-Net stay on wasm; a GroupNorm U-Net and an unaccelerated MLP take tensorflow (skipped where @tensorflow/tfjs-node does not resolve — CI; see docs/tfjs-node-from-wheel.md)',
    async () => {
      const mlp = await prepared(MLP, [], mlpTrainAccelerator);
      const before = tf.memory().numTensors;
      const onWasm = await activateBackend(mlp.r, mlp.plugins, mlp.probe);
      expect(onWasm).toMatchObject({ requested: 'auto', name: 'wasm' });
      expect(onWasm.reason).toMatch(/^auto: fused:wasm-simd-mlp trains this model/);
      expect(tf.getBackend()).toBe('wasm');

      const unet = await prepared(UNET, [], mlpTrainAccelerator);
      const unetOnWasm = await activateBackend(unet.r, unet.plugins, unet.probe);
      expect(unetOnWasm).toMatchObject({ requested: 'auto', name: 'wasm' });
      expect(unetOnWasm.reason).toMatch(/^auto: fused:wasm-simd-unet trains this model/);

      const grouped = await prepared(UNET_GROUPNORM, [], mlpTrainAccelerator);
      const onTf = await activateBackend(grouped.r, grouped.plugins, grouped.probe);
      expect(onTf).toMatchObject({ requested: 'auto', name: 'tensorflow' });
      expect(onTf.reason).toContain("no normalisation layers (norm 'group')");
      expect(tf.getBackend()).toBe('tensorflow');

      const off = await prepared(MLP, ['training.accelerate=false'], mlpTrainAccelerator);
      expect((await activateBackend(off.r, off.plugins, off.probe)).name).toBe('tensorflow');
      // the throwaway models were all disposed
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
