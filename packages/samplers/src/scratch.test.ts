import { parseOptions, Rng, type Sampler, scheduleFromBetas } from '@diffusionlab/core';
import { gaussianDenoiser, useBackend } from '@diffusionlab/testkit';
import { it } from 'vitest';
import { plugins } from './index.js';
import { linearSchedule, MU, S } from './fixtures.test-util.js';
useBackend('cpu');
const schedule = linearSchedule(1000);
const denoise = gaussianDenoiser(MU, S, schedule);
const mk = (p: any, raw: Record<string, unknown>): Sampler => p.create(parseOptions(p.options, raw, 'sampler'), {});
async function run(sampler: Sampler, n: number, seed: number, steps?: number) {
  const out = await sampler.sample({ denoise, schedule, shape: [1], n, steps, rng: new Rng(seed) });
  const x = out.x.dataSync().slice() as Float32Array; out.x.dispose(); return x;
}
it('ratios', async () => {
  for (const [name, raw] of [['dpmpp-3m-sde', { eta: 0 }]] as const) {
    const p = plugins.find((q) => q.name === name);
    const r2 = { ...raw, sigmas: 'karras' };
    const ref = await run(mk(p, r2), 8, 5, 800);
    const errs: number[] = [];
    for (const n of [5, 10, 20, 40, 80]) {
      const x = await run(mk(p, r2), 8, 5, n);
      errs.push(Math.max(...Array.from(x, (v, i) => Math.abs(v - ref[i]))));
    }
    console.log(name, JSON.stringify(raw), errs.map((e) => e.toExponential(2)).join(' '), errs.slice(1).map((e, i) => (errs[i] / e).toFixed(2)).join(' '));
  }
});
