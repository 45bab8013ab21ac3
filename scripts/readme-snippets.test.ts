// Every TypeScript snippet in the READMEs type-checks under strict tsc, so a reader who copies one
// gets code that compiles. Each ```ts / ```typescript block of README.md, packages/*/README.md and
// apps/*/README.md is written as its own module into a folder inside the repository (under the
// runner's node_modules, so tfjs and @types/node resolve as they do for an application), with
// `paths` pointing the diffusionlab packages at their built declarations (what a user's editor
// sees; `pnpm build` first, as CI does), and one `tsc --noEmit --strict` run checks them all.
// Errors name the README and block.
//
// A block that is deliberately partial is fenced ```ts no-check (say why next to it); keep them rare.
// Names a snippet uses without defining (a trained `model`, a `sampleEvent`) are declared in the
// snippet itself with `declare const model: DenoiserModel;`, so readers see their types too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A fenced TypeScript block: where it is (README and line of the fence) and its code. */
interface Snippet {
  readme: string;
  line: number;
  index: number;
  code: string;
  check: boolean;
}

function readmes(): string[] {
  const out = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group)).sort()) {
      const f = join(root, group, dir, 'README.md');
      if (existsSync(f)) out.push(f);
    }
  }
  return out;
}

/** The ```ts / ```typescript blocks of one README, with their info strings' `no-check` flag. */
function extract(file: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Snippet[] = [];
  let open: { lang: string; flags: string; line: number; body: string[] } | null = null;
  lines.forEach((text, i) => {
    const fence = /^\s*```(\S*)\s*(.*)$/.exec(text);
    if (fence && !open) open = { lang: fence[1], flags: fence[2], line: i + 1, body: [] };
    else if (fence && open) {
      if (open.lang === 'ts' || open.lang === 'typescript') {
        found.push({ readme: relative(root, file), line: open.line, index: found.length + 1, code: open.body.join('\n'), check: !/\bno-check\b/.test(open.flags) });
      }
      open = null;
    } else if (open) open.body.push(text);
  });
  return found;
}

const snippets = readmes().flatMap(extract);
const checked = snippets.filter((s) => s.check);
const dir = join(root, 'apps/runner/node_modules/.cache/readme-snippets');

/** File name of a snippet: README path and block number, so tsc's errors name both. */
const fileOf = (s: Snippet) => `${s.readme.replace(/\/?README\.md$/, '').replace(/\//g, '_') || 'root'}.block${s.index}.ts`;

function writeProject(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths: Record<string, string[]> = { diffusionlab: [join(root, 'apps/runner/dist/index.d.ts')] };
  for (const pkg of readdirSync(join(root, 'packages'))) paths[`@diffusionlab/${pkg}`] = [join(root, 'packages', pkg, 'dist/index.d.ts')];
  const missing = Object.values(paths)
    .flat()
    .filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`Build the packages first (pnpm build): missing ${missing.map((f) => relative(root, f)).join(', ')}`);
  // Each block is a module of its own (top-level await, no clashes between blocks).
  for (const s of checked) writeFileSync(join(dir, fileOf(s)), `${s.code}\nexport {};\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          isolatedModules: true,
          types: ['node'],
          paths,
        },
        files: checked.map(fileOf),
      },
      null,
      2,
    ),
  );
}

describe('README TypeScript snippets', () => {
  it('finds the snippets, and marks few as no-check', () => {
    expect(checked.length).toBeGreaterThanOrEqual(12);
    expect(snippets.length - checked.length).toBeLessThanOrEqual(2);
  });

  it('type-check with strict tsc', () => {
    writeProject();
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      output = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    }
    // `x.block2.ts(3,7): error TS…` → `packages/x/README.md, block 2 (README line N): error TS…`.
    const byFile = new Map(checked.map((s) => [fileOf(s), s]));
    const errors = output
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = /^(?:.*[\\/])?([^\\/(]+\.block\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
        const s = m ? byFile.get(m[1]) : undefined;
        return s && m ? `${s.readme}, block ${s.index} (README line ${s.line + Number(m[2])}): ${m[4]}` : l;
      });
    expect(errors, 'README snippets that do not type-check').toEqual([]);
  });
});
