/**
 * The playground page: forms generated from the plugins' zod schemas, a training worker with a live
 * loss curve and sample figure, resampling with any sampler, the metric with its noise floor, and the
 * setup exported as a `diffusionlab run` config.
 */
import { type AnyPluginDefinition, type Dataset, encodeNpy, instantiate, type Metric, trainingSchema } from '@diffusionlab/core';
import { fileSlot, pointsSlot, unstandardize } from '@diffusionlab/datasets';
import { CATALOG, droppedFileDataset, heldDataFiles, holdDataFile, pluginOf, type SlotKind } from './catalog.js';
import { DRAW_RANGE, drawPoints } from './plot.js';
import { type DroppedFile, findCheckpoint, packedRunName, packRun, setupFromCheckpoint } from './checkpoint.js';
import { drawLoss, drawSamples } from './plot.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { fieldElement } from './form-controls.js';
import { type FormField, formFields } from './schema-form.js';
import type { SampleReport } from './session.js';
import { fromExperimentYaml, SEED_SETUP, SLOT_KINDS, type Setup, toExperimentYaml } from './setup.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const setup: Setup = structuredClone(SEED_SETUP);
const lossPoints: { step: number; loss: number }[] = [];
let totalSteps = 1;
let lastSamples: SampleReport | undefined;
let state: 'idle' | 'training' | 'paused' | 'sampling' | 'trained' = 'idle';

const SLOT_TITLES: Record<SlotKind, string> = { dataset: 'Dataset', schedule: 'Noise schedule', denoiser: 'Denoiser', sampler: 'Sampler', metric: 'Metric' };

/** The generated editor of `field`, writing into `target` (a cleared field deletes its key) and re-validating through `validate`. */
function fieldInput(field: FormField, target: Record<string, unknown>, validate: () => void): HTMLElement {
  return fieldElement(
    field,
    target[field.key],
    (value) => {
      if (value === undefined) delete target[field.key];
      else target[field.key] = value;
      validate();
    },
    showError,
  );
}

/** The options form of one slot, regenerated when its plugin changes. */
function renderSlot(kind: SlotKind): void {
  const box = $(`slot-${kind}`);
  box.replaceChildren();
  const head = document.createElement('label');
  head.className = 'slot-head';
  head.append(SLOT_TITLES[kind]);
  const select = document.createElement('select');
  select.name = kind;
  for (const p of CATALOG[kind]) select.add(new Option(p.name, p.name));
  select.value = setup[kind].use;
  select.addEventListener('change', () => {
    setup[kind] = { use: select.value, options: {} };
    if (kind === 'dataset') pickApplicableMetric();
    renderSlot(kind);
    refreshYaml();
  });
  head.append(select);
  const plugin = pluginOf(kind, setup[kind].use);
  const about = document.createElement('p');
  about.className = 'about';
  about.textContent = plugin.description;
  const error = document.createElement('p');
  error.className = 'error';
  const validate = () => {
    const parsed = plugin.options.safeParse(setup[kind].options);
    error.textContent = parsed.success ? '' : parsed.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${kind}.${i.path.join('.')}: ${i.message}`).join('; ');
    refreshYaml();
  };
  const fields = document.createElement('div');
  fields.className = 'fields';
  for (const f of formFields(plugin.options)) fields.append(fieldInput(f, setup[kind].options, validate));
  box.append(head, about, fields, error);
  validate();
}

/** The training options form, generated from core's trainingSchema. */
function renderTraining(): void {
  const box = $('training-fields');
  const error = $('training-error');
  const validate = () => {
    const parsed = trainingSchema.safeParse(setup.training);
    error.textContent = parsed.success ? '' : parsed.error.issues.map((i) => `training.${i.path.join('.')}: ${i.message}`).join('; ');
    refreshYaml();
  };
  box.replaceChildren(...formFields(trainingSchema).map((f) => fieldInput(f, setup.training, validate)));
}

/** After a dataset change: keep the metric when it applies to the new data, else the first one that does. */
function pickApplicableMetric(): void {
  let dataset: Dataset;
  try {
    dataset = instantiate(pluginOf('dataset', setup.dataset.use), setup.dataset.options as never) as Dataset;
  } catch {
    return;
  }
  const fits = (p: AnyPluginDefinition) => {
    try {
      (instantiate(p, {} as never) as Metric).check?.({ shape: dataset.shape, info: dataset.info });
      return true;
    } catch {
      return false;
    }
  };
  if (fits(pluginOf('metric', setup.metric.use))) return;
  const first = CATALOG.metric.find(fits);
  if (first) {
    setup.metric = { use: first.name, options: {} };
    renderSlot('metric');
  }
}

/** The dropped data files `s`'s dataset reads (the page's `file` dataset names them among its options). */
function dataFilesOf(s: Setup): Record<string, Uint8Array> {
  if (pluginOf('dataset', s.dataset.use) !== droppedFileDataset) return {};
  const options = Object.values(s.dataset.options);
  return Object.fromEntries(Object.entries(heldDataFiles()).filter(([name]) => options.includes(name)));
}

/** What the exported config needs beside it: the dropped data file, saved next to the YAML. */
function exportNotes(): string[] {
  return Object.keys(dataFilesOf(setup)).map((n) => `Save ${n} (the file you dropped on the page) next to this file: the dataset reads it from there.`);
}

function refreshYaml(): void {
  $('yaml').textContent = toExperimentYaml(setup, exportNotes());
}

function showError(e: unknown): void {
  $('status').textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
  $('status').className = 'status error';
}

function setState(next: typeof state, text: string): void {
  state = next;
  document.body.dataset.state = next;
  $('status').textContent = text;
  $('status').className = 'status';
  $<HTMLButtonElement>('train').disabled = next === 'training' || next === 'paused' || next === 'sampling';
  $<HTMLButtonElement>('pause').disabled = next !== 'training' && next !== 'paused';
  $<HTMLButtonElement>('pause').textContent = next === 'paused' ? 'Resume' : 'Pause';
  $<HTMLButtonElement>('stop').disabled = next !== 'training' && next !== 'paused';
  $<HTMLButtonElement>('sample').disabled = next !== 'trained';
  $<HTMLButtonElement>('download-checkpoint').disabled = next !== 'trained';
  $<HTMLButtonElement>('download-samples').disabled = next !== 'trained' || !lastSamples;
}

/** Draws the final samples, or the reverse-process snapshot the slider points at (the last position is the final samples). */
function drawTrajectoryAt(r: SampleReport, index: number): void {
  const snap = index < r.trajectory.length ? r.trajectory[index] : undefined;
  const label = snap ? `after ${snap.step} of ${r.steps} steps (t = ${snap.t.toFixed(1)})` : 'final samples';
  $('trajectory-label').textContent = label;
  const dim = r.shape.reduce((a, b) => a * b, 1);
  // Snapshots hold the first batch only: compare them with as many reference points.
  const samples = snap ? snap.samples : r.samples;
  const reference = r.reference.subarray(0, Math.min(r.reference.length, samples.length - (samples.length % dim)));
  drawSamples($<HTMLCanvasElement>('samples-plot'), samples, reference, r.shape, `${label}: ${r.steps} steps, ${r.nfe} NFE (blue) vs data (grey)`);
}

function showSamples(r: SampleReport, final: boolean): void {
  lastSamples = r;
  const slider = $<HTMLInputElement>('trajectory');
  slider.max = String(r.trajectory.length);
  slider.value = String(r.trajectory.length);
  slider.disabled = !final || r.trajectory.length === 0;
  if (final) drawTrajectoryAt(r, r.trajectory.length);
  else {
    $('trajectory-label').textContent = 'samples so far';
    drawSamples($<HTMLCanvasElement>('samples-plot'), r.samples, r.reference, r.shape, `samples so far: ${r.steps} steps, ${r.nfe} NFE (blue) vs data (grey)`);
  }
  const metric = $('metric');
  metric.textContent = `${r.metricName} = ${r.metric.toFixed(4)}  (noise floor ${r.noiseFloor.toFixed(4)}: what a perfect model scores on ${r.samples.length / r.shape.reduce((a, b) => a * b, 1)} samples) · ${r.path} · ${r.seconds.toFixed(2)} s`;
  metric.dataset.value = String(r.metric);
  metric.dataset.floor = String(r.noiseFloor);
}

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  if (m.type === 'ready') {
    document.body.dataset.ready = 'yes';
    setState('idle', `Ready: a worker with the fused WebAssembly kernels where they apply, the ${m.backend} otherwise.`);
  } else if (m.type === 'loss') {
    lossPoints.push(...m.points);
    totalSteps = m.totalSteps;
    drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, totalSteps);
    const last = lossPoints[lossPoints.length - 1];
    if (state === 'training') $('status').textContent = `Training: step ${last.step} / ${totalSteps}, epoch loss ${last.loss.toFixed(5)}`;
  } else if (m.type === 'samples') {
    showSamples(m.report, m.final);
    if (m.final) {
      setState('trained', `${$('status').dataset.trained ?? 'Trained.'} Sampled with ${setup.sampler.use}.`);
      document.body.dataset.sampled = String(Number(document.body.dataset.sampled ?? 0) + 1);
    }
  } else if (m.type === 'trained') {
    const r = m.report;
    const text = r.stopped
      ? `Stopped at step ${r.steps}; sampling from the weights so far.`
      : `Trained ${r.steps} steps at ${r.stepsPerSecond.toFixed(0)} steps/s on ${r.path}${r.path.startsWith('fused:') ? '' : ` (tfjs ${r.backend} backend)`}${r.acceleratorDeclined ? `; the fused kernels declined: ${r.acceleratorDeclined}` : ''}.`;
    $('status').dataset.trained = text;
    $('status').dataset.stepsPerSecond = String(r.stepsPerSecond);
    $('status').dataset.path = r.path;
    $('status').dataset.backend = r.backend;
    if (r.stopped && lossPoints.length > 0) {
      // The x axis ends where training stopped, not at the planned total.
      totalSteps = Math.max(1, r.steps);
      drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, totalSteps);
    }
    setState('sampling', text);
  } else if (m.type === 'loaded') {
    const text = `Loaded the checkpoint (${m.parameterCount} parameters); no training.`;
    $('status').dataset.trained = text;
    $('status').dataset.path = 'checkpoint';
    setState('sampling', `${text} Sampling with ${setup.sampler.use}…`);
  } else if (m.type === 'checkpoint') {
    download(packedRunName(m.setup), new Blob([packRun(m.setup, m.artifacts, m.meta, dataFilesOf(m.setup))], { type: 'application/json' }));
    $('checkpoint-note').textContent = `Downloaded ${packedRunName(m.setup)}: run \`diffusionlab sample ${packedRunName(m.setup)}\` to sample it with the CLI.`;
  } else if (m.type === 'error') {
    showError(m.message);
    if (state !== 'idle') setState(lastSamples ? 'trained' : 'idle', $('status').textContent ?? '');
    showError(m.message);
  }
};
worker.onerror = (e) => showError(e.message);

$('train').addEventListener('click', () => {
  // An error left from an earlier drop no longer applies to this run.
  if ($('checkpoint-note').classList.contains('error')) $('checkpoint-note').replaceChildren();
  lossPoints.length = 0;
  lastSamples = undefined;
  delete $('status').dataset.trained;
  drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, 1);
  setState('training', 'Building the setup…');
  const refreshEvery = Number(($<HTMLInputElement>('refresh-every').value || '100').trim());
  send({ type: 'train', setup: structuredClone(setup), refreshEvery: Math.max(1, Math.floor(refreshEvery)), dataFiles: heldDataFiles() });
});
$('pause').addEventListener('click', () => {
  if (state === 'paused') {
    send({ type: 'resume' });
    setState('training', 'Resumed.');
  } else {
    send({ type: 'pause' });
    setState('paused', 'Paused (between epochs). Resume or stop.');
  }
});
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('sample').addEventListener('click', () => {
  setState('sampling', `Sampling with ${setup.sampler.use} (no retraining)…`);
  send({ type: 'sample', sampler: structuredClone(setup.sampler), n: setup.samples });
});
/** Saves `blob` as a download called `name`. */
function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
$('download-yaml').addEventListener('click', () => download(`${setup.name}.yaml`, new Blob([toExperimentYaml(setup, exportNotes())], { type: 'text/yaml' })));
$('download-checkpoint').addEventListener('click', () => send({ type: 'checkpoint' }));
$('download-samples').addEventListener('click', () => {
  if (!lastSamples) return;
  const r = lastSamples;
  // Data space, as the runner writes samples.npy (the toy sets and standardised files train standardised).
  const data = r.standardization ? unstandardize(r.samples, r.standardization) : r.samples;
  const dim = r.shape.reduce((a, b) => a * b, 1);
  download(`${setup.name}-samples.npy`, new Blob([encodeNpy(data, [r.samples.length / dim, ...r.shape]) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
});

/** Replaces the forms with `next` (an imported config or a dropped checkpoint's setup). */
function applySetup(next: Setup): void {
  for (const kind of SLOT_KINDS) pluginOf(kind, next[kind].use); // a Node-only or unknown plugin fails here, naming the choices
  Object.assign(setup, next);
  $<HTMLInputElement>('seed').value = String(setup.seed);
  $<HTMLInputElement>('samples-n').value = String(setup.samples);
  for (const kind of SLOT_KINDS) renderSlot(kind);
  renderTraining();
  refreshYaml();
}

/** Dropped or chosen files → a checkpoint in the worker, sampled at once; what is missing is said under the drop zone. */
async function loadCheckpointFiles(files: DroppedFile[]): Promise<void> {
  const note = $('checkpoint-note');
  note.className = 'note';
  try {
    if (state === 'training' || state === 'paused' || state === 'sampling') throw new Error('The worker is busy: stop the current run first, then drop the checkpoint again.');
    const ck = findCheckpoint(files);
    const { setup: next, missing } = setupFromCheckpoint(ck, setup);
    applySetup(next);
    const meta = ck.meta ?? {};
    const steps = typeof meta.trainingSteps === 'number' ? meta.trainingSteps : 0;
    note.textContent = `Read ${ck.used.join(', ')}${steps ? ` (trained ${steps} steps)` : ''}.${missing.length > 0 ? ` Missing: ${missing.join('; ')}.` : ''}`;
    lossPoints.length = 0;
    drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, 1);
    lastSamples = undefined;
    setState('sampling', 'Loading the checkpoint…');
    const training = meta.training && typeof meta.training === 'object' ? (meta.training as Record<string, unknown>) : { steps };
    send({ type: 'load', setup: structuredClone(setup), artifacts: ck.artifacts, trainingSteps: steps, training, dataFiles: heldDataFiles() });
  } catch (e) {
    note.textContent = e instanceof Error ? e.message : String(e);
    note.className = 'note error';
  }
}

/** The files under a dropped folder entry, with their paths. */
async function entryFiles(entry: FileSystemEntry): Promise<DroppedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ path: entry.fullPath.replace(/^\//, ''), bytes: new Uint8Array(await file.arrayBuffer()) }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: DroppedFile[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    for (const e of batch) out.push(...(await entryFiles(e)));
  }
}

const filesOf = async (list: FileList): Promise<DroppedFile[]> =>
  Promise.all([...list].map(async (f) => ({ path: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
for (const id of ['checkpoint-files', 'checkpoint-folder']) {
  $<HTMLInputElement>(id).addEventListener('change', async (e) => {
    const input = e.target as HTMLInputElement;
    if (input.files && input.files.length > 0) await loadCheckpointFiles(await filesOf(input.files));
    input.value = '';
  });
}
// Files dropped anywhere on the page (a browser would otherwise open them in place of the page).
const drop = $('checkpoint-drop');
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
document.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) drop.classList.remove('over');
});
document.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  // Folder drops come as entries (walked recursively); a script-made DataTransfer has files only.
  const entries = [...(e.dataTransfer?.items ?? [])].map((i) => i.webkitGetAsEntry?.() ?? null).filter((x): x is FileSystemEntry => x !== null);
  const files = entries.length > 0 ? (await Promise.all(entries.map(entryFiles))).flat() : await filesOf(e.dataTransfer?.files ?? new DataTransfer().files);
  if (files.length === 1 && isDataFile(files[0])) await useDataFile(files[0]);
  else {
    $<HTMLDetailsElement>('checkpoint-panel').open = true;
    await loadCheckpointFiles(files);
  }
});

/** A single dropped file that is data (a table), not part of a checkpoint or a packed run. */
function isDataFile(f: DroppedFile): boolean {
  if (/\.(csv|tsv|txt|npy)$/i.test(f.path)) return true;
  if (!/\.json$/i.test(f.path) || /(^|\/)(model|diffusionlab)\.json$/.test(f.path)) return false;
  return /^\s*\[/.test(new TextDecoder().decode(f.bytes.subarray(0, 64))); // a JSON table is an array; a packed run an object
}

/** A dropped data file becomes the dataset (`file`, named by the file's name), with the dataset's own defaults. */
async function useDataFile(f: DroppedFile): Promise<void> {
  const note = $('data-note');
  $<HTMLDetailsElement>('data-panel').open = true;
  const name = f.path.split('/').pop() ?? f.path;
  holdDataFile(name, f.bytes);
  const next = fileSlot(name);
  try {
    const ds = (await instantiate(droppedFileDataset, next.options as never)) as Dataset & { rows?: { total: number; train: number; heldOut: number }; header?: string[] };
    setup.dataset = next;
    pickApplicableMetric();
    renderSlot('dataset');
    refreshYaml();
    note.className = 'note';
    note.textContent = `${name}: ${ds.rows?.total} rows of shape [${ds.shape}]${ds.header ? ` (columns ${ds.header.join(', ')})` : ''}; ${ds.rows?.train} train, ${ds.rows?.heldOut} held out for evaluation. The exported config names it as dataset.path: save ${name} next to the YAML.`;
    setState(state, `Using ${name} as the dataset: press Train.`);
  } catch (e) {
    note.className = 'note error';
    note.textContent = e instanceof Error ? e.message : String(e);
  }
}
$<HTMLInputElement>('data-file').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const [file] = input.files ? await filesOf(input.files) : [];
  if (file) await useDataFile(file);
  input.value = '';
});

// Points drawn with the mouse (or a finger): x, y in [-DRAW_RANGE, DRAW_RANGE], y up; a drag adds a point every few pixels.
const drawn: [number, number][] = [];
const drawCanvas = $<HTMLCanvasElement>('draw');
function redrawDrawn(): void {
  drawPoints(drawCanvas, drawn);
  $('drawn-count').textContent = `${drawn.length} points`;
  $<HTMLButtonElement>('use-drawn').disabled = drawn.length < 2;
}
let lastDrawn: { x: number; y: number } | undefined;
function addDrawn(e: PointerEvent): void {
  const box = drawCanvas.getBoundingClientRect();
  if (lastDrawn && Math.hypot(e.clientX - lastDrawn.x, e.clientY - lastDrawn.y) < 6) return;
  lastDrawn = { x: e.clientX, y: e.clientY };
  const round = (v: number) => Math.round(v * 1000) / 1000;
  drawn.push([round(((e.clientX - box.left) / box.width) * 2 * DRAW_RANGE - DRAW_RANGE), round(DRAW_RANGE - ((e.clientY - box.top) / box.height) * 2 * DRAW_RANGE)]);
  redrawDrawn();
}
drawCanvas.addEventListener('pointerdown', (e) => {
  drawCanvas.setPointerCapture(e.pointerId);
  lastDrawn = undefined;
  addDrawn(e);
});
drawCanvas.addEventListener('pointermove', (e) => {
  if (e.buttons & 1) addDrawn(e);
});
$('clear-drawn').addEventListener('click', () => {
  drawn.length = 0;
  redrawDrawn();
});
$('use-drawn').addEventListener('click', () => {
  setup.dataset = pointsSlot(drawn.map(([x, y]) => [x, y]));
  pickApplicableMetric();
  renderSlot('dataset');
  refreshYaml();
  $('data-note').className = 'note';
  $('data-note').textContent = `The dataset is your ${drawn.length} points (dataset: points, written inline in the exported config). Press Train.`;
  setState(state, `Using your ${drawn.length} drawn points as the dataset: press Train.`);
});
$<HTMLInputElement>('import-config').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  try {
    applySetup(fromExperimentYaml(await file.text(), file.name));
    setState(state, `Imported ${file.name}: press Train to run it.`);
  } catch (err) {
    showError(err);
  } finally {
    input.value = '';
  }
});
$<HTMLInputElement>('samples-n').addEventListener('change', (e) => {
  setup.samples = Math.max(1, Math.floor(Number((e.target as HTMLInputElement).value) || SEED_SETUP.samples));
  refreshYaml();
});
$<HTMLInputElement>('seed').addEventListener('change', (e) => {
  setup.seed = Math.max(0, Math.floor(Number((e.target as HTMLInputElement).value) || 0));
  refreshYaml();
});
$<HTMLInputElement>('trajectory').addEventListener('input', (e) => {
  if (lastSamples) drawTrajectoryAt(lastSamples, Number((e.target as HTMLInputElement).value));
});
window.addEventListener('resize', () => {
  drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, totalSteps);
  if (lastSamples) showSamples(lastSamples, true);
});

for (const kind of SLOT_KINDS) renderSlot(kind);
renderTraining();
refreshYaml();
drawLoss($<HTMLCanvasElement>('loss-plot'), lossPoints, 1);
redrawDrawn();
setState('idle', 'Starting the worker…');
