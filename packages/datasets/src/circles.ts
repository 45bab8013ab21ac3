/**
 * `circles`: two concentric circles (scikit-learn's make_circles with factor ½, ×3 as in FFJORD):
 * radius 3 or 1.5 with probability ½ each, angle θ ~ U[0, 2π), plus N(0, noise²) per coordinate
 * before the ×3 (so noise is in make_circles' units).
 */
import { defineToy2d } from './toy2d.js';

/** Two nested rings: the inner one is easy to merge into the outer by an underfit model. */
export const circlesDataset = defineToy2d({
  name: 'circles',
  description: 'Two concentric circles, radii 3 and 1.5 (make_circles factor 0.5, ×3 as FFJORD), 2-D.',
  noiseDefault: 0.08,
  noiseDescription: 'Std of the Gaussian noise per coordinate before the ×3 scaling (FFJORD uses 0.08).',
  extra: {},
  sample(n, o, rng) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const r = rng.int(2) === 0 ? 1 : 0.5;
      const th = 2 * Math.PI * rng.uniform();
      out[2 * i] = 3 * (r * Math.cos(th) + o.noise * rng.normal());
      out[2 * i + 1] = 3 * (r * Math.sin(th) + o.noise * rng.normal());
    }
    return out;
  },
});
