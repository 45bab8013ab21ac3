/**
 * `swiss-roll`: the 2-D Swiss roll of FFJORD's toy data (Grathwohl et al. 2019): scikit-learn's
 * make_swiss_roll t = 1.5π(1 + 2u), u ~ U[0, 1), point (t·cos t, t·sin t) + N(0, noise²), all ÷ 5.
 */
import { defineToy2d } from './toy2d.js';

/** A spiral sheet seen edge-on: one thin, curved mode that tests whether samples follow a manifold. */
export const swissRollDataset = defineToy2d({
  name: 'swiss-roll',
  description: 'Swiss-roll spiral (FFJORD toy data: make_swiss_roll, x/z columns ÷ 5), 2-D.',
  noiseDefault: 1.0,
  noiseDescription: 'Std of the Gaussian noise per coordinate, before the ÷5 scaling (FFJORD uses 1.0).',
  extra: {},
  sample(n, o, rng) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
      out[2 * i] = (t * Math.cos(t) + o.noise * rng.normal()) / 5;
      out[2 * i + 1] = (t * Math.sin(t) + o.noise * rng.normal()) / 5;
    }
    return out;
  },
});
