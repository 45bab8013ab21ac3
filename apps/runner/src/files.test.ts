import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelArtifacts, TrainState } from '@diffusionlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeTrainState, loadCheckpoint, loadTrainState, saveCheckpoint, TRAIN_STATE_JSON } from './files.js';
import { FileSystemError } from './io-errors.js';

const state = (epochs: number): TrainState => ({
  epoch: epochs,
  step: epochs * 8,
  rng: { shuffle: [1, 2, 3, 4, Number.NaN], noise: [5, 6, 7, 8, 0.5] },
  lastFiniteLoss: 0.5,
  lossHistory: Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, step: 8 * (i + 1), loss: 1 / (i + 1) })),
  weights: [{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
  optimizer: [
    { name: 'iter', shape: [], data: Float32Array.of(80) },
    { name: 'w/m', shape: [2, 3], data: new Float32Array(6).fill(0.1) },
    { name: 'w/v', shape: [2, 3], data: new Float32Array(6).fill(0.2) },
  ],
  adamBetaPowers: [0.5, 0.9],
});

describe('training state files', () => {
  it('cost the same at any epoch: the loss history is not rewritten into every checkpoint', () => {
    const early = encodeTrainState(state(10));
    const late = encodeTrainState(state(10_000));
    expect(String(late[TRAIN_STATE_JSON]).length).toBeLessThanOrEqual(String(early[TRAIN_STATE_JSON]).length + 8);
  });

  it('round-trip, and a damaged file is refused with what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-state-'));
    for (const [name, data] of Object.entries(encodeTrainState(state(10)))) writeFileSync(join(dir, name), data);
    const back = loadTrainState(dir) as TrainState;
    expect(back.step).toBe(80);
    expect(back.weights[0].data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(back.rng.shuffle.slice(0, 4)).toEqual([1, 2, 3, 4]);
    const json = JSON.parse(readFileSync(join(dir, TRAIN_STATE_JSON), 'utf8'));
    const refuse = (edit: (j: Record<string, unknown>) => void, message: RegExp) => {
      const j = structuredClone(json);
      edit(j);
      writeFileSync(join(dir, TRAIN_STATE_JSON), JSON.stringify(j));
      expect(() => loadTrainState(dir)).toThrow(message);
    };
    refuse((j) => (j.step = 2.5), /step \(2\.5\) and epoch \(10\) must be non-negative integers/);
    refuse((j) => (j.rng = { shuffle: [1], noise: [] }), /rng must hold the shuffle and noise generator states/);
    refuse((j) => ((j.tensors as { shape: unknown }[])[0].shape = [2.5, 2]), /tensors\[0\] \(w\) has shape \[2\.5,2\]/);
    refuse((j) => ((j.tensors as { offset: number }[])[2].offset = 1000), /tensors\[2\] \(w\/m\) claims 6 values at offset 1000 for shape \[2,3\]; train-state\.bin holds 19/);
    writeFileSync(join(dir, TRAIN_STATE_JSON), '[1, 2');
    expect(() => loadTrainState(dir)).toThrow(/is not a valid training state: not JSON/);
  });
});

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m]);
});

describe('saveCheckpoint on a full disk', () => {
  const disk = mkdtempSync(join(tmpdir(), 'dl-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status === 0;
  if (mounted) mounts.push(disk);
  else console.log('skipping the full-disk checkpoint test: mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN)');

  it.skipIf(!mounted)('keeps the previous checkpoint, removes its temp folder and names the file', () => {
    const artifacts = (bytes: number): ModelArtifacts => ({
      modelTopology: { layers: [] },
      weightSpecs: [{ name: 'w', shape: [bytes / 4], dtype: 'float32' }],
      weightData: new Float32Array(bytes / 4).fill(1).buffer,
    });
    const ckpt = join(disk, 'checkpoint');
    saveCheckpoint(ckpt, artifacts(4096), { step: 1 });
    // 100 kB of weights do not fit on the 64 kB disk.
    let error: unknown;
    try {
      saveCheckpoint(ckpt, artifacts(100_000), { step: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileSystemError);
    expect((error as Error).message).toBe(`cannot write ${join(ckpt, 'weights.bin')}: no space left on the device (ENOSPC)`);
    expect(readdirSync(disk)).toEqual(['checkpoint']);
    expect(loadCheckpoint(ckpt).meta).toEqual({ step: 1 });
    expect(existsSync(join(ckpt, 'weights.bin'))).toBe(true);
  });
});
