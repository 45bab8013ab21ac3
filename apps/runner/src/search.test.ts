import { Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { draw, drawTrials, parseDistribution } from './search.js';
import { expandAxes, parseAxes } from './sweep.js';

describe('random search axes', () => {
  it('parses the four distributions; plain values and lists are grid axes', () => {
    expect(parseDistribution('lr', 'loguniform(1e-4, 1e-2)')).toEqual({ kind: 'loguniform', low: 1e-4, high: 1e-2 });
    expect(parseDistribution('x', 'uniform(0,1)')).toEqual({ kind: 'uniform', low: 0, high: 1 });
    expect(parseDistribution('h', 'int(8,64)')).toEqual({ kind: 'int', low: 8, high: 64 });
    expect(parseDistribution('s', 'choice(ddpm,ddim)')).toEqual({ kind: 'choice', options: ['ddpm', 'ddim'] });
    expect(parseDistribution('s', 'ddpm,ddim')).toBeNull();
    expect(parseDistribution('n', '20')).toBeNull();
  });

  it('a malformed axis names the key, what is wrong and how to write it', () => {
    const bad: [string, RegExp][] = [
      ['loguniform(0,1)', /lr: "loguniform\(0,1\)": a log-uniform range must be positive/],
      ['uniform(2,1)', /lr: "uniform\(2,1\)": low \(2\) must be below high \(1\)/],
      ['uniform(1)', /uniform takes two numbers/],
      ['uniform(a,1)', /a and 1 must be finite numbers/],
      ['int(1.5,3)', /int\(a,b\) takes two integers/],
      ['choice()', /choice takes one or more values/],
      ['logunifrom(1,2)', /lr: unknown distribution "logunifrom\(…\)"; write uniform\(a,b\), loguniform\(a,b\)/],
      ['loguniform(1e-4,1e-2', /missing its closing parenthesis/],
    ];
    for (const [raw, re] of bad) expect(() => parseAxes([`lr=${raw}`]), raw).toThrow(re);
  });

  it('a random axis needs --trials, and --trials needs a random axis', () => {
    expect(() => expandAxes(parseAxes(['training.learningRate=loguniform(1e-4,1e-2)']))).toThrow(
      /training\.learningRate: loguniform\(0\.0001, 0\.01\) is a random axis; say how many points to draw with --trials N/,
    );
    expect(() => expandAxes(parseAxes(['seed=1,2']), { trials: 3 })).toThrow(/--trials: draws random points, but no axis is a distribution/);
    expect(() => expandAxes(parseAxes(['x=uniform(0,1)']), { trials: 0 })).toThrow(/--trials: must be a positive integer/);
  });

  it('draws are reproducible for a seed, differ across seeds, and extend (not change) with more trials', () => {
    const d = [parseDistribution('a', 'loguniform(1e-4,1e-2)'), parseDistribution('b', 'int(1,3)')] as never[];
    const five = drawTrials(d, 5, 7);
    expect(drawTrials(d, 5, 7)).toEqual(five);
    expect(drawTrials(d, 8, 7).slice(0, 5)).toEqual(five);
    expect(drawTrials(d, 5, 8)).not.toEqual(five);
  });

  it('log-uniform draws are uniform in log space: range, mean and spread match U(log a, log b)', () => {
    const rng = new Rng(3);
    const n = 4000;
    const logs = Array.from({ length: n }, () => Math.log10(Number(draw({ kind: 'loguniform', low: 1e-4, high: 1e-2 }, rng))));
    expect(Math.min(...logs)).toBeGreaterThanOrEqual(-4);
    expect(Math.max(...logs)).toBeLessThanOrEqual(-2);
    // U(-4, -2): mean -3, variance (b-a)²/12 = 1/3; the mean's standard error is sqrt(1/3 / n) ≈ 0.009.
    const mean = logs.reduce((a, b) => a + b, 0) / n;
    const variance = logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean + 3)).toBeLessThan(4 * Math.sqrt(1 / 3 / n));
    expect(Math.abs(variance - 1 / 3)).toBeLessThan(0.03);
  });

  it('int draws cover both ends; choice draws only its options', () => {
    const rng = new Rng(1);
    const ints = new Set(Array.from({ length: 300 }, () => draw({ kind: 'int', low: 1, high: 3 }, rng)));
    expect([...ints].sort()).toEqual(['1', '2', '3']);
    const picks = new Set(Array.from({ length: 100 }, () => draw({ kind: 'choice', options: ['ddpm', 'ddim'] }, rng)));
    expect([...picks].sort()).toEqual(['ddim', 'ddpm']);
  });

  it('random axes cross the grid: every list value gets every draw, in axis order', () => {
    const axes = parseAxes(['sampler.use=ddpm,ddim', 'training.learningRate=loguniform(1e-4,1e-2)']);
    const combos = expandAxes(axes, { trials: 3, seed: 1 });
    expect(combos).toHaveLength(6);
    expect(combos.slice(0, 3).map((c) => c[0])).toEqual(['ddpm', 'ddpm', 'ddpm']);
    expect(combos.slice(3).map((c) => c[1])).toEqual(combos.slice(0, 3).map((c) => c[1]));
    expect(axes[1].values).toHaveLength(3);
    expect(axes[1].label).toBe('loguniform(0.0001, 0.01)');
  });
});
