// Proves that `pnpm api:check` catches a public API change: the checker runs against a temp copy of one package whose
// checked-in report is altered, must fail naming the package, the report and `pnpm api:update`, must leave the
// report alone, and `--update` must restore the report byte for byte. Needs the packages built (`pnpm build`).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = join(root, 'scripts/api-report.mjs');
const pkg = 'packages/schedules'; // the smallest API: keeps each run to a couple of seconds
const report = `${pkg}/etc/schedules.api.md`;

let temp: string;
let original: string;

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [script, '--root', temp, ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  const dist = join(root, pkg, 'dist/index.d.ts');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` before this test`);
  temp = mkdtempSync(join(tmpdir(), 'api-report-test-'));
  mkdirSync(join(temp, pkg), { recursive: true });
  // Same package, same declarations and dependencies; only the report is the temp copy's own.
  for (const link of ['dist', 'node_modules']) symlinkSync(join(root, pkg, link), join(temp, pkg, link));
  symlinkSync(join(root, 'node_modules'), join(temp, 'node_modules'));
  cpSync(join(root, pkg, 'package.json'), join(temp, pkg, 'package.json'));
  cpSync(join(root, pkg, 'etc'), join(temp, pkg, 'etc'), { recursive: true });
  original = readFileSync(join(temp, report), 'utf8');
});

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe('api:check', () => {
  it('passes when the report matches the built declarations', () => {
    const r = check();
    expect(r.out).toContain('api: all 1 public API reports are up to date');
    expect(r.status).toBe(0);
  });

  it('fails on a changed API, naming the package, the report and the fix, and leaves the report alone', () => {
    const line = 'export function cosineBetas(timesteps: number, s: number, maxBeta: number): Float64Array;';
    expect(original).toContain(line);
    const altered = original.replace(line, 'export function cosineBetas(timesteps: number, s: number): Float64Array;');
    writeFileSync(join(temp, report), altered);

    const r = check();
    expect(r.status).toBe(1);
    expect(r.out).toContain(`api: @diffusionlab/schedules (${pkg}): the public API differs from ${report}`);
    expect(r.out).toContain('run `pnpm api:update`');
    // The diff shows the pinned line (-) and the current one (+).
    expect(r.out).toMatch(/^\s*\d+ -export function cosineBetas\(timesteps: number, s: number\): Float64Array;$/m);
    expect(r.out).toMatch(/^\s*\d+ \+export function cosineBetas\(timesteps: number, s: number, maxBeta: number\)/m);
    expect(readFileSync(join(temp, report), 'utf8')).toBe(altered);

    const u = check('--update');
    expect(u.out).toContain(`api: @diffusionlab/schedules: wrote ${report}`);
    expect(u.status).toBe(0);
    expect(readFileSync(join(temp, report), 'utf8')).toBe(original);
  });

  it('fails when a package has no report yet', () => {
    rmSync(join(temp, report));
    const r = check();
    expect(r.status).toBe(1);
    expect(r.out).toContain(`has no report (${report} is missing)`);
    expect(r.out).toContain('Run `pnpm api:update`');
  });
});
