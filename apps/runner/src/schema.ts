/**
 * The experiment config schema. Plugin slots are `{ use: <name>, …options }`; their options are
 * validated later by the named plugin's own schema, so this file never lists plugin options.
 */
import { classesSchema, conditioningSchema, trainingSchema, z } from '@diffusionlab/core';

/** A plugin slot: `use` picks the plugin, the remaining keys are its options. */
export const pluginSlot = z.looseObject({ use: z.string().min(1).describe('Plugin name') });

/** A slot that may also be written as just the plugin name (`metrics: [w1, modes]`). */
export const pluginSlotOrName = z.union([z.string().min(1), pluginSlot]);

/** The tfjs backends the runner knows; `auto` prefers tfjs-node, then wasm. */
export const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;

/** `evaluation:` — how many samples to draw and which metrics to compute (each with its noise floor). */
export const evaluationSchema = z
  .object({
    samples: z.number().int().positive().default(1000).describe('Number of samples to generate'),
    metrics: z.array(pluginSlotOrName).default(['w1']).describe('Metrics to compute'),
    batchSize: z.number().int().positive().optional().describe('Samples per sampler call (memory bound)'),
    trajectory: z.number().int().min(0).default(6).describe('Snapshots of the reverse process to keep'),
    classes: classesSchema.optional(),
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
    conditioning: conditioningSchema.optional().describe('Class conditioning with classifier-free guidance (absent: unconditional)'),
    evaluation: evaluationSchema.default(() => evaluationSchema.parse({})),
    reporters: z.array(pluginSlotOrName).default(['console', 'summary']).describe('Reporters'),
  })
  .strict();

/** A config after schema validation (plugin options not yet resolved). */
export type ExperimentInput = z.input<typeof experimentSchema>;
export type Experiment = z.output<typeof experimentSchema>;
