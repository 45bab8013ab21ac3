// Fails when a package README's generated options tables differ from the zod schemas in the
// sources, so a renamed option, a new default or a new plugin cannot ship with stale docs.
// Fix a failure with `pnpm build && pnpm docs:options`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from '@diffusionlab/core';
import { plugins as datasets } from '@diffusionlab/datasets';
import { plugins as denoisers } from '@diffusionlab/denoisers';
import { plugins as metrics } from '@diffusionlab/metrics';
import { plugins as reporters } from '@diffusionlab/reporters';
import { plugins as samplers } from '@diffusionlab/samplers';
import { plugins as schedules } from '@diffusionlab/schedules';
import { describe, expect, it } from 'vitest';
import { END, PLUGIN_PACKAGES, renderOptions, START, spliceReadme } from './options-docs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources: Record<string, readonly { kind: string; name: string; description: string; options: unknown }[]> = {
  datasets,
  denoisers,
  metrics,
  reporters,
  samplers,
  schedules,
};

describe('package README options tables', () => {
  it('cover every package that ships config plugins', () => {
    const withPlugins = readdirSync(`${root}packages`).filter((dir) => {
      const index = `${root}packages/${dir}/src/index.ts`;
      return existsSync(index) && /export const plugins\b(?!\s*=\s*\[\]\s*as const)/.test(readFileSync(index, 'utf8'));
    });
    expect([...PLUGIN_PACKAGES].sort()).toEqual(withPlugins.sort());
    expect(Object.keys(sources).sort()).toEqual([...PLUGIN_PACKAGES].sort());
  });

  for (const dir of PLUGIN_PACKAGES) {
    it(`packages/${dir}/README.md matches the schemas`, () => {
      const file = `${root}packages/${dir}/README.md`;
      expect(existsSync(file), `${file} is missing`).toBe(true);
      const readme = readFileSync(file, 'utf8');
      expect(readme.includes(START) && readme.includes(END), `${file} has no ${START} … ${END} markers`).toBe(true);
      const name = JSON.parse(readFileSync(`${root}packages/${dir}/package.json`, 'utf8')).name;
      const fresh = spliceReadme(readme, renderOptions(z, sources[dir], name));
      // Compare the generated sections, so the diff vitest prints is only the stale table.
      const section = (s: string) => s.slice(s.indexOf(START), s.indexOf(END) + END.length);
      expect(section(readme), `stale options tables in ${file}: run \`pnpm build && pnpm docs:options\``).toBe(section(fresh));
    });
  }

  it('renders a renamed or re-defaulted option differently (the check can fail)', () => {
    const before = renderOptions(z, [{ kind: 'sampler', name: 'x', description: 'd', options: z.object({ steps: z.number().default(1).describe('s') }) }], 'p');
    const renamed = renderOptions(z, [{ kind: 'sampler', name: 'x', description: 'd', options: z.object({ nSteps: z.number().default(1).describe('s') }) }], 'p');
    const redefaulted = renderOptions(z, [{ kind: 'sampler', name: 'x', description: 'd', options: z.object({ steps: z.number().default(2).describe('s') }) }], 'p');
    expect(renamed).not.toBe(before);
    expect(redefaulted).not.toBe(before);
    expect(before).toContain('| `steps` | number | `1` |  | s |');
  });
});
