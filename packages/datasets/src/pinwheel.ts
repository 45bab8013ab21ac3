/**
 * `pinwheel`: curved arms (FFJORD's toy data, after Johnson et al. 2016): for arm k of K, draw
 * f = (1 + radialStd·z₁, noise·z₂), rotate by φ = 2πk/K + rate·e^{f₁}, scale by 2:
 * x = 2·(f₁cos φ + f₂ sin φ, −f₁ sin φ + f₂ cos φ).
 */
import { z } from '@diffusionlab/core';
import { defineToy2d } from './toy2d.js';

/** Elongated, curved, anisotropic modes. */
export const pinwheelDataset = defineToy2d({
  name: 'pinwheel',
  description: 'Pinwheel of curved arms (FFJORD, 5 arms by default), 2-D.',
  noiseDefault: 0.1,
  noiseDescription: 'Tangential std of each arm (FFJORD uses 0.1).',
  extra: {
    arms: z.number().int({ error: 'must be an integer ≥ 1' }).min(1, { error: 'must be an integer ≥ 1' }).default(5).describe('Number of arms.'),
    radialStd: z.number().min(0, { error: 'must be ≥ 0' }).default(0.3).describe('Radial std along each arm (FFJORD uses 0.3).'),
    rate: z.number().default(0.25).describe('How strongly arms curl: angle grows by rate·exp(radius) (FFJORD uses 0.25).'),
  },
  classNames: (o) => Array.from({ length: o.arms }, (_, k) => `arm ${k}`),
  sample(n, o, rng, labels) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const k = rng.int(o.arms);
      if (labels) labels[i] = k;
      const f1 = 1 + o.radialStd * rng.normal();
      const f2 = o.noise * rng.normal();
      const phi = (2 * Math.PI * k) / o.arms + o.rate * Math.exp(f1);
      const c = Math.cos(phi);
      const s = Math.sin(phi);
      out[2 * i] = 2 * (f1 * c + f2 * s);
      out[2 * i + 1] = 2 * (-f1 * s + f2 * c);
    }
    return out;
  },
});
