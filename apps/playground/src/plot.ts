/**
 * The page's figures on a plain canvas (no chart library, nothing to fetch): the loss curve on a log
 * axis, an overlaid histogram of generated against reference data for 1-D sets, a scatter for 2-D.
 */

/** Reference data in grey, generated in the reporters' first series colour. */
const REFERENCE = 'rgba(120, 120, 120, 0.55)';
const GENERATED = 'rgba(31, 119, 180, 0.75)';

/** A canvas sized to its CSS box at the device's pixel ratio, with a cleared 2-D context. */
function prepare(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300;
  const h = canvas.clientHeight || 200;
  canvas.width = Math.round(w * ratio);
  canvas.height = Math.round(h * ratio);
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, sans-serif';
  return { g, w, h };
}

/** Axis tick label with at most 3 significant digits. */
const tick = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : `${Number(v.toPrecision(3))}`);

/** The plotting area inside a canvas's margins. */
interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The default plotting area: the canvas less the margins for tick labels and the caption. */
const plotBox = (w: number, h: number): Box => ({ left: 40, top: 8, width: w - 48, height: h - 44 });

/** Draws the plotting area's outline, its x and y ranges at its own edges, and the caption under it. */
function frame(g: CanvasRenderingContext2D, w: number, h: number, x: [number, number], y: [number, number], title: string, box: Box = plotBox(w, h)): void {
  g.strokeStyle = '#bbb';
  g.strokeRect(box.left, box.top, box.width, box.height);
  g.fillStyle = '#444';
  const below = box.top + box.height + 14;
  g.fillText(tick(x[0]), box.left, below);
  g.textAlign = 'right';
  g.fillText(tick(x[1]), box.left + box.width, below);
  g.fillText(tick(y[1]), box.left - 3, box.top + 10);
  g.fillText(tick(y[0]), box.left - 3, box.top + box.height - 2);
  g.textAlign = 'center';
  // A caption wider than the canvas (a phone) is set smaller rather than cut off at both ends.
  for (let size = 11; size > 8 && g.measureText(title).width > w - 8; size--) g.font = `${size - 1}px system-ui, sans-serif`;
  g.fillText(title, w / 2, h - 6);
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'left';
}

/** The loss per epoch against the step, log-scaled (the loss spans decades early on). */
export function drawLoss(canvas: HTMLCanvasElement, points: readonly { step: number; loss: number }[], totalSteps: number): void {
  const { g, w, h } = prepare(canvas);
  const finite = points.filter((p) => Number.isFinite(p.loss) && p.loss > 0);
  if (finite.length === 0) {
    frame(g, w, h, [0, totalSteps], [0, 1], 'loss (waiting for the first epoch)');
    return;
  }
  const logs = finite.map((p) => Math.log10(p.loss));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs, lo + 1e-3);
  frame(g, w, h, [0, totalSteps], [10 ** lo, 10 ** hi], 'training loss (log) vs step');
  g.strokeStyle = GENERATED;
  g.lineWidth = 1.5;
  g.beginPath();
  finite.forEach((p, i) => {
    const px = 40 + ((w - 48) * p.step) / Math.max(1, totalSteps);
    const py = 8 + (h - 44) * (1 - (logs[i] - lo) / (hi - lo));
    if (i === 0) g.moveTo(px, py);
    else g.lineTo(px, py);
  });
  g.stroke();
}

/** Overlaid density histograms of 1-D reference and generated samples on shared bins. */
function drawHistogram(canvas: HTMLCanvasElement, samples: Float32Array, reference: Float32Array, caption: string): void {
  const { g, w, h } = prepare(canvas);
  const all = [...reference, ...samples].filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all, lo + 1e-6);
  const bins = 60;
  const count = (xs: Float32Array) => {
    const c = new Float64Array(bins);
    for (const v of xs) if (Number.isFinite(v)) c[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))] += 1 / xs.length;
    return c;
  };
  const ref = count(reference);
  const gen = count(samples);
  const top = Math.max(...ref, ...gen, 1e-9);
  frame(g, w, h, [lo, hi], [0, top], caption);
  const bw = (w - 48) / bins;
  for (const [c, colour] of [
    [ref, REFERENCE],
    [gen, GENERATED],
  ] as const) {
    g.fillStyle = colour;
    c.forEach((v, i) => {
      const bh = ((h - 44) * v) / top;
      g.fillRect(40 + i * bw, 8 + (h - 44) - bh, Math.max(1, bw - 1), bh);
    });
  }
}

/** Reference and generated 2-D points on shared, equal-range axes. */
function drawScatter(canvas: HTMLCanvasElement, samples: Float32Array, reference: Float32Array, caption: string): void {
  const { g, w, h } = prepare(canvas);
  // Axes follow the data (padded by a quarter of its span), so a half-trained model's stray points fall off the edge instead of shrinking the data to a dot.
  const ref = reference.filter(Number.isFinite);
  const span = Math.max(Math.max(...ref) - Math.min(...ref), 1e-6);
  const lo = Math.min(...ref) - span / 4;
  const hi = Math.max(...ref) + span / 4;
  // Stray samples are counted in the caption, so a metric far above its floor is explained by what the view hides.
  let outside = 0;
  for (let i = 0; i + 1 < samples.length; i += 2) {
    const [x, y] = [samples[i], samples[i + 1]];
    if (!(x >= lo && x <= hi && y >= lo && y <= hi)) outside++;
  }
  // A square plotting area (equal scales on both axes), centred, with its ranges at its own edges.
  const side = Math.min(w - 48, h - 44);
  const x0 = 40 + (w - 48 - side) / 2;
  frame(g, w, h, [lo, hi], [lo, hi], outside > 0 ? `${caption}; ${outside} off view` : caption, { left: x0, top: 8, width: side, height: side });
  for (const [xs, colour] of [
    [reference, REFERENCE],
    [samples, GENERATED],
  ] as const) {
    g.fillStyle = colour;
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const px = x0 + (side * (xs[i] - lo)) / (hi - lo);
      const py = 8 + side * (1 - (xs[i + 1] - lo) / (hi - lo));
      if (px >= x0 && px <= x0 + side && py >= 8 && py <= 8 + side) g.fillRect(px - 1, py - 1, 2.5, 2.5);
    }
  }
}

/** The samples figure for the data's dimension: a histogram (1-D), a scatter (2-D), else a note. */
export function drawSamples(canvas: HTMLCanvasElement, samples: Float32Array, reference: Float32Array, shape: readonly number[], caption: string): void {
  const dim = shape.reduce((a, b) => a * b, 1);
  if (dim === 1) drawHistogram(canvas, samples, reference, caption);
  else if (dim === 2) drawScatter(canvas, samples, reference, caption);
  else {
    const { g, w, h } = prepare(canvas);
    g.fillText(`${dim}-D samples: no figure in the playground yet`, 12, h / 2);
    void w;
  }
}

/** Half-width of the square the user draws points in (data units). */
export const DRAW_RANGE = 3;

/** The points drawn so far, on a square of side 2·DRAW_RANGE with light grid lines at the integers. */
export function drawPoints(canvas: HTMLCanvasElement, points: readonly (readonly [number, number])[]): void {
  const { g, w, h } = prepare(canvas);
  const px = (x: number) => ((x + DRAW_RANGE) / (2 * DRAW_RANGE)) * w;
  const py = (y: number) => ((DRAW_RANGE - y) / (2 * DRAW_RANGE)) * h;
  g.strokeStyle = '#eee';
  for (let v = -DRAW_RANGE + 1; v < DRAW_RANGE; v++) {
    g.beginPath();
    g.moveTo(px(v), 0);
    g.lineTo(px(v), h);
    g.moveTo(0, py(v));
    g.lineTo(w, py(v));
    g.stroke();
  }
  g.fillStyle = GENERATED;
  for (const [x, y] of points) {
    g.beginPath();
    g.arc(px(x), py(y), 2.5, 0, 2 * Math.PI);
    g.fill();
  }
}
