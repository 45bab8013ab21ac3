/** The messages between the page and the training worker (structured-clone plain data only). */
import type { SampleReport, TrainReport } from './session.js';
import type { Setup, SlotChoice } from './setup.js';

/** Page → worker. */
export type ToWorker =
  | { type: 'train'; setup: Setup; refreshEvery: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'sample'; sampler: SlotChoice; n: number };

/** Worker → page. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'loss'; points: { step: number; loss: number }[]; totalSteps: number }
  | { type: 'samples'; report: SampleReport; final: boolean }
  | { type: 'trained'; report: TrainReport }
  | { type: 'error'; message: string };
