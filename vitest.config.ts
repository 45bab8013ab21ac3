import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so `pnpm test` needs no build step.
const root = fileURLToPath(new URL('.', import.meta.url));
const alias = readdirSync(`${root}packages`).map((dir) => ({
  find: new RegExp(`^@diffusionlab/${dir}$`),
  replacement: `${root}packages/${dir}/src/index.ts`,
}));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
