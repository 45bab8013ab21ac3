/**
 * `rings`: four concentric rings of radii 3, 2.25, 1.5, 0.75 (FFJORD's toy data), each chosen
 * with probability ¼, angle θ ~ U[0, 2π), plus N(0, noise²) per coordinate.
 */
import { defineToy2d } from './toy2d.js';

const RADII = [3, 2.25, 1.5, 0.75];

/** Several nested thin rings: a harder version of `circles`. */
export const ringsDataset = defineToy2d({
  name: 'rings',
  description: 'Four concentric rings, radii 3, 2.25, 1.5, 0.75 (FFJORD), 2-D.',
  noiseDefault: 0.08,
  noiseDescription: 'Std of the Gaussian noise per coordinate (FFJORD uses 0.08).',
  extra: {},
  sample(n, o, rng) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const r = RADII[rng.int(4)];
      const th = 2 * Math.PI * rng.uniform();
      out[2 * i] = r * Math.cos(th) + o.noise * rng.normal();
      out[2 * i + 1] = r * Math.sin(th) + o.noise * rng.normal();
    }
    return out;
  },
});
