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
