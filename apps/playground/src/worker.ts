/**
 * The training worker: runs a {@link Session} off the page's thread, posts the loss every epoch (in
 * batches, at most ~10 posts a second) and samples every `refreshEvery` epochs, and honours pause,
 * resume and stop between epochs. The fused WebAssembly kernels (inlined, no file to fetch) train
 * every model they match; everything else runs on tfjs-wasm (see {@link startWorkerBackend}).
 */
import { registerDenoiserLayers } from '@diffusionlab/denoisers';
import { startWorkerBackend } from './backend.js';
import { holdDataFile } from './catalog.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { Session, StopTraining } from './session.js';
import type { SlotChoice } from './setup.js';

/** Reverse-process snapshots kept for the page's trajectory slider (what the runner's `evaluation.trajectory` does, finer). */
const TRAJECTORY_SNAPSHOTS = 12;
const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);
let session: Session | undefined;
let paused = false;
let stopRequested = false;
let busy = false;
/** The sampler and sample count of the last samples shown, written into a downloaded checkpoint's config so the CLI draws the same. */
let lastDraw: { sampler: SlotChoice; n: number } | undefined;

/** Lets queued messages (pause, stop) in: the loop otherwise never yields to the event loop. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Awaited once per epoch: throws on stop, waits while paused. */
async function gate(): Promise<void> {
  await yieldToMessages();
  while (paused && !stopRequested) await new Promise((resolve) => setTimeout(resolve, 50));
  if (stopRequested) throw new StopTraining();
}

async function runTraining(m: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  session?.dispose();
  session = undefined;
  lastDraw = undefined;
  paused = false;
  stopRequested = false;
  session = await Session.create(m.setup);
  let pending: { step: number; loss: number }[] = [];
  let lastPost = 0;
  const report = await session.train({
    refreshEvery: m.refreshEvery,
    onEpoch: (e) => {
      pending.push({ step: e.step, loss: e.meanLoss });
      const now = performance.now();
      if (now - lastPost > 100 || e.epoch === e.epochs) {
        post({ type: 'loss', points: pending, totalSteps: e.totalSteps });
        pending = [];
        lastPost = now;
      }
    },
    onSamples: (r) => post({ type: 'samples', report: r, final: false }),
    gate,
  });
  if (pending.length > 0) post({ type: 'loss', points: pending, totalSteps: report.steps });
  post({ type: 'trained', report });
  post({ type: 'samples', report: await session.sample({ trajectory: TRAJECTORY_SNAPSHOTS }), final: true });
}

/** A dropped checkpoint: its weights in the setup's model (no training), then samples as `diffusionlab sample` draws them. */
async function loadCheckpoint(m: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  session?.dispose();
  session = undefined;
  lastDraw = undefined;
  session = await Session.create(m.setup, m.artifacts);
  session.markLoaded(m.trainingSteps, m.training);
  post({ type: 'loaded', parameterCount: session.model.parameterCount });
  post({ type: 'samples', report: await session.sample({ trajectory: TRAJECTORY_SNAPSHOTS }), final: true });
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === 'pause') paused = true;
  else if (m.type === 'resume') paused = false;
  else if (m.type === 'stop') stopRequested = true;
  else if (busy) post({ type: 'error', message: 'The worker is busy: stop the current run first.' });
  else {
    busy = true;
    try {
      if (m.type === 'train' || m.type === 'load') for (const [name, bytes] of Object.entries(m.dataFiles)) holdDataFile(name, bytes);
      if (m.type === 'train') await runTraining(m);
      else if (m.type === 'load') await loadCheckpoint(m);
      else if (!session) post({ type: 'error', message: 'Nothing to sample from yet: train a model or drop a checkpoint first.' });
      else if (m.type === 'checkpoint') {
        const setup = { ...session.setup, ...(lastDraw ? { sampler: lastDraw.sampler, samples: lastDraw.n } : {}) };
        post({ type: 'checkpoint', ...(await session.checkpoint()), setup });
      } else {
        post({ type: 'samples', report: await session.sample({ sampler: m.sampler, n: m.n, trajectory: TRAJECTORY_SNAPSHOTS }), final: true });
        lastDraw = { sampler: m.sampler, n: m.n };
      }
    } catch (e) {
      post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    } finally {
      busy = false;
    }
  }
};

registerDenoiserLayers();
startWorkerBackend().then(
  (backend) => post({ type: 'ready', backend: backend.note }),
  (e) => post({ type: 'error', message: `tfjs backend: ${e instanceof Error ? e.message : String(e)}` }),
);
