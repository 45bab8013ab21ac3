// The exported YAML is a config the CLI accepts: parsed as `diffusionlab run` reads a file and
// resolved against the runner's registry (every plugin's own schema), for the seed setup and for a
// 2-D setup with other plugins and options.
import { builtinRegistry, parseConfigText, resolveExperiment } from 'diffusionlab';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SEED_SETUP, type Setup, fromExperimentYaml, toExperimentYaml } from './setup.js';

function resolveYaml(setup: Setup) {
  const text = toExperimentYaml(setup);
  return resolveExperiment(parseConfigText(text, `${setup.name}.yaml`), builtinRegistry(), `${setup.name}.yaml`);
}

describe('toExperimentYaml', () => {
  it('writes the seed setup as a config the runner resolves to examples/seed-1d.yaml’s experiment', () => {
    const r = resolveYaml(SEED_SETUP);
    expect(r.experiment.seed).toBe(42);
    expect(r.schedule.options).toMatchObject({ timesteps: 100, betaStart: 0.0001, betaEnd: 0.02 });
    expect(r.denoiser.options).toMatchObject({ hidden: 128 });
    expect(r.experiment.training).toMatchObject({ epochs: 1000, batchSize: 32, learningRate: 0.001 });
    expect(r.experiment.evaluation.samples).toBe(1000);
  });

  it('keeps a 2-D setup’s plugins and options, and leaves cleared fields to the defaults', () => {
    const setup: Setup = {
      ...SEED_SETUP,
      name: 'moons-play',
      dataset: { use: 'moons', options: { noise: 0.05, size: undefined } },
      schedule: { use: 'cosine', options: {} },
      denoiser: { use: 'mlp', options: {} },
      sampler: { use: 'ddim', options: { steps: 25 } },
      metric: { use: 'sliced-wasserstein', options: {} },
      training: { steps: 300 },
    };
    const r = resolveYaml(setup);
    expect(r.dataset.use).toBe('moons');
    expect(r.dataset.options).toMatchObject({ noise: 0.05 });
    expect(r.sampler.options).toMatchObject({ steps: 25 });
    expect(r.experiment.training.steps).toBe(300);
  });

  it('an option the plugin rejects fails the runner’s validation, naming the key', () => {
    const bad: Setup = { ...SEED_SETUP, sampler: { use: 'ddim', options: { steps: -3 } } };
    expect(() => resolveYaml(bad)).toThrow(/sampler\.steps/);
  });
});

describe('fromExperimentYaml', () => {
  it('reads examples/seed-1d.yaml as the page’s opening setup', () => {
    const text = readFileSync(new URL('../../../examples/seed-1d.yaml', import.meta.url), 'utf8');
    const setup = fromExperimentYaml(text, 'seed-1d.yaml');
    expect(setup).toEqual({ ...SEED_SETUP, training: { ...SEED_SETUP.training, logEvery: 100 }, metric: { use: 'w1', options: {} } });
  });

  it('round-trips an exported setup', () => {
    const setup: Setup = { ...SEED_SETUP, name: 'rt', seed: 7, dataset: { use: 'pinwheel', options: { arms: 3 } }, metric: { use: 'mmd', options: { bandwidth: 0.5 } } };
    expect(fromExperimentYaml(toExperimentYaml(setup))).toEqual(setup);
  });

  it('names the file and the fix for text that is not a config', () => {
    expect(() => fromExperimentYaml('dataset: [1, 2', 'x.yaml')).toThrow(/x\.yaml is not valid YAML/);
    expect(() => fromExperimentYaml('- 1\n- 2\n')).toThrow(/not a YAML\/JSON mapping/);
    expect(() => fromExperimentYaml('dataset: 3\nschedule: linear\ndenoiser: seed-mlp\nsampler: ddpm\n')).toThrow(/^dataset: expected \{ use/);
    expect(() => fromExperimentYaml('extends: base.yaml\n')).toThrow(/extends: .*merged config/);
  });
});
