import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigError, isConfigError } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { resolvedConfigObject } from './config.js';
import { droppedMessage } from './inherit.js';
import { loadExperiment } from './load.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-inherit-'));

/** The seed example's slots (T = 100 linear), tiny elsewhere. */
const BASE = `
name: base
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 100, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
sampler: { use: euler, sigmas: karras, steps: 10 }
`;

function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const scheduleOf = async (cfg: string, overrides: string[] = []) => {
  const { resolved } = await loadExperiment(cfg, overrides);
  return { slot: resolvedConfigObject(resolved).schedule as Record<string, unknown>, dropped: (resolved.droppedOptions ?? []).map(droppedMessage) };
};

describe('switching a plugin keeps what still applies', () => {
  it('an override schedule.use=cosine keeps timesteps (T stays 100), drops the linear-only options at their defaults silently', async () => {
    const cfg = write(tmp(), 'base.yaml', BASE);
    const { slot, dropped } = await scheduleOf(cfg, ['schedule.use=cosine']);
    expect(slot.use).toBe('cosine');
    expect(slot.timesteps).toBe(100);
    expect(slot).not.toHaveProperty('betaStart');
    expect(dropped).toEqual([]);
  });

  it('a non-default option the new plugin does not accept is dropped and named', async () => {
    const cfg = write(tmp(), 'base.yaml', BASE.replace('betaEnd: 0.02', 'betaEnd: 0.03'));
    const { slot, dropped } = await scheduleOf(cfg, ['schedule.use=cosine']);
    expect(slot.timesteps).toBe(100);
    expect(dropped).toEqual(['schedule.betaEnd = 0.03 (set for linear) was dropped: schedule.use = cosine does not accept it']);
    // sigmoid accepts betaStart/betaEnd with the same meaning: all kept.
    const sig = await scheduleOf(cfg, ['schedule.use=sigmoid']);
    expect(sig.slot).toMatchObject({ use: 'sigmoid', timesteps: 100, betaEnd: 0.03 });
    expect(sig.dropped).toEqual([]);
  });

  it('sampler options carry over where the new sampler has them (steps), and the rest is named (sigmas)', async () => {
    const cfg = write(tmp(), 'base.yaml', BASE);
    const { resolved } = await loadExperiment(cfg, ['sampler.use=ddpm']);
    expect(resolved.sampler.options.steps).toBe(10);
    expect((resolved.droppedOptions ?? []).map(droppedMessage)).toEqual(['sampler.sigmas = "karras" (set for euler) was dropped: sampler.use = ddpm does not accept it']);
  });

  it("an option set after the switch is the new plugin's own: validated, an error when invalid; one set before it belongs to the old plugin", async () => {
    const cfg = write(tmp(), 'base.yaml', BASE);
    await expect(loadExperiment(cfg, ['schedule.use=cosine', 'schedule.betaEnd=0.03'])).rejects.toThrow(/schedule\.betaEnd: unknown key/);
    // Overrides apply in order, so appending a suggested fix (`sampler.use=ddpm`) to a command line works.
    const before = await scheduleOf(cfg, ['schedule.betaEnd=0.03', 'schedule.use=cosine']);
    expect(before.dropped).toEqual(['schedule.betaEnd = 0.03 (set for linear) was dropped: schedule.use = cosine does not accept it']);
    // An explicit valid option wins over the inherited one.
    expect((await scheduleOf(cfg, ['schedule.use=cosine', 'schedule.timesteps=50'])).slot.timesteps).toBe(50);
  });

  it('the same rule holds through extends: a child that switches schedule keeps the base T', async () => {
    const dir = tmp();
    write(dir, 'base.yaml', BASE.replace('betaEnd: 0.02', 'betaEnd: 0.03'));
    const child = write(dir, 'child.yaml', 'extends: base.yaml\nname: child\nschedule: { use: cosine }\n');
    const { slot, dropped } = await scheduleOf(child);
    expect(slot).toMatchObject({ use: 'cosine', timesteps: 100 });
    expect(dropped).toEqual(['schedule.betaEnd = 0.03 (set for linear) was dropped: schedule.use = cosine does not accept it']);
    // A child option the new plugin rejects is the child's own: an error, not a drop.
    const bad = write(dir, 'bad.yaml', 'extends: base.yaml\nname: bad\nschedule: { use: cosine, betaEnd: 0.02 }\n');
    await expect(loadExperiment(bad)).rejects.toThrow(/schedule[\s\S]*betaEnd/);
    // Switching back to the base's plugin in a grandchild keeps its options as they were.
    const back = write(dir, 'back.yaml', 'extends: child.yaml\nname: back\nschedule: { use: linear }\n');
    expect((await scheduleOf(back)).slot).toMatchObject({ use: 'linear', timesteps: 100, betaEnd: 0.03 });
  });
});

describe('the runner-internal ~inherited key', () => {
  it('is refused in a user config (YAML, JSON, or an extends base), naming the key and the file, and never drops options silently', async () => {
    const dir = tmp();
    // Written by hand, the marks would make resolution drop betaEnd (not a cosine option) without any plugin switch.
    const yaml = write(
      dir,
      'marked.yaml',
      `${BASE.replace('schedule: { use: linear, timesteps: 100, betaStart: 0.0001, betaEnd: 0.02 }', 'schedule: { use: cosine, timesteps: 100, betaEnd: 0.02, "~inherited": { betaEnd: linear } }')}`,
    );
    const refused = /schedule\.~inherited: "~inherited" \(in .*marked\.yaml\) is reserved for the runner's record of options carried across a plugin switch; remove the key/;
    await expect(loadExperiment(yaml)).rejects.toThrow(refused);
    const err = await loadExperiment(yaml).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['schedule.~inherited']);

    const json = write(dir, 'marked.json', JSON.stringify({ name: 'j', reporters: [{ use: 'console', '~inherited': {} }] }));
    await expect(loadExperiment(json)).rejects.toThrow(/reporters\[0\]\.~inherited: "~inherited" \(in .*marked\.json\) is reserved/);

    const child = write(dir, 'child.yaml', 'extends: marked.yaml\nname: child\n');
    await expect(loadExperiment(child)).rejects.toThrow(/schedule\.~inherited: "~inherited" \(in .*marked\.yaml\)/);
    // Without the key the same file is an ordinary config error about betaEnd, which is not a cosine option.
    write(dir, 'marked.yaml', BASE.replace('betaStart: 0.0001, ', '').replace('use: linear', 'use: cosine'));
    await expect(loadExperiment(child)).rejects.toThrow(/schedule\.betaEnd: unknown key/);
  });
});
