/**
 * The experiment config schema. Plugin slots are `{ use: <name>, …options }`; their options are
 * validated later by the named plugin's own schema, so this file never lists plugin options.
 */
import { PREDICTION_TYPES, z } from '@diffusionlab/core';

/** A plugin slot: `use` picks the plugin, the remaining keys are its options. */
export const pluginSlot = z.looseObject({ use: z.string().min(1).describe('Plugin name') });

/** A slot that may also be written as just the plugin name (`metrics: [w1, modes]`). */
export const pluginSlotOrName = z.union([z.string().min(1), pluginSlot]);

/** The tfjs backends the runner knows; `auto` prefers tfjs-node, then wasm. */
export const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;

/** `training:` — how the denoiser is fitted (ignored for closed-form denoisers such as `oracle`). */
export const trainingSchema = z
  .object({
    epochs: z.number().int().positive().optional().describe('Passes over the training set (default 100 unless steps is set)'),
    steps: z.number().int().positive().optional().describe('Total optimiser steps; overrides epochs'),
    batchSize: z.number().int().positive().default(32).describe('Batch size'),
    learningRate: z.number().positive().default(1e-3).describe('Adam learning rate'),
    optimizer: z.enum(['adam', 'adamw']).default('adam').describe('Optimiser'),
    weightDecay: z.number().min(0).default(0.01).describe('AdamW decoupled weight decay'),
    gradClipNorm: z.number().positive().optional().describe('Clip the global gradient norm'),
    lrSchedule: z.enum(['constant', 'cosine']).default('constant').describe('Learning-rate schedule after warm-up'),
    warmupSteps: z.number().int().min(0).default(0).describe('Linear learning-rate warm-up steps'),
    minLearningRate: z.number().min(0).default(0).describe('Floor of the cosine schedule'),
    emaDecay: z.number().min(0).max(1).optional().describe('EMA decay of the weights (e.g. 0.999); sampling uses the EMA weights'),
    emaWarmup: z.boolean().default(true).describe('Ramp the EMA decay as min(decay, (1+n)/(10+n))'),
    lossWeighting: z.enum(['none', 'min-snr']).default('none').describe('Per-sample loss weighting (min-snr: Hang et al. 2023)'),
    minSnrGamma: z.number().positive().default(5).describe('γ of Min-SNR-γ weighting'),
    checkpointEvery: z.number().int().positive().optional().describe('Write a resumable checkpoint every N epochs'),
    predictionType: z.enum(PREDICTION_TYPES as unknown as ['epsilon', 'sample', 'v']).default('epsilon').describe('What the network predicts'),
    logEvery: z.number().int().positive().default(100).describe('Log the mean epoch loss every N epochs'),
    accelerate: z.boolean().default(true).describe('Use a fused kernel when one matches the model'),
  })
  .strict();

/** `evaluation:` — how many samples to draw and which metrics to compute (each with its noise floor). */
export const evaluationSchema = z
  .object({
    samples: z.number().int().positive().default(1000).describe('Number of samples to generate'),
    metrics: z.array(pluginSlotOrName).default(['w1']).describe('Metrics to compute'),
    batchSize: z.number().int().positive().optional().describe('Samples per sampler call (memory bound)'),
    trajectory: z.number().int().min(0).default(6).describe('Snapshots of the reverse process to keep'),
  })
  .strict();

/** The whole experiment file. */
export const experimentSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-" (it names the run folder)')
      .describe('Experiment name; names the run directory'),
    extends: z.string().optional().describe('Base config file to merge under this one'),
    seed: z.number().int().min(0).default(0).describe('Seed for every random draw'),
    backend: z.enum(BACKENDS).default('auto').describe('tfjs backend'),
    plugins: z.array(z.string().min(1)).default([]).describe('Extra npm packages that export `plugins`'),
    dataset: pluginSlot,
    schedule: pluginSlot,
    denoiser: pluginSlot,
    sampler: pluginSlot,
    training: trainingSchema.default(() => trainingSchema.parse({})),
    evaluation: evaluationSchema.default(() => evaluationSchema.parse({})),
    reporters: z.array(pluginSlotOrName).default(['console', 'summary']).describe('Reporters'),
  })
  .strict();

/** A config after schema validation (plugin options not yet resolved). */
export type ExperimentInput = z.input<typeof experimentSchema>;
export type Experiment = z.output<typeof experimentSchema>;
