// One small diffusion pipeline that uses every library package, written once and run twice by
// scripts/browser-bundle.test.ts: in Node (the packages' Node entries) and in headless Chromium (the
// Vite bundle of their browser entries). The modules are passed in, so this file imports nothing and
// both sides run exactly this code. A tfjs backend must be active before calling it.
//
// What it computes: DDPM samples (all T = 1000 steps) of the reference two-Gaussian mixture from the
// closed-form oracle denoiser (no training needed, so the result has a known answer), their W1 to a fresh reference
// draw, the fused WebAssembly DDPM loop against the plain tfjs loop on one seed-mlp, a CSV text
// turned into the `file` dataset's split, and the histogram figure spec of the samples.

/** Largest |a[i] − b[i]| (Infinity when the lengths differ). */
function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Runs the pipeline with the given package namespaces and returns plain numbers.
 * @param {{ tf: any, core: any, schedules: any, samplers: any, datasets: any, denoisers: any, metrics: any, kernels: any, reporters: any }} m
 *   `tf` is the @tensorflow/tfjs-core the packages use (for the tensor-leak count).
 */
export async function smoke(m) {
  const { generateSamples, instantiate, Rng } = m.core;
  const tensorsBefore = m.tf.memory().numTensors;
  const schedule = instantiate(m.schedules.linearSchedule, { timesteps: 1000 });
  const dataset = instantiate(m.datasets.gaussianMixtureDataset, {
    size: 1000,
    components: [
      { mean: -2, std: 0.5 },
      { mean: 2, std: 0.5 },
    ],
  });
  const ctx = { dataShape: dataset.shape, schedule, predictionType: 'epsilon', rng: new Rng(1) };
  const oracle = await instantiate(m.denoisers.oracleDenoiser, {}).build({ ...ctx, dataset });
  const sampler = m.samplers.createDdpm({});
  const { samples } = await generateSamples({ model: oracle, sampler, schedule, predictionType: 'epsilon', shape: dataset.shape, n: 1000, steps: 1000, rng: new Rng(4) });
  oracle.dispose();
  const reference = await dataset.reference(1000, new Rng(5));
  const w1 = m.metrics.wasserstein1d(samples, reference);

  // The fused WebAssembly DDPM loop against the tfjs loop, on one untrained seed-mlp (T = 20).
  const short = instantiate(m.schedules.linearSchedule, { timesteps: 20 });
  const mlp = await instantiate(m.denoisers.seedMlpDenoiser, { hidden: 16 }).build({ ...ctx, schedule: short, rng: new Rng(7) });
  const viaTfjs = (await generateSamples({ model: mlp, sampler, schedule: short, predictionType: 'epsilon', shape: [1], n: 64, steps: 20, rng: new Rng(8) })).samples;
  const viaWasm = m.kernels.sampleDdpmFused({ description: mlp.describe(), schedule: short, n: 64, rng: new Rng(8) });
  mlp.dispose();

  // Training needs tfjs's gradients. In Node core loads a vendored bundle of them; in a page that
  // file is not part of the bundle, and tfjs-layers (imported by the denoisers) registers them.
  await m.core.registerTfjsGradients();

  // A user's file as the page gets it (text from a dropped file), through the same parser and split as `file`.
  const table = m.datasets.parseDelimited('x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n');
  const fromFile = m.datasets.datasetFromTable(table, { standardize: true, holdout: 0.2, splitSeed: 0 }, 'dropped.csv');
  const fileTrain = fromFile.load(new Rng(0));

  const spec = m.reporters.histogramSpec(reference, samples, 40, 'oracle DDPM');
  return {
    simd: m.kernels.simdSupported(),
    w1,
    samplesHead: Array.from(samples.slice(0, 16)),
    fusedVsTfjs: maxAbsDiff(viaTfjs, viaWasm),
    fusedHead: Array.from(viaWasm.slice(0, 8)),
    histogramBars: spec.data.values.length,
    fileRows: fromFile.rows,
    fileHeader: fromFile.header,
    fileTrain: Array.from(fileTrain.data),
    gradientsRegistered: m.tf.getGradient('BatchMatMul') !== undefined,
    datasetPlugins: m.datasets.plugins.map((p) => p.name),
    metricPlugins: m.metrics.plugins.map((p) => p.name),
    tensorsLeaked: m.tf.memory().numTensors - tensorsBefore,
  };
}
