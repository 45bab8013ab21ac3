// TypeScript example configs are type-checked as an editor checks them: `tsc --noEmit` (strict) on
// examples/*.config.ts through examples/tsconfig.json, where `import { defineExperiment } from
// 'diffusionlab'` resolves through the root devDependency (a workspace link to apps/runner, types
// from its dist, so run `pnpm build` first). A user's project with the runner installed resolves it
// through the package's `exports` → `types`. Each example must also load with the runner itself.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../apps/runner/src/load.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const run = (args: string[], cwd = root) => {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.config.ts'));
const tmp = mkdtempSync(join(tmpdir(), 'dl-example-configs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GOOD = `import { defineExperiment } from 'diffusionlab';
export default defineExperiment({
  name: 'user',
  dataset: { use: 'moons', size: 64 },
  schedule: { use: 'cosine', timesteps: 50 },
  denoiser: { use: 'mlp' },
  sampler: { use: 'ddim', steps: 10 },
  training: { epochs: 1, predictionType: 'v' },
});
`;

describe('TypeScript example configs', () => {
  it('there is at least one', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it('type-check strictly with tsc --noEmit -p examples', () => {
    const r = run(['--noEmit', '-p', 'examples']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  for (const f of examples) {
    it(`${f} loads and validates with the runner`, async () => {
      await expect(loadExperiment(join(root, 'examples', f), [], root)).resolves.toBeDefined();
    });
  }

  it("type-check in a user's project with the runner installed, and a type error fails", () => {
    // A project outside the repo whose node_modules holds the runner, as `npm install diffusionlab` leaves it.
    const project = join(tmp, 'user');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(join(root, 'apps/runner'), join(project, 'node_modules/diffusionlab'), 'dir');
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(project, 'good.config.ts'), GOOD);
    writeFileSync(join(project, 'bad.config.ts'), GOOD.replace("predictionType: 'v'", "predictionType: 'q'"));
    const opts = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
    const r = run([...opts, 'good.config.ts', 'bad.config.ts'], project);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/bad\.config\.ts\(\d+,\d+\): error TS2322: Type '"q"' is not assignable/);
    expect(r.out).not.toMatch(/good\.config\.ts/);
  });
});
