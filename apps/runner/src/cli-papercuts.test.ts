// Small CLI behaviours a new user hits first, each through the real CLI process where it matters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiffusionLabError, z } from '@diffusionlab/core';
import { renderSvg } from '@diffusionlab/reporters';
import { afterAll, describe, expect, it } from 'vitest';
import { callerCwd } from './caller-cwd.js';
import { describeOptions, main } from './cli.js';
import { parseListKind } from './list-kind.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';
import { comparisonSpec, parseAxes } from './sweep.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..', '..');
const bin = join(here, 'bin.ts');
const hooks = join(here, '..', 'test-fixtures', 'ts-hooks.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'dl-papercuts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs main in this process with stdout captured. */
async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((c: string) => {
    out += c;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(argv), out };
  } finally {
    process.stdout.write = write;
  }
}

/** The CLI from source as a real process (`node --import hooks src/bin.ts …`); env replaces npm's and pnpm's variables. */
function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'INIT_CWD' || k.startsWith('npm_')) delete env[k];
  const r = spawnSync(process.execPath, ['--import', hooks, bin, ...args], { cwd: opts.cwd ?? root, env: { ...env, ...opts.env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TINY = `name: tiny
seed: 1
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: oracle }
training: { predictionType: epsilon }
sampler: { use: ddpm }
evaluation: { samples: 32, metrics: [w1] }
reporters: [summary]
`;

describe('diffusionlab list', () => {
  it('accepts singular and plural kinds, in any case', () => {
    expect(parseListKind('sampler')).toBe('sampler');
    expect(parseListKind('samplers')).toBe('sampler');
    expect(parseListKind('Schedules')).toBe('schedule');
    expect(parseListKind(undefined)).toBeUndefined();
  });

  it('suggests the closest kind on a typo', () => {
    const err = (arg: string) => {
      try {
        parseListKind(arg);
      } catch (e) {
        expect(e).toBeInstanceOf(DiffusionLabError);
        return `${(e as DiffusionLabError).message} | ${(e as DiffusionLabError).hint}`;
      }
      return 'no error';
    };
    expect(err('samplr')).toMatch(/^unknown plugin kind "samplr"; did you mean "sampler"\? \| Kinds \(singular or plural\): dataset, schedule/);
    expect(err('metics')).toMatch(/did you mean "metric"\?/);
    expect(err('zzzzzz')).toMatch(/^unknown plugin kind "zzzzzz" \| Kinds/);
  });

  it('`list samplers` prints the samplers', async () => {
    const { code, out } = await capture(['list', 'samplers']);
    expect(code).toBe(0);
    expect(out).toMatch(/^\nsamplers\n {2}ddim — /);
  });

  it('a closed pipe (`list | true`) ends quietly with exit 0, not an EPIPE stack trace', () => {
    // `true` exits without reading, so the CLI's writes hit a closed pipe (EPIPE).
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" --import "${hooks}" "${bin}" list | true; echo "exit=\${PIPESTATUS[0]}" >&2`], { cwd: root, encoding: 'utf8' });
    expect(piped.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(piped.stderr.trim()).toBe('exit=0');
  });

  it('prints integer options without zod’s ±MAX_SAFE_INTEGER filler bounds; splitSeed reads "integer (min 0)"', async () => {
    const rows = describeOptions(z.object({ a: z.number().int().default(0), b: z.number().int().min(0).default(0) }).strict());
    expect(rows.map((r) => r.type)).toEqual(['integer', 'integer (min 0)']);
    const { out } = await capture(['list', 'datasets']);
    expect(out).not.toMatch(/9007199254740991/);
    expect(out).toMatch(/splitSeed: integer \(min 0\) = 0 {2}— Seed \(an integer ≥ 0\)/);
  });
});

describe('user paths resolve against the folder the user typed the command in', () => {
  const user = mkdtempSync(join(tmp, 'user-'));
  writeFileSync(join(user, 'x.yaml'), TINY);
  const pnpmLike = { INIT_CWD: user, npm_package_json: join(root, 'package.json'), npm_lifecycle_script: 'node apps/runner/src/bin.ts' };

  it('through a package script (pnpm -C <repo> diffusionlab …): INIT_CWD is the caller’s folder', () => {
    const r = cli(['validate', 'x.yaml'], { cwd: root, env: pnpmLike });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^x\.yaml is valid/m);
    expect(r.status).toBe(0);
  });

  it('callerCwd: only the script’s own process, only an existing folder', () => {
    const pkg = join(root, 'package.json');
    const env = { INIT_CWD: user, npm_package_json: pkg, npm_lifecycle_script: 'node apps/runner/dist/bin.js' };
    const self = join(root, 'apps/runner/dist/bin.js');
    expect(callerCwd(env, root, self)).toBe(user);
    expect(callerCwd({ ...env, npm_lifecycle_script: 'diffusionlab run x.yaml' }, root, '/elsewhere/bin.js')).toBe(user);
    expect(callerCwd({ ...env, npm_lifecycle_script: 'vitest run' }, root, self)).toBe(root);
    expect(callerCwd(env, join(root, 'examples'), self)).toBe(join(root, 'examples')); // the script changed folder first
    expect(callerCwd({ ...env, INIT_CWD: join(user, 'missing') }, root, self)).toBe(root);
    expect(callerCwd({}, user, self)).toBe(user); // invoked directly
    expect(callerCwd({ ...env, npm_package_json: join(user, 'package.json') }, root, self)).toBe(root);
  });
});

describe('sample folders and the sweep figure', () => {
  it('a default sample folder is named after the steps that run (T for DDPM), not DDPM’s stand-in 1000', async () => {
    const cfg = join(tmp, 'tiny.yaml');
    writeFileSync(cfg, TINY);
    const loaded = await loadExperiment(cfg);
    const { runDir } = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(tmp, 'run'), print: () => {} });
    const { sampleDir, summary } = await sampleRun(runDir, [], { print: () => {} });
    expect((summary.sampling as { steps: number }).steps).toBe(20);
    expect(basename(sampleDir)).toMatch(/^ddpm-20-/);
    const ddim = await sampleRun(runDir, ['sampler.use=ddim', 'sampler.steps=5'], { print: () => {} });
    expect(basename(ddim.sampleDir)).toMatch(/^ddim-5-/);
    expect(JSON.parse(readFileSync(join(ddim.sampleDir, 'summary.json'), 'utf8')).sampling.steps).toBe(5);
  });

  it('the log NFE axis labels every measured NFE and says it is a log scale', async () => {
    const axes = parseAxes(['sampler.use=ddim,heun', 'sampler.steps=20,500']);
    const row = (use: string, steps: number, nfe: number, w1: number) => ({ status: 'complete', 'sampler.use': use, 'sampler.steps': steps, nfe, w1, w1NoiseFloor: 0.02 });
    const spec = comparisonSpec([row('ddim', 20, 20, 0.3), row('ddim', 500, 500, 0.05), row('heun', 20, 39, 0.2), row('heun', 500, 999, 0.03)], axes);
    const labels = [...(await renderSvg(spec!)).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const nfe of ['20', '39', '500', '999']) expect(labels).toContain(nfe);
    expect(labels).toContain('NFE (model evaluations per sample, log scale)');
  });
});
