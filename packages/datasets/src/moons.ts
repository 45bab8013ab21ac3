/**
 * `moons`: two interleaving half circles (scikit-learn's make_moons): the outer moon
 * (cos θ, sin θ) and the inner (1 − cos θ, ½ − sin θ), θ ~ U[0, π], plus N(0, noise²) per coordinate.
 */
import { defineToy2d } from './toy2d.js';

/** Two moons; each point picks a moon with probability ½ (i.i.d., so reference draws match training). */
export const moonsDataset = defineToy2d({
  name: 'moons',
  description: 'Two interleaving half circles (scikit-learn make_moons), 2-D.',
  noiseDefault: 0.1,
  noiseDescription: 'Std of the Gaussian noise added to each coordinate (moon radius is 1).',
  extra: {},
  classNames: () => ['outer', 'inner'],
  sample(n, o, rng, labels) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const inner = rng.int(2) === 1;
      if (labels) labels[i] = inner ? 1 : 0;
      const th = Math.PI * rng.uniform();
      const x = inner ? 1 - Math.cos(th) : Math.cos(th);
      const y = inner ? 0.5 - Math.sin(th) : Math.sin(th);
      out[2 * i] = x + o.noise * rng.normal();
      out[2 * i + 1] = y + o.noise * rng.normal();
    }
    return out;
  },
});
