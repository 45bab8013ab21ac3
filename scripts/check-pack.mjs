#!/usr/bin/env node
// `pnpm check:pack`: proves every workspace package is publishable and installable on its own,
// the way a user gets it from npm, instead of assuming it from the workspace.
//
//   1. build (turbo; skipped with --skip-build)
//   2. `pnpm -r pack` into a temp dir (pnpm rewrites workspace: ranges), then per tarball:
//      no `workspace:` range left, no tests or sources of other packages packed, publint, attw
//   3. as a user, outside the workspace, with npm (no workspace links):
//      (a) a project with only @diffusionlab/samplers (+ its deps and tfjs peer) type-checks a TS
//          file with moduleResolution NodeNext and real (non-any) types
//      (b) a project with the packed `diffusionlab` CLI runs a tiny config end to end → summary.json
//
// Flags: --skip-build, --skip-user (only pack + lint the tarballs), --keep (leave the temp dir).
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);
const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];
const t0 = Date.now();

/** Runs a command with inherited output; exits on failure (a failed step makes later ones meaningless). */
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`\ncheck:pack: \`${cmd} ${argv.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function step(title) {
  console.log(`\n=== ${title} (${((Date.now() - t0) / 1000).toFixed(0)}s) ===`);
}

function tarList(tgz) {
  return spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

function tarRead(tgz, member) {
  const r = spawnSync('tar', ['-xzOf', tgz, member], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`cannot read ${member} from ${tgz}`);
  return r.stdout;
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

// ---------------------------------------------------------------------------------------------
if (!args.has('--skip-build')) {
  step('build');
  run('pnpm', ['build', '--output-logs=errors-only']);
}

const work = mkdtempSync(join(tmpdir(), 'diffusionlab-pack-'));
const packDir = join(work, 'tarballs');
mkdirSync(packDir);

step(`pack into ${packDir}`);
run('pnpm', ['-r', '--workspace-concurrency=1', 'pack', '--pack-destination', packDir], { stdio: ['ignore', 'ignore', 'inherit'] });

const tarballs = {};
const rows = [];
for (const file of readdirSync(packDir).filter((f) => f.endsWith('.tgz'))) {
  const tgz = join(packDir, file);
  const manifest = JSON.parse(tarRead(tgz, 'package/package.json'));
  // A private package (the playground app) is never published: nothing to check as a user would get it.
  if (manifest.private === true) continue;
  const files = tarList(tgz);
  tarballs[manifest.name] = tgz;
  const unpacked = Number(spawnSync('sh', ['-c', `tar -xzOf '${tgz}' | wc -c`], { encoding: 'utf8' }).stdout.trim());
  rows.push({ name: manifest.name, version: manifest.version, files: files.length, packed: statSync(tgz).size, unpacked });

  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${manifest.name}: ${field}.${dep} is still "${range}" in the tarball`);
    }
  }
  for (const f of files) {
    if (/\.test\.|\.bench\.|__fixtures__|\/src\/.*\.ts$|\/node_modules\//.test(f)) problems.push(`${manifest.name}: packs ${f} (tests, fixtures or sources)`);
  }
  if (!files.includes('package/README.md')) problems.push(`${manifest.name}: no README.md in the tarball`);
  for (const key of ['description', 'license', 'repository', 'engines', 'exports']) {
    if (manifest[key] === undefined) problems.push(`${manifest.name}: package.json has no "${key}"`);
  }
  if (manifest.type !== 'module') problems.push(`${manifest.name}: package.json "type" is not "module"`);
  if (manifest.publishConfig?.access !== 'public') problems.push(`${manifest.name}: publishConfig.access is not "public"`);
}

step('publint + @arethetypeswrong/cli on each tarball');
const { publint } = await import('publint');
const { formatMessage } = await import('publint/utils');
await Promise.all(
  Object.entries(tarballs).map(async ([name, tgz]) => {
    const buf = readFileSync(tgz);
    const { messages, pkg } = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }, level: 'suggestion' });
    for (const m of messages) {
      const text = `${name}: publint ${m.type}: ${formatMessage(m, pkg) ?? m.code}`;
      if (m.type === 'suggestion') console.log(`  (suggestion) ${text}`);
      else problems.push(text);
    }
    // ESM-only packages: node10 and CommonJS-require resolutions are out of scope by design.
    try {
      await execFile(bin('attw'), [tgz, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], { maxBuffer: 16 << 20 });
    } catch (e) {
      problems.push(`${name}: attw failed:\n${(e.stdout || e.message).trim()}`);
    }
  }),
);
console.log(`  checked ${Object.keys(tarballs).length} tarballs`);

// ---------------------------------------------------------------------------------------------
const TFJS = '4.22.0';
function npmInstall(dir, specs) {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'as-a-user', private: true, type: 'module' }, null, 2)}\n`);
  // A .npmrc in the project keeps any workspace/user config (e.g. link-workspace-packages) out.
  writeFileSync(join(dir, '.npmrc'), 'fund=false\naudit=false\nupdate-notifier=false\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], { cwd: dir });
}

if (!args.has('--skip-user')) {
  const need = (name) => tarballs[name] ?? (problems.push(`no tarball for ${name}`), null);

  step('as a user (a): install @diffusionlab/samplers alone and type-check against its packed types');
  const a = join(work, 'user-samplers');
  mkdirSync(a);
  npmInstall(a, [need('@diffusionlab/samplers'), need('@diffusionlab/core'), `@tensorflow/tfjs-core@${TFJS}`]);
  writeFileSync(
    join(a, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files: ['check.ts'],
    }),
  );
  writeFileSync(
    join(a, 'check.ts'),
    `import { plugins } from '@diffusionlab/samplers';
import type { AnyPluginDefinition } from '@diffusionlab/core';

// Real types, not \`any\`: each line below must type-check, and the @ts-expect-error must be needed.
const list: readonly AnyPluginDefinition[] = plugins;
const names: string[] = list.map((p) => p.name);
const ddim = plugins.find((p) => p.name === 'ddim');
// @ts-expect-error a plugin name is a string, not a number
const wrong: number = plugins[0].name;
export { names, ddim, wrong };
`,
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', a], { cwd: a, encoding: 'utf8' });
  if (tsc.status === 0) console.log('  tsc --noEmit (NodeNext, skipLibCheck false): ok');
  else problems.push(`as-a-user (a): tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  const rt = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('@diffusionlab/samplers'); console.log(m.plugins.map((p) => p.name).join(', '))"], {
    cwd: a,
    encoding: 'utf8',
  });
  if (rt.status === 0) console.log(`  node import: ${rt.stdout.trim()}`);
  else problems.push(`as-a-user (a): importing @diffusionlab/samplers at runtime failed:\n${rt.stderr}`);

  step('as a user (b): install the packed diffusionlab CLI and run a tiny config');
  const b = join(work, 'user-cli');
  mkdirSync(b);
  const internal = Object.keys(tarballs).filter((n) => n !== '@diffusionlab/testkit');
  npmInstall(b, [...internal.map(need), `@tensorflow/tfjs-core@${TFJS}`, `@tensorflow/tfjs-backend-cpu@${TFJS}`, `@tensorflow/tfjs-layers@${TFJS}`]);
  writeFileSync(
    join(b, 'tiny.yaml'),
    `name: tiny
seed: 1
backend: cpu
dataset: { use: gaussian-mixture, size: 100, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 2, batchSize: 32, learningRate: 0.001 }
sampler: { use: ddpm }
evaluation: { samples: 100, metrics: [w1] }
reporters: [{ use: summary }]
`,
  );
  const cli = join(b, 'node_modules', '.bin', 'diffusionlab');
  if (!existsSync(cli)) problems.push('as-a-user (b): node_modules/.bin/diffusionlab was not installed');
  else {
    const r = spawnSync(cli, ['run', 'tiny.yaml', '--out', 'run-out'], { cwd: b, encoding: 'utf8', timeout: 180_000 });
    const summary = join(b, 'run-out', 'summary.json');
    if (r.status !== 0 || !existsSync(summary)) {
      problems.push(
        `as-a-user (b): \`diffusionlab run tiny.yaml\` exited ${r.status ?? r.signal}; summary.json ${existsSync(summary) ? 'exists' : 'missing'}\n${r.stdout.slice(-2000)}${r.stderr.slice(-4000)}`,
      );
    } else {
      const s = JSON.parse(readFileSync(summary, 'utf8'));
      console.log(`  diffusionlab run: ok; summary.json keys: ${Object.keys(s).join(', ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
step('packed sizes');
rows.sort((x, y) => x.name.localeCompare(y.name));
const w = Math.max(...rows.map((r) => r.name.length));
for (const r of rows)
  console.log(`  ${r.name.padEnd(w)}  ${r.version}  ${kb(r.packed).padStart(9)} packed  ${kb(r.unpacked).padStart(9)} unpacked  ${String(r.files).padStart(3)} files`);

if (args.has('--keep')) console.log(`\nkept ${work}`);
else rmSync(work, { recursive: true, force: true });

if (problems.length) {
  console.error(`\ncheck:pack: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`\ncheck:pack: ok, ${rows.length} packages (${((Date.now() - t0) / 1000).toFixed(0)}s)`);
