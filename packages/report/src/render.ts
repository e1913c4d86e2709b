/**
 * Vega-Lite spec -> Vega -> SVG (vega's headless View, renderer "none") ->
 * PNG (resvg). resvg draws no text at all when it finds no font, and a bare
 * machine has none: the font comes from npm (DejaVu Sans, dejavu-fonts-ttf)
 * and system fonts are never consulted, so a chart looks the same anywhere.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { type FontMetrics, loadFontMetrics } from "./font-metrics.ts";
import type { VlSpec } from "./specs.ts";

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");

/** The TTF files handed to resvg. */
export const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"].map((f) =>
  join(FONT_DIR, f),
);
export const FONT_FAMILY = "DejaVu Sans";

let metrics: { regular: FontMetrics; bold: FontMetrics } | undefined;

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

/** Vega measures text with the PNG's font (it has no canvas here to ask). */
function useFontMetrics(): void {
  if (metrics) return;
  metrics = { regular: loadFontMetrics(FONT_FILES[0]), bold: loadFontMetrics(FONT_FILES[1]) };
  const m = metrics;
  const tm = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } })
    .textMetrics;
  tm.width = (item, text) => {
    const t = text == null ? "" : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const w = item.fontWeight;
    const bold = w === "bold" || w === "bolder" || (typeof w === "number" && w >= 600) || Number(w) >= 600;
    // 4% to spare: resvg places glyphs a little wider than their bare advances.
    const width = (bold ? m.bold : m.regular).width(t) * size * 1.04;
    return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

export class RenderError extends Error {
  override name = "RenderError";
}

/** Vega-Lite -> Vega, with vega-lite's warnings collected instead of printed. */
export function toVega(spec: VlSpec, name = "chart"): { vega: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => {
      warnings.push(a.map(String).join(" "));
      return logger;
    },
    warn: (...a: unknown[]) => {
      warnings.push(a.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  try {
    const out = compile(spec as unknown as TopLevelSpec, { logger: logger as never });
    return { vega: out.spec as vega.Spec, warnings };
  } catch (e) {
    throw new RenderError(`chart "${name}": vega-lite could not compile the spec: ${(e as Error).message}`);
  }
}

/** The chart as an SVG document. */
export async function renderSvg(spec: VlSpec, name = "chart"): Promise<string> {
  useFontMetrics();
  const { vega: v } = toVega(spec, name);
  const view = new vega.View(vega.parse(v), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } catch (e) {
    throw new RenderError(`chart "${name}": vega could not render it: ${(e as Error).message}`);
  } finally {
    view.finalize();
  }
}

export interface RenderedPng {
  png: Buffer;
  width: number;
  height: number;
  /** RGBA, row-major. */
  pixels: Buffer;
}

/** An SVG as a PNG at `scale` (2 = twice the SVG's size, crisp on high-density screens). */
export function renderPng(svg: string, opts: { scale?: number; fontFiles?: string[] } = {}): RenderedPng {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: opts.scale ?? 2 },
    background: "white",
    font: {
      fontFiles: opts.fontFiles ?? FONT_FILES,
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      serifFamily: FONT_FAMILY,
      monospaceFamily: FONT_FAMILY,
    },
    shapeRendering: 2,
    textRendering: 1,
  });
  const img = resvg.render();
  return { png: img.asPng(), width: img.width, height: img.height, pixels: img.pixels };
}
