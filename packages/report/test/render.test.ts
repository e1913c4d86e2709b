import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { renderPng, renderSvg } from "../src/render.ts";
import { buildReport, type ReportSummary } from "../src/report.ts";
import { readResults } from "../src/results.ts";
import { buildCharts } from "../src/specs.ts";
import { FIXTURE, fixtureCopy } from "./support/fixture.ts";

/** A minimal PNG decoder (8-bit RGB/RGBA, not interlaced: what resvg writes), so the files themselves are checked. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let p = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString("latin1", p + 4, p + 8);
    const body = buf.subarray(p + 8, p + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect(body[8]).toBe(8);
      colorType = body[9];
      expect(body[12]).toBe(0);
    } else if (type === "IDAT") idat.push(body);
    p += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  expect(bpp).toBeGreaterThan(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const pp = a + b - c;
        const pa = Math.abs(pp - a);
        const pb = Math.abs(pp - b);
        const pc = Math.abs(pp - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out.set(
        [cur[x * bpp], cur[x * bpp + 1], cur[x * bpp + 2], bpp === 4 ? cur[x * bpp + 3] : 255],
        (y * width + x) * 4,
      );
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

/** Dark pixels (text and marks) in a rectangle. */
function darkPixels(
  img: { width: number; rgba: Uint8Array },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number {
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i] < 100 && img.rgba[i + 1] < 100 && img.rgba[i + 2] < 100) n++;
    }
  return n;
}

const svgSize = (svg: string) => {
  const m = /<svg[^>]*width="(\d+(?:\.\d+)?)"[^>]*height="(\d+(?:\.\d+)?)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
};

describe("SVG and PNG charts", () => {
  let summary: ReportSummary;
  beforeAll(async () => {
    summary = await buildReport(fixtureCopy());
  });

  it("writes a .vl.json, an .svg and a .png for every chart", () => {
    expect(summary.charts).toHaveLength(7);
    for (const c of summary.charts) {
      expect(c.files.map((f) => f.path.slice(f.path.lastIndexOf(c.name) + c.name.length))).toEqual([
        ".vl.json",
        ".svg",
        ".png",
      ]);
      for (const f of c.files) expect(existsSync(f.path)).toBe(true);
      const spec = JSON.parse(readFileSync(c.files[0].path, "utf8"));
      expect(spec.data.values.length).toBeGreaterThan(0);
    }
  });

  it("SVGs are real charts: a size, the title, axis titles and legend entries as text", () => {
    for (const c of summary.charts) {
      const svg = readFileSync(c.files[1].path, "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      const { width, height } = svgSize(svg);
      expect(width).toBeGreaterThan(300);
      expect(height).toBeGreaterThan(200);
      expect(svg).toContain(`>${c.title.split(":")[0]}`.slice(0, 8));
      expect((svg.match(/<text/g) ?? []).length).toBeGreaterThan(10);
    }
    const slowdown = readFileSync(summary.charts.find((c) => c.name === "slowdown")!.files[1].path, "utf8");
    expect(slowdown).toContain("slowdown over native (×, modeled cycles)");
    for (const s of ["native", "shadow-ondemand", "shadow-proactive", "shadow-tagged"])
      expect(slowdown).toContain(`>${s}</text>`);
  });

  it("PNGs have the SVG's size times two and ink in the title, axes and plot", () => {
    for (const c of summary.charts) {
      const svg = readFileSync(c.files[1].path, "utf8");
      const { width, height } = svgSize(svg);
      const png = decodePng(readFileSync(c.files[2].path));
      expect(png.width).toBe(Math.round(width * 2));
      expect(png.height).toBe(Math.round(height * 2));
      // the title: the top-left band holds dark text
      expect(darkPixels(png, 0, 0, Math.min(png.width, 900), 60)).toBeGreaterThan(500);
      // not a blank picture: many colours
      const colours = new Set<number>();
      for (let i = 0; i < png.rgba.length; i += 4 * 7)
        colours.add((png.rgba[i] << 16) | (png.rgba[i + 1] << 8) | png.rgba[i + 2]);
      expect(colours.size).toBeGreaterThan(20);
    }
  });

  it("text comes from the bundled font: without it resvg draws no text at all", async () => {
    const chart = buildCharts(readResults(FIXTURE)).find((c) => c.name === "host-mips")!;
    const svg = await renderSvg(chart.spec, chart.name);
    const withFont = renderPng(svg);
    const without = renderPng(svg, { fontFiles: [] });
    const img = (r: ReturnType<typeof renderPng>) => ({ width: r.width, rgba: new Uint8Array(r.pixels) });
    const titleWith = darkPixels(img(withFont), 0, 0, withFont.width, 60);
    const titleWithout = darkPixels(img(without), 0, 0, without.width, 60);
    expect(titleWith).toBeGreaterThan(1000);
    expect(titleWithout).toBe(0);
    expect(withFont.png.length).toBeGreaterThan(without.png.length);
  });

  it("puts report.html beside the charts", () => {
    expect(summary.html).toBe(join(summary.dir, "report.html"));
    expect(summary.htmlBytes).toBeGreaterThan(500_000);
  });
});
