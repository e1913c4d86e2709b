/**
 * Cells of several engines in one results file are separate series: each
 * engine but jit is named `strategy~engine` (native included, still a
 * baseline), so no chart mixes the host times of two engines; a file of one
 * engine keeps its names; rows without an engine column read as interp.
 */
import { describe, expect, it } from "vitest";
import { isNative } from "../src/derive.ts";
import { type CellRow, normalizeRow, orderStrategies, separateEngines } from "../src/results.ts";

function row(strategy: string, engine: string | undefined, mode = strategy === "native" ? "native" : "trap") {
  const flat: Record<string, unknown> = {
    index: 0,
    workload: "ctxswitch",
    strategy,
    mode,
    params: "pages=4",
    machine: "m",
    status: "ok",
  };
  if (engine !== undefined) flat.engine = engine;
  const r = normalizeRow(flat, 0);
  if (typeof r === "string") throw new Error(r);
  return r;
}

const names = (rows: CellRow[]) => rows.map((r) => r.strategy);

describe("engines in the report", () => {
  it("records the engine in the cell's configuration; a row without one is interp", () => {
    expect(row("shadow-tagged", "jit").config.engine).toBe("jit");
    expect(row("shadow-tagged", "interp").config.engine).toBe("interp");
    expect(row("shadow-tagged", undefined).config.engine).toBe("interp");
    expect(row("native", "").config.engine).toBe("interp");
  });

  it("keeps the names of a file of one engine, old or new", () => {
    const jit = [row("native", "jit"), row("shadow-tagged", "jit"), row("shadow-tagged", "jit", "hw")];
    expect(names(separateEngines(jit))).toEqual(["native", "shadow-tagged", "shadow-tagged@hw"]);
    const old = [row("native", undefined), row("shadow-tagged", undefined)];
    expect(names(separateEngines(old))).toEqual(["native", "shadow-tagged"]);
  });

  it("names every non-jit cell of a mixed file strategy~engine; native~interp is still native", () => {
    const mixed = separateEngines([
      row("native", "jit"),
      row("shadow-tagged", "jit"),
      row("native", "interp"),
      row("shadow-tagged", "interp"),
      row("shadow-tagged", "interp", "hw"),
      row("shadow-ondemand", undefined),
    ]);
    expect(names(mixed)).toEqual([
      "native",
      "shadow-tagged",
      "native~interp",
      "shadow-tagged~interp",
      "shadow-tagged@hw~interp",
      "shadow-ondemand~interp",
    ]);
    expect(mixed.filter(isNative).map((r) => r.strategy)).toEqual(["native", "native~interp"]);
    expect(orderStrategies(names(mixed))).toEqual([
      "native",
      "native~interp",
      "shadow-ondemand~interp",
      "shadow-tagged",
      "shadow-tagged@hw~interp",
      "shadow-tagged~interp",
    ]);
  });
});
