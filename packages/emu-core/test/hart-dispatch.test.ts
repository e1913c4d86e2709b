import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OP_ILLEGAL, TABLE } from "../src/isa/table.ts";

// The interpreter switches on literal op ids (so V8 builds a jump table);
// each case carries the mnemonic as a comment. This keeps the two in step
// with the ISA table, whose row order defines the ids.
describe("hart dispatch", () => {
  const source = readFileSync(new URL("../src/hart.ts", import.meta.url), "utf8");
  const run = source.slice(source.indexOf("  run(budget: number)"));
  const cases = [...run.matchAll(/case (\d+): (?:\{\s*)?\/\/ ([a-z.]+)/g)].map(
    (m) => [Number(m[1]), m[2]] as const,
  );

  it("names every case after the table row with that op id", () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const [op, name] of cases) expect(TABLE[op - 1]?.name, `case ${op}`).toBe(name);
  });

  it("handles every row of the table", () => {
    const handled = new Set(cases.filter(([op]) => op < 60 || op > 70).map(([op]) => op));
    // Atomics share one case block in run(); amoResult() names each AMO.
    for (const m of source.matchAll(/case (\d+): \/\/ ([a-z.]+)/g)) handled.add(Number(m[1]));
    const missing = TABLE.filter((s) => !handled.has(s.op)).map((s) => s.name);
    expect(missing).toEqual([]);
    expect(OP_ILLEGAL).toBe(TABLE.length + 1);
  });
});
