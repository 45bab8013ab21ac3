/**
 * The one figure pipeline every plotting reporter shares: a Vega-Lite spec is compiled to Vega,
 * rendered headless to SVG, and rasterised to PNG with resvg using the bundled DejaVu Sans font, so a
 * figure looks the same on every machine (no system fonts, browser or canvas needed). Node-only
 * (resvg is a native addon, the fonts are files); the specs themselves are pure (figure.ts, *-spec.ts).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type FigureSpec, withFigureConfig } from './figure.js';

export { type FigureSpec, SERIES_COLORS } from './figure.js';

const require = createRequire(import.meta.url);

/** Font files shipped by the `dejavu-fonts-ttf` package: rendering never depends on what the OS has installed. */
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(FONT_DIR, f));

/**
 * The rendering libraries, loaded on first use: importing this package (e.g. for `diffusionlab list`)
 * stays fast, and runs without figure reporters never load Vega.
 */
let libs: Promise<{ vega: typeof import('vega'); vl: typeof import('vega-lite'); Resvg: typeof import('@resvg/resvg-js').Resvg }> | undefined;
function loadLibs() {
  libs ??= Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).then(([vega, vl, resvg]) => ({
    vega,
    vl,
    Resvg: resvg.Resvg,
  }));
  return libs;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string (headless, no DOM). */
export async function renderSvg(spec: FigureSpec): Promise<string> {
  const { vega, vl } = await loadLibs();
  const vgSpec = vl.compile(withFigureConfig(spec)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG string to PNG bytes at `scale`× (2 gives crisp figures on high-density screens). */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await loadLibs();
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Spec → PNG in one call: what figure reporters use. */
export async function renderPng(spec: FigureSpec, scale = 2): Promise<Buffer> {
  return await svgToPng(await renderSvg(spec), scale);
}
