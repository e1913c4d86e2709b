/**
 * Sweeps and colours as a reader expects them: a sweep over TLB size draws
 * lines (a fully associative TLB's ways move with its entries, so they are
 * one dimension, not a panel per point and not a chart "against tlbWays"); a
 * sweep with two values still gets a chart; each strategy keeps its colour
 * whatever strategies a suite adds.
 */
import { describe, expect, it } from "vitest";
import { findSweeps } from "../src/derive.ts";
import { readResults } from "../src/results.ts";
import { buildCharts, NATIVE_COLOR, STRATEGY_COLORS, strategyColor, strategyColors } from "../src/specs.ts";
import { fixtureCopy } from "./support/fixture.ts";

// biome-ignore lint/suspicious/noExplicitAny: rows of the fixture are plain JSON
type Row = Record<string, any>;

/** The fixture's ctxswitch rows at the given process counts, each on TLBs of the given sizes (fully associative). */
function tlbSweep(processes: number[], entries: number[]) {
  return readResults(
    fixtureCopy((json) => {
      const base = json.rows.filter(
        (r: Row) => r.workload === "ctxswitch" && processes.includes(r.param.processes) && r.status === "ok",
      );
      json.rows = entries.flatMap((n) =>
        base.map((r: Row) => ({
          ...r,
          cell: `${r.cell}/tlb${n}`,
          machine: `tlb${n}w${n}-lru-asid-ipt10-ram32`,
          config: { ...r.config, tlbEntries: n, tlbWays: n },
        })),
      );
      json.rows.forEach((r: Row, i: number) => {
        r.index = i;
      });
    }),
  );
}

describe("sweeps", () => {
  it("treats tlbWays of a fully associative TLB as tlbEntries: one sweep, drawn as lines", () => {
    const results = tlbSweep([2], [8, 16, 32, 64]);
    const sweeps = findSweeps(results);
    expect(sweeps.map((s) => [s.name, s.values, s.others])).toEqual([["tlbEntries", [8, 16, 32, 64], []]]);
    const charts = buildCharts(results).map((c) => c.name);
    expect(charts).toContain("scaling-ctxswitch-tlbEntries-slowdown");
    expect(charts.some((n) => n.includes("tlbWays"))).toBe(false);
    const chart = buildCharts(results).find((c) => c.name === "scaling-ctxswitch-tlbEntries-tlb-miss")!;
    // biome-ignore lint/suspicious/noExplicitAny: a Vega-Lite spec is plain JSON
    const values = (chart.spec.data as any).values as Row[];
    // One panel, and every strategy has a point at every size: lines, not dots.
    expect(new Set(values.map((v) => v.panel))).toEqual(new Set(["all cells"]));
    for (const s of ["native", "shadow-ondemand", "shadow-tagged"])
      expect(values.filter((v) => v.strategy === s).map((v) => v.x)).toEqual([8, 16, 32, 64]);
  });

  it("keeps tlbWays out of the panels of another sweep", () => {
    const sweeps = findSweeps(tlbSweep([2, 4, 8], [16, 64]));
    expect(sweeps.map((s) => [s.name, s.others])).toEqual([
      ["tlbEntries", ["param.processes"]],
      ["processes", ["config.tlbEntries"]],
    ]);
  });

  it("charts a sweep of two values", () => {
    const results = tlbSweep([2, 4], [64]);
    expect(findSweeps(results).map((s) => [s.name, s.values])).toEqual([["processes", [2, 4]]]);
    expect(buildCharts(results).map((c) => c.name)).toContain("scaling-ctxswitch-processes-slowdown");
  });
});

describe("strategy colours", () => {
  it("are fixed by name: adding strategies changes no colour already given", () => {
    const before = strategyColors(["native", "shadow-ondemand", "shadow-tagged"]);
    const after = strategyColors(["native", "agile", "nested", "shadow-ondemand", "shadow-tagged", "zz-new"]);
    for (const [i, s] of before.domain.entries())
      expect(after.range[after.domain.indexOf(s)]).toBe(before.range[i]);
    expect(strategyColor("native")).toBe(NATIVE_COLOR);
  });

  it("gives a name the table does not know a stable colour that no known strategy has", () => {
    const known = new Set(Object.values(STRATEGY_COLORS));
    for (const name of ["my-strategy", "shadow-lazy", "x"]) {
      expect(strategyColor(name)).toBe(strategyColor(name));
      expect(known.has(strategyColor(name))).toBe(false);
    }
  });
});
