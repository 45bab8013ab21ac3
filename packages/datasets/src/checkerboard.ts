/**
 * `checkerboard`: uniform density on the 8 dark squares of a 4×4 board over [−4, 4]² (FFJORD's
 * toy data): x₁ ~ U[−2, 2), x₂ = u − 2b + (⌊x₁⌋ mod 2) with u ~ U[0, 1), b ~ Bernoulli(½), all × 2.
 */
import { defineToy2d } from './toy2d.js';

/** Centres of the eight filled squares (side 2) in raw units. */
function squareCenters(): number[][] {
  const pre = [
    [-1.5, 0.5],
    [-1.5, -1.5],
    [-0.5, 1.5],
    [-0.5, -0.5],
    [0.5, 0.5],
    [0.5, -1.5],
    [1.5, 1.5],
    [1.5, -0.5],
  ];
  return pre.map(([x, y]) => [2 * x, 2 * y]);
}

/** Sharp-edged, disconnected support: shows blurring between squares. */
export const checkerboardDataset = defineToy2d({
  name: 'checkerboard',
  description: 'Uniform on the 8 dark squares of a 4×4 checkerboard over [-4, 4]² (FFJORD), 2-D.',
  noiseDefault: 0,
  noiseDescription: 'Std of optional Gaussian noise per coordinate (FFJORD uses none; squares have side 2).',
  extra: {},
  sample(n, o, rng) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const x1 = 4 * rng.uniform() - 2;
      const parity = ((Math.floor(x1) % 2) + 2) % 2; // Python's floor-mod: (−1) mod 2 = 1.
      const x2 = rng.uniform() - 2 * rng.int(2) + parity;
      out[2 * i] = 2 * x1 + (o.noise > 0 ? o.noise * rng.normal() : 0);
      out[2 * i + 1] = 2 * x2 + (o.noise > 0 ? o.noise * rng.normal() : 0);
    }
    return out;
  },
  modes: () => ({ centers: squareCenters(), radius: 1 }),
});
