import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseConfigText, parseOverrides, readConfigFile } from './config.js';
import { encodeTrainState, loadTrainState } from './files.js';
import { loadExperiment } from './load.js';
import { bracketDepth, MAX_CONFIG_BYTES } from './safe-parse.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'dl-safe-'));

const BASE = `name: safe
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
sampler: { use: ddpm }
reporters: [console, summary]
`;

/** `diffusionlab validate` as a real process (TypeScript sources through the test hooks). */
function validate(config: string, ...overrides: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'validate', config, ...overrides], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A YAML file whose 10 levels of aliases expand to 9¹⁰ strings. */
function aliasBomb(): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('config files that would hang, overflow the stack or leak their content', () => {
  it('the CLI refuses a 100 000-deep JSON file and a YAML alias bomb in one line each, with no stack trace', () => {
    const dir = tmp();
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    const bomb = join(dir, 'bomb.yaml');
    writeFileSync(bomb, aliasBomb());
    const a = validate(deep);
    expect(a.code).toBe(2);
    expect(a.out).toMatch(/deep\.json nests lists or mappings more than 64 levels deep/);
    expect(a.out).not.toMatch(/\n\s+at /);
    const b = validate(bomb);
    expect(b.code).toBe(2);
    expect(b.out).toMatch(/bomb\.yaml cannot be expanded: .*alias/);
    expect(b.out).not.toMatch(/\n\s+at /);
  });

  it('refuses deep YAML flow nesting and deep block nesting by the depth limit', () => {
    expect(() => parseConfigText(`a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'deep.yaml')).toThrow(/deep\.yaml nests .* more than 64 levels/);
    let block = '';
    for (let i = 0; i < 70; i++) block += `${' '.repeat(i)}k${i}:\n`;
    block += `${' '.repeat(70)}v: 1\n`;
    expect(() => parseConfigText(`name: x\n${block}`, 'block.yaml')).toThrow(/more than 64 levels/);
    expect(bracketDepth('{"a": "[[[[", "b": [[1]]}')).toBe(3);
  });

  it('refuses `extends` of a device, a FIFO and a directory, and a config over the size limit, before reading them', () => {
    const dir = tmp();
    const cases: [string, RegExp][] = [
      ['/dev/zero', /extends: config file \/dev\/zero is a device/],
      [dir, /is a directory/],
    ];
    const fifo = join(dir, 'fifo.yaml');
    if (spawnSync('mkfifo', [fifo]).status === 0) cases.push([fifo, /is a pipe \(FIFO\)/]);
    else console.log('mkfifo unavailable: FIFO case skipped');
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `name: big\n# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    cases.push([big, /big\.yaml is \d+ bytes, over the 1048576-byte limit/]);
    for (const [target, msg] of cases) {
      const cfg = join(dir, 'c.yaml');
      writeFileSync(cfg, `${BASE}extends: ${target}\n`);
      const t0 = Date.now();
      expect(() => readConfigFile(cfg)).toThrow(msg);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
    expect(() => readConfigFile('/dev/zero')).toThrow(/is a device/);
  });

  it('a file that is not a diffusionlab config is named, never echoed back key by key', () => {
    const dir = tmp();
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$6$s3cr3tHash:19000:0:99999:7:::\ndaemon: "*:19000:0:99999:7:::"\nbin: hunter2\n');
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, `${BASE}extends: ${secret}\n`);
    let message = '';
    try {
      readConfigFile(cfg);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/shadow is not a diffusionlab config/);
    for (const leak of ['s3cr3t', 'hunter2', 'daemon', '19000']) expect(message).not.toContain(leak);
  });
});

describe('keys that reach JavaScript object machinery', () => {
  it('the override __proto__.x=1 is refused and pollutes nothing', () => {
    for (const key of ['__proto__.x', 'training.constructor.prototype.x', 'dataset.__proto__', 'reporters[0].prototype']) {
      expect(() => parseOverrides([`${key}=1`], false)).toThrow(/is not allowed as a key/);
    }
    // applyOverrides itself (the path sweeps and sample use) refuses it too.
    expect(() => applyOverrides({ name: 'x' }, [{ key: '__proto__.polluted', values: [1] }])).toThrow(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('__proto__, constructor and prototype are refused in YAML and JSON config files, at any depth', () => {
    expect(() => parseConfigText('name: x\n__proto__: { polluted: 1 }\n', 'a.yaml')).toThrow(/__proto__ \(in a\.yaml\): "__proto__" is not allowed/);
    expect(() => parseConfigText('{"name": "x", "training": {"__proto__": {"polluted": 1}}}', 'a.json')).toThrow(/training\.__proto__/);
    expect(() => parseConfigText('name: x\ndataset: { use: moons, constructor: 1 }\n', 'b.yaml')).toThrow(/dataset\.constructor/);
    expect(() => parseConfigText('name: x\nreporters: [{ use: html, prototype: 1 }]\n', 'c.yaml')).toThrow(/reporters\[0\]\.prototype/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('override indices', () => {
  it('reporters[99999999].use=html is refused at once, naming the list length; appending at the end still works', async () => {
    const dir = tmp();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, BASE);
    const t0 = Date.now();
    await expect(loadExperiment(cfg, ['reporters[99999999].use=html'])).rejects.toThrow(
      /reporters\[99999999\]\.use: index 99999999 is past the end of the list, which has 2 entries/,
    );
    await expect(loadExperiment(cfg, ['evaluation.metrics[5]=w1'])).rejects.toThrow(/index 5 is past the end/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const ok = await loadExperiment(cfg, ['reporters[2].use=csv', 'reporters[0].use=console']);
    expect(ok.resolved.reporters.map((r) => r.use)).toEqual(['console', 'summary', 'csv']);
  });
});

describe('a corrupt train-state.json', () => {
  it('ends in one message naming the file, not a SyntaxError stack', () => {
    const dir = join(tmp(), 'checkpoint');
    mkdirSync(dir);
    const files = encodeTrainState({
      epoch: 1,
      step: 4,
      rng: { shuffle: [1, 2, 3, 4, null], noise: [5, 6, 7, 8, null] },
      lastFiniteLoss: 0.5,
      lossHistory: [],
      weights: [],
      optimizer: [],
    } as never);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    expect(loadTrainState(dir)?.step).toBe(4);
    writeFileSync(join(dir, 'train-state.json'), '{"epoch": 1, "step": 4, "rng": {');
    expect(() => loadTrainState(dir)).toThrow(/train-state\.json is not a valid training state: not JSON \(/);
  });
});
