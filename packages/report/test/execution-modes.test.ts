/**
 * Cells of the hw execution mode are their own series: a strategy that ran in
 * both modes must never be averaged or drawn as one.
 */
import { describe, expect, it } from "vitest";
import { type CellRow, normalizeRow } from "../src/results.ts";
import { strategyColor } from "../src/specs.ts";

function row(strategy: string, mode: string): CellRow {
  const r = normalizeRow(
    { index: 0, workload: "ctxswitch", strategy, mode, params: "pages=4", machine: "m", status: "ok" },
    0,
  );
  if (typeof r === "string") throw new Error(r);
  return r;
}

describe("execution modes in the report", () => {
  it("names a hw-mode cell strategy@hw and keeps trap-mode and native names", () => {
    expect(row("shadow-tagged", "hw").strategy).toBe("shadow-tagged@hw");
    expect(row("shadow-tagged", "trap").strategy).toBe("shadow-tagged");
    expect(row("native", "native").strategy).toBe("native");
    expect(row("shadow-tagged", "").strategy).toBe("shadow-tagged");
  });

  it("records the mode in the cell's configuration, and none for native", () => {
    expect(row("nested", "hw").config.mode).toBe("hw");
    expect(row("native", "native").config.mode).toBeUndefined();
  });

  it("gives the two modes of one strategy different fixed colours", () => {
    expect(strategyColor("shadow-ondemand@hw")).not.toBe(strategyColor("shadow-ondemand"));
    expect(strategyColor("nested@hw")).toBe(strategyColor("nested"));
  });
});
