import { describe, expect, it } from 'vitest';
import { main, parseArgs } from './cli.js';

/** Runs main with stdout captured. */
async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((c: string) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(argv), out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

describe('diffusionlab CLI', () => {
  it('prints usage listing every command; bare invocation exits non-zero', async () => {
    const bare = await capture([]);
    expect(bare.code).toBe(1);
    for (const cmd of ['run', 'sample', 'sweep', 'validate', 'list']) expect(bare.out).toContain(`diffusionlab ${cmd}`);
    expect((await capture(['--help'])).code).toBe(0);
    expect((await capture(['help', 'sweep'])).out).toMatch(/^diffusionlab sweep <config>/);
  });

  for (const cmd of ['run', 'sample', 'sweep', 'validate', 'list']) {
    it(`${cmd} --help explains the command with examples and exits 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const { code, out } = await capture([cmd, flag]);
        expect(code).toBe(0);
        expect(out.startsWith(`diffusionlab ${cmd}`)).toBe(true);
        expect(out).toMatch(/Examples?:\n {2}diffusionlab /);
      }
    });
  }

  it('refuses an unknown command, unknown options, stray arguments and a flag missing its value', async () => {
    await expect(main(['trian', 'x.yaml'])).rejects.toThrow(/unknown command "trian"/);
    await expect(main(['trian', '--help'])).rejects.toThrow(/unknown command "trian"/);
    await expect(main(['run', 'x.yaml', '--jobs', '2'])).rejects.toThrow(/unknown option --jobs for `run`/);
    await expect(main(['validate', 'a.yaml', 'b.yaml'])).rejects.toThrow(/unexpected argument "b\.yaml" after a\.yaml/);
    await expect(main(['sweep'])).rejects.toThrow(/sweep needs a config file/);
    expect(() => parseArgs(['sweep', 'x.yaml', '--jobs'])).toThrow(/--jobs needs a value/);
    expect(parseArgs(['sweep', 'x.yaml', 'a=1,2', '--jobs=3', '--force'])).toEqual({
      command: 'sweep',
      positionals: ['x.yaml'],
      overrides: ['a=1,2'],
      flags: { jobs: '3', force: true },
    });
  });
});

/**
 * Issue 3's "Bad input" list, end to end through `main` on the shipped oracle example: each mistake
 * is exactly one error that names its key (names also list the valid choices), raised before a run
 * directory exists. Plugins come from the runner's registry, so a new sampler or schedule is covered too.
 */
describe('bad input on the command line (issue 3)', () => {
  type Issue = { path: string; message: string };
  const setup = async () => {
    const { existsSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const { builtinRegistry } = await import('./plugins.js');
    const example = fileURLToPath(new URL('../../../examples/oracle-samplers.yaml', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'dl-cli-bad-'));
    const registry = builtinRegistry();
    // biome-ignore lint/suspicious/noExplicitAny: option schemas of any plugin.
    const optionKeys = (kind: 'sampler' | 'schedule', name: string) => Object.keys((registry.get(kind, name).options as any).shape ?? {});
    /** Runs the CLI; expects one config issue at `key` whose text matches `pattern`, and no run directory. */
    const oneIssue = async (argv: string[], key: string, pattern: RegExp) => {
      const out = join(dir, `run-${argv.length}-${Math.random().toString(36).slice(2)}`);
      const withOut = argv[0] === 'validate' ? argv : [...argv, '--out', out];
      const err = (await main(withOut).then(
        () => null,
        (e: unknown) => e,
      )) as { issues?: Issue[]; message: string } | null;
      expect(err, `${argv.join(' ')} should fail`).not.toBeNull();
      expect(
        err?.issues?.map((i) => i.path),
        err?.message,
      ).toEqual([key]);
      expect(err?.message).toMatch(pattern);
      expect(existsSync(out), `${argv.join(' ')} left ${out} behind`).toBe(false);
    };
    return { example, dir, registry, optionKeys, oneIssue, join };
  };

  it('unknown sampler and schedule names list the valid ones (run, validate, sample)', async () => {
    const { example, dir, registry, oneIssue, join } = await setup();
    const samplers = registry.names('sampler').join(', ');
    const schedules = registry.names('schedule').join(', ');
    for (const cmd of ['run', 'validate']) {
      await oneIssue([cmd, example, 'sampler.use=nope'], 'sampler.use', new RegExp(`unknown sampler "nope" \\(valid: ${samplers}\\)`));
      await oneIssue([cmd, example, 'schedule.use=cosin'], 'schedule.use', new RegExp(`unknown schedule "cosin"; did you mean "cosine"\\? \\(valid: ${schedules}\\)`));
    }
    // `sample` reuses a run: the oracle trains nothing, so this run takes a moment.
    const runDir = join(dir, 'oracle-run');
    const quiet = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await main(['run', example, 'evaluation.samples=64', 'evaluation.metrics=[w1]', 'reporters=[summary]', '--out', runDir])).toBe(0);
    } finally {
      process.stdout.write = quiet;
    }
    await oneIssue(['sample', runDir, 'sampler.use=nope'], 'sampler.use', new RegExp(`\\(valid: ${samplers}\\)`));
    await oneIssue(['sample', runDir, 'sampler.steps=1001'], 'sampler.steps', /1001 sampling steps exceed the schedule's 1000 training timesteps/);
  });

  it('steps larger than T, zero, negative or fractional: one error at sampler.steps, for every sampler', async () => {
    const { example, registry, oneIssue } = await setup();
    const { samplerObjectives } = await import('@diffusionlab/core');
    const ctx = { seed: 0, print: () => {}, interactive: false };
    for (const name of registry.names('sampler')) {
      const def = registry.get('sampler', name);
      if (!samplerObjectives(await def.create(def.options.parse({}), ctx)).includes('ddpm')) {
        // Flow samplers run on continuous t ∈ [0, 1]: any positive integer count, however large T.
        for (const bad of ['0', '-5', '2.5']) {
          await oneIssue(['run', example, 'training.objective=flow', `sampler.use=${name}`, `sampler.steps=${bad}`], 'sampler.steps', /positive integer/);
        }
        await expect(main(['validate', example, 'training.objective=flow', `sampler.use=${name}`, 'sampler.steps=1001'])).resolves.not.toThrow();
        continue;
      }
      await oneIssue(['run', example, `sampler.use=${name}`, 'sampler.steps=1001'], 'sampler.steps', /1001 sampling steps exceed the schedule's 1000 training timesteps/);
      await oneIssue(['run', example, `sampler.use=${name}`, 'schedule.timesteps=50', 'sampler.steps=51'], 'sampler.steps', /51 sampling steps exceed the schedule's 50/);
      for (const bad of ['0', '-5', '2.5']) await oneIssue(['run', example, `sampler.use=${name}`, `sampler.steps=${bad}`], 'sampler.steps', /positive integer/);
    }
  });

  it('eta outside [0, 1]: one error at sampler.eta, for every sampler that takes eta', async () => {
    const { example, registry, optionKeys, oneIssue } = await setup();
    const withEta = registry.names('sampler').filter((n) => optionKeys('sampler', n).includes('eta'));
    expect(withEta).toEqual(expect.arrayContaining(['ddim', 'euler-ancestral', 'dpmpp-2m-sde']));
    for (const name of withEta) {
      for (const bad of ['-0.1', '1.5']) {
        for (const cmd of ['run', 'validate']) await oneIssue([cmd, example, `sampler.use=${name}`, `sampler.eta=${bad}`], 'sampler.eta', /\[0, 1\]/);
      }
    }
  });

  it('β outside (0, 1): one error naming the β key, for every schedule', async () => {
    const { example, registry, optionKeys, oneIssue } = await setup();
    let checked = 0;
    for (const name of registry.names('schedule')) {
      const keys = optionKeys('schedule', name);
      for (const key of ['betaStart', 'betaEnd'].filter((k) => keys.includes(k))) {
        for (const bad of ['0', '1', '1.5', '-0.001']) {
          await oneIssue(['run', example, `schedule.use=${name}`, `schedule.${key}=${bad}`], `schedule.${key}`, /must lie in \(0, 1\)/);
          checked++;
        }
      }
      if (keys.includes('maxBeta')) {
        for (const bad of ['0', '1.5']) await oneIssue(['validate', example, `schedule.use=${name}`, `schedule.maxBeta=${bad}`], 'schedule.maxBeta', /must lie in \(0, 1\]/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(registry.names('schedule').length);
  });
});
