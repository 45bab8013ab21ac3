/**
 * The training options (the `training:` block of a config) and their defaults, in one place: the
 * runner validates configs with this schema, and core's {@link train} parses its config through it,
 * so a default is written once and what a run announces is what it trains.
 */
import { z } from 'zod';
import { FLOW_COUPLINGS, FLOW_TIME_SAMPLINGS, OBJECTIVES } from './flow.js';
import { PREDICTION_TYPES } from './prediction.js';

/** Epochs trained when a config gives neither `epochs` nor `steps`. */
const DEFAULT_EPOCHS = 100;

/** The `training:` options as written; `trainingSchema` fills every default. */
const trainingOptions = z
  .object({
    epochs: z.number().int().positive().optional().describe(`Passes over the training set (default ${DEFAULT_EPOCHS} unless steps is set)`),
    steps: z.number().int().positive().optional().describe('Total optimiser steps; overrides epochs'),
    batchSize: z.number().int().positive().default(32).describe('Batch size'),
    learningRate: z.number().positive().default(1e-3).describe('Adam learning rate'),
    optimizer: z.enum(['adam', 'adamw']).default('adam').describe('Optimiser'),
    beta1: z.number().min(0).lt(1).default(0.9).describe("Adam's β₁ (decay of the first moment)"),
    beta2: z.number().min(0).lt(1).default(0.999).describe("Adam's β₂ (decay of the second moment)"),
    epsilon: z.number().positive().default(1e-8).describe("Adam's ε (PyTorch's default 1e-8; tfjs's own would be 1e-7)"),
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
    guideSnapshotStep: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Save the sampling weights (EMA when enabled) at this step as the autoguidance guide, an under-trained copy of the model that sampler.autoguidance steers away from (Karras et al. 2024); must be before the last step',
      ),
    predictionType: z
      .enum(PREDICTION_TYPES as unknown as ['epsilon', 'sample', 'v'])
      .default('epsilon')
      .describe('What the network predicts (objective ddpm)'),
    objective: z
      .enum(OBJECTIVES)
      .default('ddpm')
      .describe(
        "ddpm: the noise schedule's forward process, target per predictionType (Ho et al. 2020); flow: conditional flow matching, xₜ = (1−t)·x₀ + t·ε, t ~ U[0, 1], velocity target ε − x₀ (Lipman et al. 2023 eq. 22–23), sampled with flow-euler, flow-heun or flow-dpmpp-2m-sde",
      ),
    flowTimeSampling: z
      .enum(FLOW_TIME_SAMPLINGS)
      .default('uniform')
      .describe('objective flow: how t is drawn, uniform on [0, 1) or logit-normal (t = sigmoid(u), u ~ N(0, 1); Esser et al. 2024 eq. 19)'),
    flowCoupling: z
      .enum(FLOW_COUPLINGS)
      .default('independent')
      .describe(
        'objective flow: how data and noise are paired, independent draws or minibatch-ot (the batch noise re-paired with the batch data by the exact optimal-transport plan: straighter paths, fewer sampling steps; Tong et al. 2024, OT-CFM). Conditional models pair within each label',
      ),
    logEvery: z.number().int().positive().default(100).describe('Log the mean epoch loss every N epochs'),
    accelerate: z.boolean().default(true).describe('Use a fused kernel when one matches the model'),
    threads: z
      .union([z.number().int().positive(), z.literal('auto')])
      .default(1)
      .describe(
        "Threads one fused U-Net training step is split over, by batch rows (Node worker threads; 'auto' = min(2, cores)). Faster on a multi-core CPU, but the gradient is summed in another order, so results differ from threads 1 in the last float bits (runs stay reproducible at a fixed count). Other paths and non-Node runtimes train on one thread",
      ),
  })
  .strict();

/**
 * Refuses the options flow matching has no meaning for (flow.ts): the network predicts the velocity,
 * so another prediction type, and Min-SNR weights (defined through the schedule's ᾱ), would be
 * silently ignored. Why a refinement: the error then names the key like every schema error.
 */
function flowOptionsFit(t: z.output<typeof trainingOptions>, ctx: z.RefinementCtx): void {
  if (t.objective !== 'flow') {
    for (const [key, value, plain] of [
      ['flowTimeSampling', t.flowTimeSampling, 'uniform'],
      ['flowCoupling', t.flowCoupling, 'independent'],
    ] as const) {
      if (value !== plain) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} applies to training.objective flow only (set training.objective=flow, or remove training.${key})`,
        });
      }
    }
    return;
  }
  if (t.predictionType !== 'epsilon') {
    ctx.addIssue({
      code: 'custom',
      path: ['predictionType'],
      message: `training.objective flow trains a velocity; predictionType ${t.predictionType} applies to objective ddpm only (remove training.predictionType)`,
    });
  }
  if (t.lossWeighting !== 'none') {
    ctx.addIssue({
      code: 'custom',
      path: ['lossWeighting'],
      message: `training.objective flow takes no loss weighting; ${t.lossWeighting} is defined on the noise schedule's SNR (set training.lossWeighting=none)`,
    });
  }
}

/**
 * `training:` — how the denoiser is fitted (ignored for closed-form denoisers such as `oracle`, but
 * for `objective`, which also sets what the oracle outputs).
 * Besides each key's default, a config with neither `epochs` nor `steps` gets `epochs: 100`, so the
 * parsed config states the run's length and nothing downstream guesses it.
 */
export const trainingSchema = trainingOptions
  .superRefine(flowOptionsFit)
  .transform((t) => (t.epochs === undefined && t.steps === undefined ? { ...t, epochs: DEFAULT_EPOCHS } : t));

/** Training hyper-parameters with every default filled in: what {@link train} and training paths read. */
export type TrainConfig = z.output<typeof trainingSchema>;

/** Training hyper-parameters as a config or a program writes them (any key may be left to its default). */
export type TrainConfigInput = z.input<typeof trainingSchema>;
