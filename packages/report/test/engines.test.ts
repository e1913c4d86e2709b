/**
 * Cells of several engines in one results file are separate series: each
 * engine but jit is named `strategy~engine` (native included, still a
 * baseline), so no chart mixes the host times of two engines; a file of one
 * engine keeps its names; rows without an engine column read as interp.
 */
import { describe, expect, it } from "vitest";
import { isNative } from "../src/derive.ts";
import { renderHtml } from "../src/html.ts";
import { type CellRow, normalizeRow, orderStrategies, readResults, separateEngines } from "../src/results.ts";
import { fixtureCopy } from "./support/fixture.ts";

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

  it("reads a file written before engines existed as interp, names unchanged, and the page says so", () => {
    const r = readResults(
      fixtureCopy((j) => {
        for (const row of j.rows) delete row.engine;
      }),
    );
    expect(new Set(r.rows.map((x) => x.config.engine))).toEqual(new Set(["interp"]));
    expect(r.strategies.filter((s) => s.includes("~"))).toEqual([]);
    expect(renderHtml(r, [])).toContain("<dt>engines</dt><dd>interp</dd>");
  });

  it("draws a file of both engines as separate series and names both on the page", () => {
    const r = readResults(
      fixtureCopy((j) => {
        const interp = j.rows.map((row, i) => ({
          ...row,
          cell: `${row.cell}~interp`,
          index: j.rows.length + i,
          engine: "interp",
        }));
        for (const row of j.rows) row.engine = "jit";
        j.rows.push(...interp);
      }),
    );
    const plain = r.strategies.filter((s) => !s.endsWith("~interp"));
    expect(plain.length).toBeGreaterThan(1);
    expect(r.strategies).toEqual(orderStrategies([...plain, ...plain.map((s) => `${s}~interp`)]));
    expect(renderHtml(r, [])).toContain("<dt>engines</dt><dd>jit, interp</dd>");
  });
});
