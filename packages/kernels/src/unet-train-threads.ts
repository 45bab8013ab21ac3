/**
 * Data-parallel gradients for the fused U-Net trainer (issue 16): each batch's rows are split
 * between the calling thread and persistent Node worker threads, each with its own kernel instance
 * holding the same weights. Every share computes its rows' loss and ∂L/∂θ, the parts are weighted
 * by their row counts (so each carries the full batch's 1/n normalisation) and summed on the calling
 * thread, which then runs the one Adam update and sends the new weights with the next step.
 *
 * Why a replayed trace instead of the network's code in the worker: `UnetNetwork.forward` and
 * `backward` are nothing but calls into the kernel exports (and `f32.copyWithin`) with byte pointers,
 * so recording them once per row count gives a list of numbers any instance of the same module can
 * replay at the same addresses — the worker is a small self-contained function (as in ddpm.ts), and
 * needs neither the package's modules nor a build of them, in vitest as in dist.
 *
 * Why SharedArrayBuffer + Atomics and not messages: core's `TrainingPath.step` is synchronous, so the
 * calling thread cannot await a message; it blocks in `Atomics.wait` until the workers are done
 * (Node allows that on the main thread). Weights, inputs and gradients cross through one shared
 * block per worker (two memcpys of the parameter block per step, against a step of tens of ms).
 *
 * Node only (`node:worker_threads` via `process.getBuiltinModule`); elsewhere the trainer stays on
 * one thread and says so in its notes.
 */
import type { UnetNetwork } from './unet-network.js';
import { kernelModule } from './wasm.js';

/** Resolves `training.threads` (a count or 'auto' = min(2, cores)) for this runtime; non-Node runtimes get 1 and the reason. */
export function resolveTrainThreads(requested: number | 'auto' | undefined): { threads: number; note?: string } {
  const want = requested ?? 1;
  const node = nodeBuiltins();
  if (want === 1) return { threads: 1 };
  if (!node) return { threads: 1, note: `training.threads ${want}: the fused U-Net's worker threads need Node ≥ 20.16 (node:worker_threads); this run trains on one thread` };
  if (want === 'auto') {
    const os = node.os;
    return { threads: Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length)) };
  }
  if (!Number.isInteger(want) || want < 1) throw new Error(`training.threads ${String(want)} is not a positive integer or 'auto'`);
  return { threads: want };
}

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface NodeBuiltins {
  wt: {
    Worker: new (src: string, o: object) => NodeWorker;
    MessageChannel: new () => { port1: NodePort; port2: NodePort };
    receiveMessageOnPort(port: NodePort): { message: unknown } | undefined;
  };
  os: { availableParallelism?(): number; cpus(): unknown[] };
}
interface NodePort {
  postMessage(m: unknown): void;
  close(): void;
  unref(): void;
}

/** node:worker_threads and node:os, synchronously (Node ≥ 20.16), or null outside Node. */
function nodeBuiltins(): NodeBuiltins | null {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function') return null;
  const wt = proc.getBuiltinModule('node:worker_threads') as NodeBuiltins['wt'] | undefined;
  const os = proc.getBuiltinModule('node:os') as NodeBuiltins['os'] | undefined;
  return wt && os ? { wt, os } : null;
}

/** Control block per worker (Int32 slots; the loss as a Float64 at byte 32). */
const CMD = 0; // command sequence number (calling thread increments, then notifies)
const DONE = 1; // last finished sequence number (worker sets, then notifies)
const KIND = 2; // 1 step, 2 setup, 3 stop
const ROWS = 3; // rows of this step
const STATUS = 4; // 0 ok, 1 error (message on the port), 2 the worker exited
const TRACE = 5; // which recorded trace the step replays
const CTRL_BYTES = 48;

/** What a worker needs to place a step: pointers of the calling thread's layout, and the shared block's sections. */
interface WorkerLayout {
  paramPtr: number;
  gradPtr: number;
  paramCount: number;
  xPtr: number;
  embPtr: number;
  targetPtr: number;
  D: number;
  E: number;
  /** Rows the shared block has room for. */
  capacity: number;
}

/**
 * The worker's whole program. Self-contained (no closures, no imports) because its source text is
 * what the worker evaluates. It replays recorded traces: per op, the export's index (−1 for
 * `f32.copyWithin`), the argument count, the arguments.
 */
function unetGradWorker(
  data: { module: object; ctrl: SharedArrayBuffer; port: unknown },
  receive: (port: unknown) => { message: unknown } | undefined,
  post: (m: unknown) => void,
  onExit: (f: () => void) => void,
): void {
  const ctrl = new Int32Array(data.ctrl);
  const lossOut = new Float64Array(data.ctrl, 32, 1);
  onExit(() => {
    Atomics.store(ctrl, 4, 2);
    Atomics.add(ctrl, 1, 1);
    Atomics.notify(ctrl, 1);
  });
  const W = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const ex = new W.Instance(data.module, {
    env: {
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  }).exports as Record<string, (...a: number[]) => number> & { memory: { buffer: ArrayBuffer; grow(p: number): number } };
  let fns: ((...a: number[]) => number)[] = [];
  let mseIndex = -1;
  const traces = new Map<number, Float64Array>();
  let lay = null as WorkerLayout | null;
  let shared: Float32Array = new Float32Array(0);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    const kind = ctrl[2];
    if (kind === 3) return;
    try {
      if (kind === 2) {
        const m = receive(data.port)?.message as {
          names?: string[];
          memBytes?: number;
          layout?: WorkerLayout;
          shared?: SharedArrayBuffer;
          traceId: number;
          trace: Float64Array;
          fail?: string;
        };
        if (m.fail) throw new Error(m.fail);
        if (m.names) {
          const names = m.names;
          fns = names.map((name) => {
            const f = ex[name];
            if (typeof f !== 'function') throw new Error(`the kernel module has no export ${name}`);
            return f;
          });
          mseIndex = names.indexOf('mseGrad');
        }
        if (m.layout) {
          lay = m.layout;
          shared = new Float32Array(m.shared as SharedArrayBuffer);
          traces.clear();
        }
        const need = (m.memBytes ?? 0) - ex.memory.buffer.byteLength;
        if (need > 0) ex.memory.grow(Math.ceil(need / 65536));
        traces.set(m.traceId, m.trace);
      } else {
        const L = lay;
        const trace = traces.get(ctrl[5]);
        if (!L || !trace) throw new Error(`step before setup (trace ${ctrl[5]})`);
        const rows = ctrl[3];
        const f = new Float32Array(ex.memory.buffer);
        const P = L.paramCount;
        const cap = L.capacity;
        f.set(shared.subarray(0, P), L.paramPtr / 4);
        let o = 2 * P;
        f.set(shared.subarray(o, o + rows * L.D), L.xPtr / 4);
        o += cap * L.D;
        f.set(shared.subarray(o, o + rows * L.E), L.embPtr / 4);
        o += cap * L.E;
        f.set(shared.subarray(o, o + rows * L.D), L.targetPtr / 4);
        let loss = Number.NaN;
        for (let i = 0; i < trace.length; ) {
          const id = trace[i];
          const argc = trace[i + 1];
          const a = trace.subarray(i + 2, i + 2 + argc) as unknown as number[];
          i += 2 + argc;
          if (id === -1) f.copyWithin(a[0], a[1], a[2]);
          else if (id === mseIndex) loss = fns[id](a[0], a[1], a[2], a[3]);
          else fns[id](...Array.from(a));
        }
        shared.set(f.subarray(L.gradPtr / 4, L.gradPtr / 4 + P), P);
        lossOut[0] = loss;
      }
      ctrl[4] = 0;
    } catch (e) {
      ctrl[4] = 1;
      post(String((e as Error)?.stack ?? e));
    }
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
}

/** Records `net.forward(rows)` + `net.backward(rows)` as a replayable trace (no kernel runs). */
export function recordUnetStep(net: UnetNetwork, rows: number, names: string[]): Float64Array {
  const out: number[] = [];
  const idOf = (name: string): number => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return i;
  };
  const k = new Proxy(
    {},
    {
      get: (_t, name) => {
        if (typeof name !== 'string') return undefined;
        const id = idOf(name);
        return (...args: number[]) => {
          out.push(id, args.length, ...args);
          return 0;
        };
      },
    },
  );
  const f32 = new Proxy(
    {},
    {
      get: (_t, name) => {
        if (name === 'copyWithin') {
          return (target: number, start: number, end: number) => {
            out.push(-1, 3, target, start, end);
          };
        }
        throw new Error(`internal: the U-Net's forward/backward used f32.${String(name)}, which the thread trace cannot replay`);
      },
    },
  );
  const inst = net.inst as unknown as { k: unknown; f32: unknown };
  const real = { k: inst.k, f32: inst.f32 };
  inst.k = k;
  inst.f32 = f32;
  try {
    net.forward(rows);
    net.backward(rows);
  } finally {
    inst.k = real.k;
    inst.f32 = real.f32;
  }
  return Float64Array.from(out);
}

/** One worker: its thread, control block, port and what it was set up with. */
interface GradWorker {
  worker: NodeWorker;
  ctrl: Int32Array;
  loss: Float64Array;
  port: NodePort;
  shared: Float32Array;
  /** Capacity its layout was sent for (0: none yet). */
  capacity: number;
  /** Trace ids it holds. */
  traces: Set<number>;
  namesSent: number;
  rows: number;
}

/**
 * The persistent worker threads of one threaded U-Net trainer: created on first use, unref'd (an
 * idle pool never keeps the process alive), stopped by {@link terminate}.
 */
export class UnetGradWorkers {
  private readonly ws: GradWorker[] = [];
  private readonly names: string[] = [];
  /** Traces by row count, for the layout of {@link traceCapacity}. */
  private readonly traces = new Map<number, { id: number; trace: Float64Array }>();
  private traceCapacity = -1;
  private nextId = 1;
  private dead: string | null = null;
  /**
   * Where the calling thread's time went, summed over steps (ms): `send` copying weights and inputs
   * into the shared blocks, `wait` blocked on the workers after its own share, `fold` summing the
   * gradients. Why kept: the cost of the threads is what decides whether they pay (bench/unet-threads).
   */
  readonly profile = { steps: 0, send: 0, wait: 0, fold: 0 };

  /** `count` worker threads beside the calling thread. */
  constructor(
    private readonly net: UnetNetwork,
    private readonly count: number,
  ) {}

  private start(): void {
    const node = nodeBuiltins();
    if (!node) throw new Error('internal: U-Net worker threads outside Node');
    const src = `const { workerData, receiveMessageOnPort } = require('node:worker_threads');
(${unetGradWorker.toString()})(workerData, receiveMessageOnPort, (m) => workerData.port.postMessage(m), (f) => process.on('exit', f));`;
    for (let i = 0; i < this.count; i++) {
      const sab = new SharedArrayBuffer(CTRL_BYTES);
      const { port1, port2 } = new node.wt.MessageChannel();
      const worker = new node.wt.Worker(src, { eval: true, workerData: { module: kernelModule(), ctrl: sab, port: port2 }, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.ws.push({
        worker,
        ctrl: new Int32Array(sab),
        loss: new Float64Array(sab, 32, 1),
        port: port1,
        shared: new Float32Array(0),
        capacity: 0,
        traces: new Set(),
        namesSent: 0,
        rows: 0,
      });
    }
  }

  /** The shared block sections of worker w: weights, gradients, x, emb, target. */
  private layout(): WorkerLayout {
    const net = this.net as unknown as { xBuf: { ptr: number }; embBuf: { ptr: number } };
    return {
      paramPtr: this.net.paramPtr,
      gradPtr: this.net.gradPtr,
      paramCount: this.net.paramCount,
      xPtr: net.xBuf.ptr,
      embPtr: net.embBuf.ptr,
      targetPtr: this.net.targetPtr,
      D: this.net.dataDim,
      E: this.net.embedding.dim,
      capacity: this.net.capacity,
    };
  }

  /** Sends worker w what it lacks to run `rows` rows: names, layout and shared block, the trace. */
  private setup(w: GradWorker, rows: number, lay: WorkerLayout): void {
    const t = this.traceFor(rows);
    const fresh = w.capacity !== lay.capacity;
    if (!fresh && w.traces.has(t.id) && w.namesSent === this.names.length) return;
    const msg: Record<string, unknown> = { traceId: t.id, trace: t.trace, memBytes: this.net.inst.k.memory.buffer.byteLength, names: this.names.slice() };
    if (fresh) {
      const floats = 2 * lay.paramCount + lay.capacity * (2 * lay.D + lay.E);
      const shared = new SharedArrayBuffer(floats * 4);
      w.shared = new Float32Array(shared);
      w.capacity = lay.capacity;
      w.traces.clear();
      msg.layout = lay;
      msg.shared = shared;
    }
    w.port.postMessage(msg);
    this.command(w, 2);
    this.wait(w);
    w.traces.add(t.id);
    w.namesSent = this.names.length;
  }

  private traceFor(rows: number): { id: number; trace: Float64Array } {
    if (this.traceCapacity !== this.net.capacity) {
      this.traces.clear();
      this.traceCapacity = this.net.capacity;
    }
    let t = this.traces.get(rows);
    if (!t) {
      t = { id: this.nextId++, trace: recordUnetStep(this.net, rows, this.names) };
      this.traces.set(rows, t);
    }
    return t;
  }

  private command(w: GradWorker, kind: number): void {
    w.ctrl[KIND] = kind;
    Atomics.add(w.ctrl, CMD, 1);
    Atomics.notify(w.ctrl, CMD);
  }

  /** Blocks until worker w finished its command; throws its error. */
  private wait(w: GradWorker): void {
    const want = Atomics.load(w.ctrl, CMD);
    for (;;) {
      const done = Atomics.load(w.ctrl, DONE);
      if (done === want || w.ctrl[STATUS] === 2) break;
      Atomics.wait(w.ctrl, DONE, done);
    }
    const status = w.ctrl[STATUS];
    if (status === 0) return;
    const node = nodeBuiltins();
    const m = node?.wt.receiveMessageOnPort(w.port as never)?.message;
    this.dead = status === 2 ? 'a U-Net training worker thread exited' : `a U-Net training worker thread failed: ${String(m)}`;
    this.terminate();
    throw new Error(this.dead);
  }

  /**
   * Starts the workers' shares of a step: rows [from_i, from_i + rows_i) of the batch (x, its time
   * embedding, the target) and the current weights. The calling thread computes its own share,
   * then calls {@link finish}.
   */
  begin(shares: { from: number; rows: number }[], xt: Float32Array, t: Float32Array | number, target: Float32Array): void {
    if (this.dead) throw new Error(this.dead);
    if (this.ws.length === 0) this.start();
    const t0 = performance.now();
    const net = this.net;
    const lay = this.layout();
    const D = lay.D;
    const P = lay.paramCount;
    const params = net.inst.view(net.paramPtr, P);
    shares.forEach((s, i) => {
      const w = this.ws[i];
      this.setup(w, s.rows, lay);
      const f = w.shared;
      f.set(params, 0);
      let o = 2 * P;
      f.set(xt.subarray(s.from * D, (s.from + s.rows) * D), o);
      o += lay.capacity * D;
      net.embedding.write(f, o, t, s.rows, s.from);
      o += lay.capacity * lay.E;
      f.set(target.subarray(s.from * D, (s.from + s.rows) * D), o);
      w.ctrl[ROWS] = s.rows;
      w.ctrl[TRACE] = (this.traces.get(s.rows) as { id: number }).id;
      w.rows = s.rows;
      this.command(w, 1);
    });
    this.profile.steps++;
    this.profile.send += performance.now() - t0;
  }

  /**
   * Waits for the workers of the last {@link begin} and folds their gradients into the calling
   * thread's: g ← w₀·g + Σ wᵢ·gᵢ (wᵢ = rowsᵢ/n), with the same weights on the losses; returns the
   * batch loss.
   */
  finish(shares: number, ownLoss: number, ownWeight: number, n: number): number {
    const net = this.net;
    const P = net.paramCount;
    let loss = ownWeight * ownLoss;
    const t0 = performance.now();
    for (let i = 0; i < shares; i++) this.wait(this.ws[i]);
    const t1 = performance.now();
    this.profile.wait += t1 - t0;
    const g = net.inst.view(net.gradPtr, P);
    if (shares === 1) {
      const w = this.ws[0];
      const gw = w.shared.subarray(P, 2 * P);
      const s = w.rows / n;
      for (let j = 0; j < P; j++) g[j] = ownWeight * g[j] + s * gw[j];
      loss += s * w.loss[0];
    } else {
      for (let j = 0; j < P; j++) g[j] *= ownWeight;
      for (let i = 0; i < shares; i++) {
        const w = this.ws[i];
        const gw = w.shared.subarray(P, 2 * P);
        const s = w.rows / n;
        for (let j = 0; j < P; j++) g[j] += s * gw[j];
        loss += s * w.loss[0];
      }
    }
    this.profile.fold += performance.now() - t1;
    return loss;
  }

  /** Test hook: makes worker `i`'s next setup throw `message` inside the worker. */
  failNextSetup(i: number, message: string): void {
    if (this.ws.length === 0) this.start();
    const w = this.ws[i];
    w.port.postMessage({ fail: message, traceId: 0, trace: new Float64Array(0) });
    this.command(w, 2);
    this.wait(w);
  }

  /** Stops the threads (idempotent); the trainer stays usable on one thread only after a new pool. */
  terminate(): void {
    for (const w of this.ws.splice(0)) {
      w.ctrl[KIND] = 3;
      Atomics.add(w.ctrl, CMD, 1);
      Atomics.notify(w.ctrl, CMD);
      w.port.close();
      void w.worker.terminate();
    }
  }

  /** Whether the threads are running (for tests). */
  get running(): number {
    return this.ws.length;
  }
}
