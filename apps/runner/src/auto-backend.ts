/**
 * What `backend: auto` picks for one model, and why. Two facts decide it, both known before the run
 * activates its backend: whether `@tensorflow/tfjs-node` loads, and whether the training
 * accelerator (core's {@link TrainAccelerator}; the kernels package's fused WebAssembly trainer) takes
 * this model — asked the way train() asks it, on a throwaway model, before the real one is built.
 *
 * The rule follows `pnpm bench` on the 2-core development machine (README, "Backends"): a model a fused
 * path trains runs fastest on wasm (the fused MLP step is 20–30× tfjs-node's ops; the fused U-Net at
 * channels 16 trains at 24.0 against tfjs-node's 17.9 steps/s), and wasm also samples it through the
 * fused kernels; a model that trains on tfjs ops runs fastest on tfjs-node when it is installed, else on
 * wasm. The one measured exception: at channels 32 the fused U-Net (one thread, 8.7 steps/s) trails
 * tfjs-node on both cores (12.3; equal per CPU-second) — set `backend: tensorflow` there. The runner never reads a plugin's
 * name: the accelerator's own answer (a path, or its reason to decline) is the only input about the model.
 */
import type { TrainAccelerator, TrainingPathContext } from '@diffusionlab/core';

/** The backend the fused training paths run beside, and whose fused sampler a model they take uses. */
export const FUSED_BACKEND = 'wasm';

/** The accelerator's answer for one model: the path it would train on, or why it declines. */
export type FusedProbe = { path: string } | { declined: string };

/** What `auto` decided: a backend name and the reason env.json records. */
export interface AutoBackendChoice {
  /** The backend to activate: `auto` only ever picks one of these two. */
  name: 'wasm' | 'tensorflow';
  /** What env.json records as `backendReason`, so a run says why it ran where it did. */
  reason: string;
}

/**
 * Asks the accelerator whether it trains this model on the fused backend, exactly as train() would
 * (its `create`), and frees the path it returns at once: the answer is all `auto` needs. The caller
 * owns (and disposes) the model.
 */
export function probeTrainAccelerator(accelerator: TrainAccelerator, ctx: Omit<TrainingPathContext, 'backend'>): FusedProbe {
  const made = accelerator.create({ ...ctx, backend: FUSED_BACKEND });
  if (typeof made === 'string') return { declined: made };
  made.dispose();
  return { path: made.path };
}

/**
 * The `auto` rule (module comment). `tensorflowError` is null when tfjs-node loads, else its load
 * error's first line; `fused` is the accelerator's answer, asked only when tfjs-node loads (on
 * wasm-only machines the answer changes nothing), so a missing one means "not asked".
 */
export function chooseAutoBackend(tensorflowError: string | null, fused?: FusedProbe): AutoBackendChoice {
  if (tensorflowError !== null) {
    return { name: 'wasm', reason: 'auto: @tensorflow/tfjs-node is not installed; wasm is the fastest embedded backend' };
  }
  if (fused && 'path' in fused) {
    return {
      name: 'wasm',
      reason: `auto: ${fused.path} trains this model, faster than @tensorflow/tfjs-node's ops, and wasm samples it through the fused kernels (pnpm bench: seed-train, mlp-train-256, seed-sample)`,
    };
  }
  const why = fused ? ` (${fused.declined})` : '';
  return { name: 'tensorflow', reason: `auto: @tensorflow/tfjs-node is installed and no fused path trains this model${why}; TensorFlow's native ops run it fastest` };
}
