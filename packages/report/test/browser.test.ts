/// <reference lib="dom" />
/**
 * The HTML report in real headless Chromium (playwright-core driving
 * Debian's `chromium`; `.ci/run` installs it where it can). Skips, saying
 * so in its name, where there is no Chromium.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, type ReportSummary } from "../src/report.ts";
import { fixtureCopy } from "./support/fixture.ts";

const CANDIDATES = [process.env.SHADOWLAB_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(
  (p): p is string => !!p,
);
const chromiumPath = CANDIDATES.find((p) => existsSync(p));
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const title = chromiumPath
  ? `the HTML report in headless Chromium (${chromiumPath})`
  : "the HTML report in headless Chromium (SKIPPED: no chromium found; apt-get install chromium, or set SHADOWLAB_CHROMIUM)";

describe.skipIf(!chromiumPath)(title, () => {
  let browser: Browser;
  let summary: ReportSummary;
  let url: string;

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: chromiumPath, args: ARGS, timeout: 120_000 });
    summary = await buildReport(fixtureCopy(), { png: false });
    url = pathToFileURL(summary.html).href;
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(width = 1280) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const problems: string[] = [];
    const outside: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    // Only the page itself may be fetched; anything else is recorded and refused.
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u === url || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
      outside.push(u);
      return route.abort();
    });
    await page.goto(url);
    await page.waitForSelector("body[data-charts-ready=true]", { timeout: 120_000 });
    return { page, problems, outside };
  }

  it("draws every chart, with no console error and no request leaving the page", async () => {
    const { page, problems, outside } = await open();
    const charts = await page.$$eval(".vis", (els) =>
      els.map((el) => {
        const svg = el.querySelector("svg");
        const box = svg?.getBoundingClientRect();
        return {
          name: (el as HTMLElement).dataset.chart,
          rendered: (el as HTMLElement).dataset.rendered,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg ? svg.querySelectorAll("path, line, text").length : 0,
        };
      }),
    );
    expect(charts.map((c) => c.name)).toEqual(summary.charts.map((c) => c.name));
    for (const c of charts) {
      expect(c.rendered, c.name).toBe("true");
      expect(c.width, c.name).toBeGreaterThan(200);
      expect(c.height, c.name).toBeGreaterThan(100);
      expect(c.marks, c.name).toBeGreaterThan(20);
    }
    // a tooltip handler is installed: hovering a bar shows vega-tooltip's box
    const bar = page.locator("#vis-slowdown svg path[aria-roledescription='bar']").first();
    await bar.hover();
    await page.waitForSelector("#vg-tooltip-element.visible", { timeout: 60_000 });
    expect(await page.textContent("#vg-tooltip-element")).toMatch(/slowdown/);
    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  });

  it("shows the metadata and the failed cell, and sorts the cells table on a header click", async () => {
    const { page, problems } = await open();
    expect(await page.textContent("dl.meta")).toContain("Fixture CPU @ 3.0GHz");
    expect(await page.textContent("#failed")).toContain("output-mismatch");
    const column = async (name: string) => {
      const idx = await page.$$eval(
        "#cells-table thead th",
        (ths, n) => ths.findIndex((t) => t.textContent === n),
        name,
      );
      expect(idx).toBeGreaterThanOrEqual(0);
      return page.$$eval(
        "#cells-table tbody tr",
        (trs, i) => trs.map((tr) => (tr as HTMLTableRowElement).cells[i as number].dataset.sort ?? ""),
        idx,
      );
    };
    const header = page.locator("#cells-table thead th", { hasText: /^slowdown/ });
    const before = (await column("slowdown (×)")).map(Number);
    expect(before).not.toEqual([...before].sort((a, b) => a - b));
    await header.click();
    expect(await header.getAttribute("aria-sort")).toBe("ascending");
    const asc = (await column("slowdown (×)")).map(Number);
    expect(asc).toEqual([...before].sort((a, b) => a - b));
    await header.click();
    expect(await header.getAttribute("aria-sort")).toBe("descending");
    const desc = (await column("slowdown (×)")).map(Number);
    expect(desc).toEqual([...before].sort((a, b) => b - a));
    // text columns sort too
    await page.locator("#cells-table thead th", { hasText: /^strategy$/ }).click();
    const strategies = await column("strategy");
    expect(strategies).toEqual([...strategies].sort());
    expect(problems).toEqual([]);
    await page.close();
  });

  it("reads at 800 px: nothing overflows the page, no chart or legend is cut", async () => {
    const { page, problems } = await open(800);
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: document.documentElement.clientWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    const boxes = await page.$$eval(".vis", (els) =>
      els.map((el) => {
        const vis = el.getBoundingClientRect();
        const svg = el.querySelector("svg")!.getBoundingClientRect();
        const legends = Array.from(el.querySelectorAll(".role-legend")).map((l) => l.getBoundingClientRect());
        return {
          name: (el as HTMLElement).dataset.chart,
          visRight: vis.right,
          svgRight: svg.right,
          legendRight: Math.max(0, ...legends.map((l) => l.right)),
          legends: legends.length,
        };
      }),
    );
    for (const b of boxes) {
      expect(b.svgRight, `${b.name} is wider than its box`).toBeLessThanOrEqual(b.visRight + 0.5);
      expect(b.svgRight, `${b.name} is wider than the page`).toBeLessThanOrEqual(widths.viewport);
      expect(b.legendRight, `${b.name}'s legend is cut`).toBeLessThanOrEqual(b.svgRight + 0.5);
    }
    expect(boxes.filter((b) => b.legends > 0).length).toBeGreaterThan(3);
    expect(await page.textContent("#headline")).toMatch(/costs least/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
