/**
 * `eight-gaussians`: eight isotropic Gaussians on a circle (FFJORD's "8gaussians"): centres
 * 4·(cos kπ/4, sin kπ/4), std `noise`, everything ÷ 1.414, component drawn uniformly. The density
 * is an exact Gaussian mixture, so `info.mixture` and `info.modes` are filled in.
 */
import { defineToy2d } from './toy2d.js';

const SCALE = 4;
const SHRINK = 1.414; // FFJORD divides by 1.414, not √2; kept so raw values match theirs.

/** The eight centres in raw units, FFJORD's order. */
function centers(): number[][] {
  const r = Math.SQRT1_2;
  const unit = [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
    [r, r],
    [r, -r],
    [-r, r],
    [-r, -r],
  ];
  return unit.map(([x, y]) => [(SCALE * x) / SHRINK, (SCALE * y) / SHRINK]);
}

/** The standard mode-collapse test: a sampler that misses modes shows it at once. */
export const eightGaussiansDataset = defineToy2d({
  name: 'eight-gaussians',
  description: 'Eight Gaussians on a circle (FFJORD 8gaussians), 2-D; exact mixture and mode info.',
  noiseDefault: 0.5,
  noiseDescription: 'Std of each Gaussian before the ÷1.414 scaling (FFJORD uses 0.5; centres at radius 4/1.414).',
  extra: {},
  classNames: () => centers().map((_, k) => `gaussian ${k}`),
  sample(n, o, rng, labels) {
    const c = centers();
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const ki = rng.int(8);
      if (labels) labels[i] = ki;
      const k = c[ki];
      out[2 * i] = k[0] + (o.noise * rng.normal()) / SHRINK;
      out[2 * i + 1] = k[1] + (o.noise * rng.normal()) / SHRINK;
    }
    return out;
  },
  modes: (o) => ({ centers: centers(), ...(o.noise > 0 ? { radius: (3 * o.noise) / SHRINK } : {}) }),
  mixture: (o) => (o.noise > 0 ? { weights: new Array(8).fill(1 / 8), means: centers(), stds: centers().map(() => [o.noise / SHRINK, o.noise / SHRINK]) } : undefined),
});
