import { describe, expect, it } from 'vitest';
import { checkDivergence, type DivergenceInput } from './divergence.js';

/** n draws from N(0, s²) in one dimension, deterministic (a fixed LCG; no test depends on their exact values). */
function normal(n: number, s: number, seed = 1): Float32Array {
  let x = seed;
  const u = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x + 1) / 2147483649;
  };
  return Float32Array.from({ length: n }, () => s * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

const base = (over: Partial<DivergenceInput> = {}): DivergenceInput => ({
  samples: normal(500, 1, 3),
  reference: normal(500, 1, 5),
  dim: 1,
  metrics: [{ name: 'w1', value: 0.1, floor: 0.05, higherIsBetter: false }],
  causes: [],
  steps: 50,
  numTrainTimesteps: 1000,
  ...over,
});

describe('divergence check', () => {
  it('stays quiet for samples on the data scale, even a poor fit', () => {
    expect(checkDivergence(base())).toBeNull();
    expect(checkDivergence(base({ samples: normal(500, 3), metrics: [{ name: 'w1', value: 2, floor: 0.05, higherIsBetter: false }] }))).toBeNull();
  });

  it('flags non-finite samples, a scale far outside the data, and a metric orders of magnitude above its floor', () => {
    const nan = normal(500, 1);
    nan[7] = Number.NaN;
    expect(checkDivergence(base({ samples: nan }))?.message).toMatch(/^DIVERGED: .*0\.20 % of the sample values are not finite/);
    const wide = checkDivergence(base({ samples: normal(500, 50) }));
    expect(wide?.message).toMatch(/spread 5\d\.\d× wider than the data/);
    expect(wide?.stdRatio).toBeGreaterThan(10);
    const far = checkDivergence(base({ metrics: [{ name: 'w1', value: 7074, floor: 0.069, higherIsBetter: false }] }));
    expect(far?.floorRatio?.metric).toBe('w1');
    expect(far?.message).toMatch(/w1 is 1\.03e\+5× its noise floor/);
    // Higher-is-better metrics (coverage) are not distances: never compared with a floor this way.
    expect(checkDivergence(base({ metrics: [{ name: 'coverage', value: 100, floor: 0.5, higherIsBetter: true }] }))).toBeNull();
  });

  it('measures a dimension the data barely uses against the data scale, so an image border does not read as divergence', () => {
    // 400 "images" of 4 pixels: pixel 0 is an always-blank border (one sample in 400 has ink there),
    // pixels 1-3 carry the data on a unit scale. The samples put faint noise (std 0.1) on the border.
    const n = 400;
    const dim = 4;
    const ref = new Float32Array(n * dim);
    const smp = new Float32Array(n * dim);
    const r = normal(n * dim, 1, 7);
    const q = normal(n * dim, 1, 9);
    for (let i = 0; i < n; i++) {
      ref[i * dim] = i === 0 ? 0.1 : 0; // reference border std ≈ 0.005
      smp[i * dim] = 0.1 * q[i * dim];
      for (let d = 1; d < dim; d++) {
        ref[i * dim + d] = r[i * dim + d];
        smp[i * dim + d] = q[i * dim + d];
      }
    }
    const faint = checkDivergence(base({ samples: smp, reference: ref, dim }));
    expect(faint).toBeNull();
    // A real blow-up on that border (std 20, 20× the data's scale) is still caught.
    const blown = Float32Array.from(smp);
    for (let i = 0; i < n; i++) blown[i * dim] = 20 * q[i * dim];
    const wide = checkDivergence(base({ samples: blown, reference: ref, dim }));
    expect(wide?.message).toMatch(/spread \d+× wider than the data/);
    expect(wide?.stdRatio).toBeGreaterThan(100);
  });

  it('names the known causes and their fixes first, then too few steps, else more steps', () => {
    const wide = normal(500, 50);
    const causes = [
      { message: 'sampler heun starts at σ_max = 2e4.', fixes: [['sampler.sigmaMax=80'], ['sampler.use=dpmpp-2m']] },
      { message: 'schedule.betaEnd was dropped.', fixes: [] },
    ];
    const known = checkDivergence(base({ samples: wide, causes }));
    expect(known?.message).toMatch(/Likely cause: sampler heun starts at σ_max = 2e4\. Also: schedule\.betaEnd was dropped\./);
    expect(known?.fixes).toEqual([['sampler.sigmaMax=80'], ['sampler.use=dpmpp-2m']]);
    const few = checkDivergence(base({ samples: wide, steps: 5, numTrainTimesteps: 100 }));
    expect(few?.message).toMatch(/too few sampler steps \(5\)/);
    expect(few?.fixes).toEqual([['sampler.steps=50']]);
    const none = checkDivergence(base({ samples: wide, steps: 100, numTrainTimesteps: 100 }));
    expect(none?.fixes).toEqual([]);
  });
});
