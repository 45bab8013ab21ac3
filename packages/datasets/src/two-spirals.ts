/**
 * `two-spirals`: two interleaved spirals (FFJORD's "2spirals"): r = √u·3π (u ~ U[0, 1)),
 * d = (−cos r·r + 0.5v₁, sin r·r + 0.5v₂) with v ~ U[0, 1)², mirrored to −d for the second spiral
 * (probability ½), then ÷ 3 plus N(0, noise²) per coordinate.
 */
import { defineToy2d } from './toy2d.js';

/** Two thin arms winding around each other: mode separation at small distances. */
export const twoSpiralsDataset = defineToy2d({
  name: 'two-spirals',
  description: 'Two interleaved spirals (FFJORD 2spirals), 2-D.',
  noiseDefault: 0.1,
  noiseDescription: 'Std of the Gaussian noise per coordinate after the ÷3 scaling (FFJORD uses 0.1).',
  extra: {},
  classNames: () => ['first', 'second'],
  sample(n, o, rng, labels) {
    const out = new Float32Array(n * 2);
    const turns = (540 * 2 * Math.PI) / 360;
    for (let i = 0; i < n; i++) {
      const r = Math.sqrt(rng.uniform()) * turns;
      const sign = rng.int(2) === 0 ? 1 : -1;
      if (labels) labels[i] = sign > 0 ? 0 : 1;
      const dx = -Math.cos(r) * r + 0.5 * rng.uniform();
      const dy = Math.sin(r) * r + 0.5 * rng.uniform();
      out[2 * i] = (sign * dx) / 3 + o.noise * rng.normal();
      out[2 * i + 1] = (sign * dy) / 3 + o.noise * rng.normal();
    }
    return out;
  },
});
