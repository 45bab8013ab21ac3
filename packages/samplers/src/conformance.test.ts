/**
 * Every sampler passes the shared testkit conformance suite (shapes, NFE accounting, onStep order,
 * no tensor leaks, determinism incl. concurrent calls, option round trip) at its default step count.
 * The distribution check uses an exact Gaussian denoiser; the slack allows each method's step error
 * at its default steps on T = 1000 (measured per-sampler accuracy is tested tighter in samplers.test.ts).
 */
import { samplerConformance } from '@diffusionlab/testkit';
import { plugins } from './index.js';

for (const plugin of plugins) {
  samplerConformance(plugin, { optionsList: [{}], n: 1000, meanSlack: 0.03, stdSlack: 0.04 });
}
