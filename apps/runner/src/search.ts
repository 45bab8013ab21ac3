/**
 * Random search beside the grid (Bergstra & Bengio 2012: for a fixed budget, random draws cover the
 * axes that matter better than a grid). An axis written as a distribution —
 * `training.learningRate=loguniform(1e-4,1e-2)`, `uniform(a,b)`, `int(a,b)`, `choice(a,b,c)` — is
 * drawn `--trials N` times from a generator seeded by `--seed`, so the same command draws the same
 * points; list axes (`key=a,b`) stay a grid, crossed with every draw.
 */
import { ConfigError, Rng } from '@diffusionlab/core';

/** A distribution to draw one axis from. */
export type Distribution = { kind: 'uniform' | 'loguniform'; low: number; high: number } | { kind: 'int'; low: number; high: number } | { kind: 'choice'; options: string[] };

const FORMS = 'uniform(a,b), loguniform(a,b) with 0 < a, int(a,b) or choice(a,b,…)';

/** The distribution an axis value names, or null for a plain value or list (a grid axis). */
export function parseDistribution(key: string, raw: string): Distribution | null {
  const text = raw.trim();
  const m = /^([A-Za-z_]+)\s*\((.*)\)\s*$/s.exec(text);
  if (!m) {
    if (/^(log)?uniform\s*\(|^int\s*\(|^choice\s*\(/.test(text)) {
      throw new ConfigError({ path: key, message: `"${text}" is missing its closing parenthesis; write ${FORMS}` });
    }
    return null;
  }
  const [, name, body] = m;
  const args = body.split(',').map((s) => s.trim());
  const fail = (why: string): never => {
    throw new ConfigError({ path: key, message: `"${text}": ${why}` }, { hint: `e.g. ${key}=${example(name)}` });
  };
  const numbers = () => {
    if (args.length !== 2 || args.some((a) => a === '')) fail(`${name} takes two numbers, low and high`);
    const [low, high] = args.map(Number);
    if (!Number.isFinite(low) || !Number.isFinite(high)) fail(`${args.join(' and ')} must be finite numbers`);
    if (!(low < high)) fail(`low (${low}) must be below high (${high})`);
    return { low, high };
  };
  switch (name) {
    case 'uniform':
      return { kind: 'uniform', ...numbers() };
    case 'loguniform': {
      const r = numbers();
      if (r.low <= 0) fail(`a log-uniform range must be positive, got low ${r.low}`);
      return { kind: 'loguniform', ...r };
    }
    case 'int': {
      const r = numbers();
      if (!Number.isInteger(r.low) || !Number.isInteger(r.high)) fail('int(a,b) takes two integers (both ends included)');
      return { kind: 'int', ...r };
    }
    case 'choice':
      if (args.length < 1 || args.some((a) => a === '')) fail('choice takes one or more values, separated by commas');
      return { kind: 'choice', options: args };
    default:
      throw new ConfigError({ path: key, message: `unknown distribution "${name}(…)"; write ${FORMS}` });
  }
}

function example(name: string): string {
  return name === 'int' ? 'int(1,8)' : name === 'choice' ? 'choice(ddpm,ddim)' : name === 'uniform' ? 'uniform(0.1,0.5)' : 'loguniform(1e-4,1e-2)';
}

/** How a distribution reads in the report's axes list. */
export function describeDistribution(d: Distribution): string {
  return d.kind === 'choice' ? `choice(${d.options.join(', ')})` : `${d.kind}(${d.low}, ${d.high})`;
}

/**
 * One draw from `d` as the text of a `key=value` override. Continuous draws keep 6 significant
 * digits, so the value in a folder name, the CSV and the run's config is the value that ran.
 */
export function draw(d: Distribution, rng: Rng): string {
  switch (d.kind) {
    case 'uniform':
      return String(Number((d.low + (d.high - d.low) * rng.uniform()).toPrecision(6)));
    case 'loguniform':
      // log x ~ U(log a, log b).
      return String(Number(Math.exp(Math.log(d.low) + (Math.log(d.high) - Math.log(d.low)) * rng.uniform()).toPrecision(6)));
    case 'int':
      return String(d.low + rng.int(d.high - d.low + 1));
    case 'choice':
      return d.options[rng.int(d.options.length)];
  }
}

/**
 * `trials` draws of every random axis, from one generator seeded with `seed`: draw i takes the
 * axes in order, so adding trials extends the earlier draws rather than changing them.
 */
export function drawTrials(dists: readonly Distribution[], trials: number, seed: number): string[][] {
  const rng = new Rng(seed).fork('sweep-search');
  return Array.from({ length: trials }, () => dists.map((d) => draw(d, rng)));
}
