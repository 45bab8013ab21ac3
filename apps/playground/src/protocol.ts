/** The messages between the page and the training worker (structured-clone plain data only). */
import type { ModelArtifacts } from '@diffusionlab/core';
import type { SampleReport, TrainReport } from './session.js';
import type { Setup, SlotChoice } from './setup.js';

/** Page → worker. */
export type ToWorker =
  /** `dataFiles`: the data files the user dropped, by name (the `file` dataset reads them). */
  | { type: 'train'; setup: Setup; refreshEvery: number; dataFiles: Record<string, Uint8Array> }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'sample'; sampler: SlotChoice; n: number }
  /** Load a dropped checkpoint's weights into `setup`'s model and sample from them. */
  | { type: 'load'; setup: Setup; artifacts: ModelArtifacts; trainingSteps: number; training: Record<string, unknown>; dataFiles: Record<string, Uint8Array> }
  /** Send the current weights and their metadata back, for the page's checkpoint download. */
  | { type: 'checkpoint' };

/** Worker → page. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'loss'; points: { step: number; loss: number }[]; totalSteps: number }
  | { type: 'samples'; report: SampleReport; final: boolean }
  | { type: 'trained'; report: TrainReport }
  | { type: 'loaded'; parameterCount: number }
  | { type: 'checkpoint'; artifacts: ModelArtifacts; meta: Record<string, unknown>; setup: Setup }
  | { type: 'error'; message: string };
