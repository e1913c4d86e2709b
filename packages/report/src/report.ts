/**
 * `buildReport(dir)`: results/<suite>/results.{json,csv} -> charts/<name>.vl.json,
 * .svg and .png, and report.html, all beside the results. It never runs the
 * machine.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderHtml } from "./html.ts";
import { renderPng, renderSvg } from "./render.ts";
import { readResults } from "./results.ts";
import { buildCharts } from "./specs.ts";

export interface ReportOptions {
  /** Where report.html and charts/ go (default: the results directory itself). */
  outDir?: string;
  /** Write .svg files (default true; .vl.json is always written). */
  svg?: boolean;
  /** Write .png files (default true). */
  png?: boolean;
  /** PNG size as a multiple of the SVG's (default 2). */
  pngScale?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface ChartFiles {
  name: string;
  title: string;
  files: { path: string; bytes: number }[];
}

export interface ReportSummary {
  suite: string;
  dir: string;
  html: string;
  htmlBytes: number;
  cells: number;
  failed: number;
  charts: ChartFiles[];
  warnings: string[];
}

function writeAtomic(path: string, data: string | Buffer): number {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
  return typeof data === "string" ? Buffer.byteLength(data) : data.length;
}

export async function buildReport(dir: string, opts: ReportOptions = {}): Promise<ReportSummary> {
  const results = readResults(dir);
  const out = resolve(opts.outDir ?? dir);
  const chartDir = join(out, "charts");
  mkdirSync(chartDir, { recursive: true });
  const charts = buildCharts(results);
  const written: ChartFiles[] = [];
  for (const c of charts) {
    const files: ChartFiles["files"] = [];
    const put = (ext: string, data: string | Buffer) => {
      const path = join(chartDir, `${c.name}${ext}`);
      files.push({ path, bytes: writeAtomic(path, data) });
    };
    put(".vl.json", `${JSON.stringify(c.spec, null, 1)}\n`);
    if (opts.svg !== false || opts.png !== false) {
      const svg = await renderSvg(c.spec, c.name);
      if (opts.svg !== false) put(".svg", svg);
      if (opts.png !== false) put(".png", renderPng(svg, { scale: opts.pngScale }).png);
    }
    written.push({ name: c.name, title: c.title, files });
    opts.log?.(
      `  charts/${c.name}.{${files.map((f) => f.path.slice(chartDir.length + c.name.length + 2)).join(",")}}`,
    );
  }
  const html = join(out, "report.html");
  const htmlBytes = writeAtomic(html, renderHtml(results, charts));
  return {
    suite: results.suite,
    dir: out,
    html,
    htmlBytes,
    cells: results.rows.length,
    failed: results.rows.filter((r) => !r.ok).length,
    charts: written,
    warnings: results.warnings,
  };
}
