import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { resolvedConfigObject } from './config.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { trialIdOf } from './trial.js';
import { cartesian, comparisonSpec, parseAxes, planSweep, pointName, runSweep, toCsv } from './sweep.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-sweep-'));
const here = fileURLToPath(new URL('.', import.meta.url));

const SMALL = `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 4, batchSize: 16, learningRate: 0.001, predictionType: epsilon, logEvery: 2 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1, modes] }
reporters: [{ use: console }, { use: summary }]
`;

function writeConfig(dir: string): string {
  const p = join(dir, 'small.yaml');
  writeFileSync(p, SMALL);
  return p;
}

describe('sweep planning', () => {
  it('expands axes into the cartesian product, first axis slowest, with safe folder names', () => {
    const axes = parseAxes(['sampler.use=ddpm,ddim', 'sampler.steps=5,10,20', 'seed=1']);
    expect(axes).toEqual([
      { key: 'sampler.use', values: ['ddpm', 'ddim'] },
      { key: 'sampler.steps', values: ['5', '10', '20'] },
      { key: 'seed', values: ['1'] },
    ]);
    const combos = cartesian(axes);
    expect(combos).toHaveLength(6);
    expect(combos[0]).toEqual(['ddpm', '5', '1']);
    expect(combos[1]).toEqual(['ddpm', '10', '1']);
    expect(combos[5]).toEqual(['ddim', '20', '1']);
    expect(pointName(axes, combos[4])).toBe('sampler.use-ddim_sampler.steps-10');
    expect(pointName([{ key: 'dataset.path', values: ['../x/y', 'b'] }], ['../x/y'])).toBe('dataset.path-__x_y');
  });

  it('refuses a key given twice and malformed axes', () => {
    expect(() => parseAxes(['seed=1,2', 'seed=3'])).toThrow(/seed: given twice/);
    expect(() => parseAxes(['seed'])).toThrow(/expected key=value/);
  });

  it('groups points by model: sampler and evaluation changes share a training, seed and training changes do not', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    // ddim's default 100 steps exceed this schedule's T = 20 (refused up front, see below): both samplers take 10.
    const plan = await planSweep(cfg, ['sampler.use=ddpm,ddim', 'sampler.steps=10', 'evaluation.samples=16,32', 'training.epochs=2,3'], join(dir, 's'), dir);
    expect(plan.points).toHaveLength(8);
    const trainers = [...new Set(plan.points.map((p) => p.trainer))];
    expect(trainers).toHaveLength(2);
    for (const p of plan.points) expect(plan.points[p.trainer].values['training.epochs']).toBe(p.values['training.epochs']);
    const seeds = await planSweep(cfg, ['seed=1,2'], join(dir, 's2'), dir);
    expect(seeds.points.map((p) => p.trainer)).toEqual([0, 1]);
  });

  it('validates every point before any work, naming the point and key', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    await expect(runSweep(cfg, ['sampler.steps=5,abc'], { out, print: () => {} })).rejects.toThrow(/sweep point sampler\.steps=abc:[\s\S]*sampler\.steps/);
    await expect(runSweep(cfg, ['sampler.use=ddpm,nope'], { out, print: () => {} })).rejects.toThrow(/sampler\.use: unknown sampler "nope"/);
    // A sampler's default step count above T is refused before any training, not when that point samples.
    await expect(runSweep(cfg, ['sampler.use=ddpm,ddim'], { out, print: () => {} })).rejects.toThrow(
      /sampler\.steps: 100 sampling steps exceed the schedule's 20 training timesteps \(sweep point sampler\.use=ddim/,
    );
    await expect(runSweep(cfg, [], { out, print: () => {} })).rejects.toThrow(/at least one axis/);
    await expect(runSweep(cfg, ['sampler.steps=5,50'], { out, print: () => {} })).rejects.toThrow(
      /sampler\.steps: 50 sampling steps exceed the schedule's 20 training timesteps \(sweep point sampler\.steps=50\)/,
    );
    await expect(main(['sweep', cfg, 'seed=1,2', '--jobs', '0'])).rejects.toThrow(/--jobs must be a positive integer/);
    expect(existsSync(out)).toBe(false);
  });

  it('CSV quotes cells that need it and takes the union of columns', () => {
    expect(
      toCsv([
        { a: 1, b: 'x,y' },
        { a: 2, c: 'say "hi"' },
      ]),
    ).toBe('a,b,c\n1,"x,y",\n2,,"say ""hi"""\n');
  });

  it('the comparison figure plots metrics against NFE when steps vary, else against the swept key', () => {
    const axes = parseAxes(['sampler.use=ddpm,ddim', 'sampler.steps=5,10']);
    const rows = [
      { status: 'complete', 'sampler.use': 'ddpm', 'sampler.steps': 5, nfe: 5, w1: 1, w1NoiseFloor: 0.1 },
      { status: 'complete', 'sampler.use': 'ddpm', 'sampler.steps': 10, nfe: 10, w1: 0.5, w1NoiseFloor: 0.1 },
    ];
    const spec = comparisonSpec(rows, axes) as unknown as { data: { values: Record<string, unknown>[] }; spec: { layer: { encoding: { x: { title: string } } }[] } };
    expect(spec.data.values).toEqual([
      { metric: 'w1', x: 5, value: 1, floor: 0.1, series: 'sampler.use=ddpm' },
      { metric: 'w1', x: 10, value: 0.5, floor: 0.1, series: 'sampler.use=ddpm' },
    ]);
    expect(spec.spec.layer[0].encoding.x.title).toMatch(/NFE/);
    const byKey = comparisonSpec(
      [
        { status: 'complete', seed: 1, nfe: 5, w1: 1 },
        { status: 'complete', seed: 2, nfe: 5, w1: 2 },
      ],
      parseAxes(['seed=1,2']),
    ) as unknown as typeof spec;
    expect(byKey.spec.layer[0].encoding.x.title).toBe('seed');
    expect(byKey.data.values.map((v) => v.x)).toEqual(['1', '2']);
  });
});

describe('diffusionlab sweep (small end-to-end)', () => {
  it('trains once for a sampler × steps sweep, samples the rest, and writes the comparison', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    const lines: string[] = [];
    const res = await runSweep(cfg, ['sampler.use=ddpm,ddim', 'sampler.steps=5,10'], { out, print: (l) => lines.push(l) });
    expect(res.trainings).toBe(1);
    expect(res.failed).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      '.diffusionlab',
      'report.html',
      'sampler.use-ddim_sampler.steps-10',
      'sampler.use-ddim_sampler.steps-5',
      'sampler.use-ddpm_sampler.steps-10',
      'sampler.use-ddpm_sampler.steps-5',
      'sweep.csv',
      'sweep.json',
      'sweep.png',
      'trials.json',
    ]);
    // The sweep's manifest lists everything it wrote (what --force may replace).
    const manifest = JSON.parse(readFileSync(join(out, '.diffusionlab', 'manifest.json'), 'utf8'));
    expect(manifest.entries).toEqual(
      readdirSync(out)
        .filter((e) => e !== '.diffusionlab')
        .sort(),
    );
    const trainer = join(out, 'sampler.use-ddpm_sampler.steps-5');
    expect(existsSync(join(trainer, 'checkpoint', 'model.json'))).toBe(true);
    expect(existsSync(join(out, 'sampler.use-ddim_sampler.steps-10', 'checkpoint'))).toBe(false);
    const shared = JSON.parse(readFileSync(join(out, 'sampler.use-ddim_sampler.steps-10', 'summary.json'), 'utf8'));
    expect(shared.source).toBe(trainer);

    const json = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(json.trainings).toBe(1);
    expect(json.points.map((p: Record<string, unknown>) => [p['sampler.use'], p['sampler.steps'], p.nfe, p.trained])).toEqual([
      ['ddpm', 5, 5, true],
      ['ddpm', 10, 10, false],
      ['ddim', 5, 5, false],
      ['ddim', 10, 10, false],
    ]);
    const trainSeconds = json.points[0].trainingSeconds;
    expect(trainSeconds).toBeGreaterThan(0);
    for (const p of json.points) {
      expect(p.w1).toBeGreaterThan(0);
      expect(p.w1NoiseFloor).toBeGreaterThan(0);
      expect(typeof p.modes).toBe('number');
      expect(p.trainingSeconds).toBe(trainSeconds);
      expect(p.model).toBe('sampler.use-ddpm_sampler.steps-5');
    }
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0].split(',')).toEqual(expect.arrayContaining(['sampler.use', 'sampler.steps', 'nfe', 'w1', 'w1NoiseFloor', 'trainingSeconds']));
    const png = readFileSync(join(out, 'sweep.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data:image/png;base64,');
    expect(html).toContain('sampler.use-ddim_sampler.steps-10');
    // The printed table: a header, a rule and one line per point.
    const head = lines.findIndex((l) => l.startsWith('sampler.use'));
    expect(lines[head]).toMatch(/sampler\.use\s+sampler\.steps\s+NFE\s+w1 \(floor\)/);
    expect(lines.slice(head + 2, head + 6).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['ddpm', '5', '5'],
      ['ddpm', '10', '10'],
      ['ddim', '5', '5'],
      ['ddim', '10', '10'],
    ]);

    // A shared-model point gives the same numbers as a full run of that point (training is deterministic).
    const loaded = await loadExperiment(cfg, ['sampler.use=ddim', 'sampler.steps=10']);
    const full = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'full'), print: () => {} });
    expect(shared.metrics).toEqual(full.summary.metrics);

    // The same --out again is refused unless --force.
    await expect(runSweep(cfg, ['sampler.steps=5,10'], { out, print: () => {} })).rejects.toThrow(/already holds a sweep/);
  });

  it('--jobs 2 trains distinct models in parallel worker processes', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    mkdirSync(out);
    const lines: string[] = [];
    const res = await runSweep(cfg, ['seed=1,2', 'evaluation.samples=16,32'], {
      out,
      jobs: 2,
      print: (l) => lines.push(l),
      // Trial processes run from source through a test-only TypeScript loader (no build needed).
      worker: { script: join(here, 'trial-child.ts'), execArgv: ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs')] },
    });
    expect(res.failed).toBe(0);
    expect(res.trainings).toBe(2);
    const env1 = JSON.parse(readFileSync(join(out, 'seed-1_evaluation.samples-16', 'env.json'), 'utf8'));
    const env2 = JSON.parse(readFileSync(join(out, 'seed-2_evaluation.samples-16', 'env.json'), 'utf8'));
    expect(env1.command[0]).toBe('run');
    expect(env1.seed).toBe(1);
    expect(env2.seed).toBe(2);
    // Worker output is prefixed by point; each training's logs came from the child process.
    expect(lines.some((l) => l.startsWith('[seed-2_evaluation.samples-16] Epoch 4/4'))).toBe(true);
    const rows = res.rows.map((r) => [r.seed, r['evaluation.samples'], r.trained]);
    expect(rows).toEqual([
      [1, 16, true],
      [1, 32, false],
      [2, 16, true],
      [2, 32, false],
    ]);
  });

  it('re-running the same sweep skips its complete trials; a half-finished one runs only the rest', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    const first = await runSweep(cfg, ['seed=1,2', 'sampler.steps=5,10'], { out, print: () => {} });
    expect(first.ran).toBe(4);
    const csv1 = readFileSync(join(out, 'sweep.csv'), 'utf8');
    const lines: string[] = [];
    const again = await runSweep(cfg, ['seed=1,2', 'sampler.steps=5,10'], { out, print: (l) => lines.push(l) });
    expect(again.ran).toBe(0);
    expect(lines).toContain('sweep: resuming: 4 of 4 trial(s) complete already; running the other 0');
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(csv1);
    // Forget one sampling trial and one training (as if the sweep had been killed before them).
    const record = JSON.parse(readFileSync(join(out, 'trials.json'), 'utf8'));
    const byName = Object.fromEntries(Object.entries(record.trials as Record<string, { name: string }>).map(([id, t]) => [t.name, id]));
    delete record.trials[byName['seed-2_sampler.steps-5']];
    delete record.trials[byName['seed-2_sampler.steps-10']];
    writeFileSync(join(out, 'trials.json'), JSON.stringify(record));
    const rest = await runSweep(cfg, ['seed=1,2', 'sampler.steps=5,10'], { out, print: () => {} });
    expect(rest.ran).toBe(2);
    // Training and sampling are deterministic: the re-run points give the same numbers.
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ trainingSeconds: _t, samplingSeconds: _s, ...r }) => r);
    expect(strip(rest.rows)).toEqual(strip(first.rows));
    // A trial's id is the hash of its point's resolved config, however the point was reached.
    const direct = await loadExperiment(cfg, ['sampler.steps=5', 'seed=1']);
    expect(byName['seed-1_sampler.steps-5']).toBe(trialIdOf(resolvedConfigObject(direct.resolved)));
    expect(byName['seed-2_sampler.steps-5']).not.toBe(byName['seed-1_sampler.steps-5']);
    expect(JSON.parse(readFileSync(join(out, 'trials.json'), 'utf8')).planned).toHaveLength(4);
  });

  it('a trial that always fails is recorded with its error after the configured attempts, and the rest complete', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    // A learning rate of 1e6 diverges: the run stops on a non-finite loss, every time.
    const lines: string[] = [];
    const res = await runSweep(cfg, ['training.learningRate=0.001,1000000'], { out, launcherOptions: { jobs: 1, attempts: 2 }, print: (l) => lines.push(l) });
    expect(res.failed).toBe(1);
    const bad = res.rows.find((r) => r['training.learningRate'] === 1000000) as Record<string, unknown>;
    expect(bad.status).toBe('failed');
    expect(bad.attempts).toBe(2);
    expect(String(bad.error)).toMatch(/loss|NaN|finite|diverg/i);
    expect(lines.filter((l) => /failed \(attempt \d of 2\)/.test(l))).toHaveLength(2);
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8');
    expect(csv).toContain('failed');
    expect(res.rows.find((r) => r['training.learningRate'] === 0.001)?.status).toBe('complete');
  });

  it('an unknown launcher or launcher option is a clear error naming the flag', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    await expect(runSweep(cfg, ['seed=1,2'], { out: join(dir, 's'), launcher: 'nope-launcher', print: () => {} })).rejects.toThrow(/--launcher: unknown launcher "nope-launcher"/);
    await expect(runSweep(cfg, ['seed=1,2'], { out: join(dir, 's'), launcherOptions: { redis: 'redis://x' }, print: () => {} })).rejects.toThrow(
      /--redis: is not an option of the local launcher/,
    );
    expect(existsSync(join(dir, 's'))).toBe(false);
  });

  it('random search draws reproducible points, runs each once, and plots each metric against each swept key', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const out = join(dir, 'sweep');
    const args = ['training.learningRate=loguniform(1e-4,1e-2)', 'sampler.use=choice(ddpm,ddim)', 'sampler.steps=10'];
    const res = await runSweep(cfg, args, { out, trials: 3, searchSeed: 5, print: () => {} });
    expect(res.rows).toHaveLength(3);
    expect(res.failed).toBe(0);
    const lrs = res.rows.map((r) => r['training.learningRate'] as number);
    for (const lr of lrs) expect(lr >= 1e-4 && lr <= 1e-2).toBe(true);
    expect(new Set(lrs).size).toBe(3);
    for (const r of res.rows) expect(['ddpm', 'ddim']).toContain(r['sampler.use']);
    // The run's config holds the value drawn, exactly as the row shows it.
    const point = join(out, res.rows[0].point as string);
    expect(readFileSync(join(point, 'config.yaml'), 'utf8')).toContain(`learningRate: ${lrs[0]}`);
    expect(readFileSync(join(out, 'sweep.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('training.learningRate = loguniform(0.0001, 0.01)');
    expect(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')).search).toEqual({ trials: 3, seed: 5 });
    // The same command draws the same points, so it resumes (nothing to run).
    const again = await runSweep(cfg, args, { out, trials: 3, searchSeed: 5, print: () => {} });
    expect(again.ran).toBe(0);
    expect(again.rows.map((r) => r['training.learningRate'])).toEqual(lrs);
    await expect(main(['sweep', cfg, 'training.learningRate=loguniform(1e-4,1e-2)', '--out', join(dir, 'x')])).rejects.toThrow(/say how many points to draw with --trials N/);
  });
});
