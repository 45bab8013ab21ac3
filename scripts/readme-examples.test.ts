// README examples cannot rot: every `diffusionlab run|validate` command line and every YAML config
// block in the READMEs is validated with the runner's own loader (validate only, nothing trains).
// A renamed option, plugin or config key then fails here instead of in a user's terminal.
//
// - Full configs (with `dataset:` and `schedule:` …) are validated as they are.
// - Fragments (`sampler: { use: ddim }`, a `dataset:` block, a `reporters:` list, …) are merged into
//   examples/seed-1d.yaml at the top level, so a fragment must use real config keys (a bare
//   `metrics:` list fails: metrics live under `evaluation:`).
// - Commented-out alternatives of the form `# key: { use: … }` are validated as fragments too.
// - Command lines with <placeholders> are skipped; `diffusionlab sample` needs a run and is skipped.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadExperiment } from '../apps/runner/src/load.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'readme-examples-'));
const base = YAML.parse(readFileSync(join(root, 'examples/seed-1d.yaml'), 'utf8')) as Record<string, unknown>;

function readmes(): string[] {
  const out = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group))) {
      const f = join(root, group, dir, 'README.md');
      if (existsSync(f)) out.push(f);
    }
  }
  return out;
}

interface Example {
  file: string;
  line: number;
  kind: 'yaml' | 'command';
  text: string;
}

/** YAML fences, commented `# key: { use: … }` alternatives inside them, and CLI command lines. */
function extract(file: string): Example[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Example[] = [];
  let fence: { lang: string; start: number; body: string[] } | null = null;
  lines.forEach((line, i) => {
    const m = /^\s*```(\w*)/.exec(line);
    if (m && !fence) {
      fence = { lang: m[1], start: i + 1, body: [] };
      return;
    }
    if (m && fence) {
      if (fence.lang === 'yaml' || fence.lang === 'yml') {
        found.push({ file, line: fence.start + 1, kind: 'yaml', text: fence.body.join('\n') });
        fence.body.forEach((b, j) => {
          const alt = /^#\s*(\w+:\s*\{\s*use:.*)$/.exec(b.trim());
          if (alt) found.push({ file, line: fence!.start + 2 + j, kind: 'yaml', text: alt[1] });
        });
      }
      fence = null;
      return;
    }
    if (fence) fence.body.push(line);
    // A ```text block shows what the tool prints (a FAILED file, an error), not a command to type.
    if ((fence as { lang: string } | null)?.lang === 'text') return;
    for (const c of line.matchAll(/diffusionlab (run|validate) ([^`\n]*)/g)) {
      if (!c[2].includes('<')) found.push({ file, line: i + 1, kind: 'command', text: `${c[1]} ${c[2].trim()}` });
    }
  });
  return found;
}

/** Merges a fragment into the base example, or returns a full config unchanged. */
function toConfig(doc: Record<string, unknown>): Record<string, unknown> {
  if ('dataset' in doc && 'schedule' in doc && 'denoiser' in doc) return doc;
  return { ...base, ...doc };
}

const examples = readmes().flatMap(extract);

describe('README examples', () => {
  it('finds examples to check', () => {
    expect(examples.filter((e) => e.kind === 'yaml').length).toBeGreaterThan(5);
    expect(examples.filter((e) => e.kind === 'command').length).toBeGreaterThan(1);
  });

  for (const [n, ex] of examples.entries()) {
    const where = `${relative(root, ex.file)}:${ex.line}`;
    it(`${where} ${ex.kind === 'command' ? `diffusionlab ${ex.text}` : ex.text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))}`, async () => {
      if (ex.kind === 'yaml') {
        const doc = YAML.parse(ex.text) as Record<string, unknown>;
        expect(doc && typeof doc === 'object', `${where}: YAML block is not a mapping`).toBe(true);
        const path = join(tmp, `example-${n}.yaml`);
        writeFileSync(path, YAML.stringify(toConfig(doc)));
        await expect(loadExperiment(path, [], root), `${where}`).resolves.toBeDefined();
      } else {
        // run|validate <config> [key=value …] [--out DIR] [--force]
        const tokens = ex.text.split(/\s+/).slice(1);
        const config = tokens[0];
        expect(existsSync(join(root, config)), `${where}: ${config} does not exist`).toBe(true);
        const overrides: string[] = [];
        for (let i = 1; i < tokens.length; i++) {
          if (tokens[i] === '--out') i++;
          else if (!tokens[i].startsWith('--')) overrides.push(tokens[i]);
        }
        await expect(loadExperiment(config, overrides, root), `${where}`).resolves.toBeDefined();
      }
    });
  }

  it('rejects a renamed option (the check can fail)', async () => {
    const path = join(tmp, 'renamed.yaml');
    writeFileSync(path, YAML.stringify(toConfig({ sampler: { use: 'ddim', stepCount: 50 } })));
    await expect(loadExperiment(path, [], root)).rejects.toThrow(/stepCount/);
  });
});
