/**
 * One group in-process: the native baseline is shared, a cell that throws
 * fails alone with its error, and the rows carry counters, modeled cycles and
 * wall-clock statistics.
 */
import { describe, expect, it } from "vitest";
import { runGroup } from "../src/cell.ts";
import type { ResultRow } from "../src/results.ts";
import { expandCells, validateSuite } from "../src/suite.ts";

describe("runGroup", () => {
  it("isolates a crashing cell and prices the others against the shared baseline", async () => {
    const suite = validateSuite({
      name: "one",
      workloads: [{ workload: "syscall", params: { iterations: 10 } }],
      strategies: ["native", "shadow-ondemand"],
      repetitions: 2,
      warmup: 0,
    });
    const [native, shadow] = expandCells(suite);
    const bogus = {
      ...shadow,
      strategy: "no-such-strategy",
      id: `${shadow.group}/no-such-strategy`,
      index: 2,
    };
    const rows: ResultRow[] = [];
    await runGroup({ suite, cells: [native, bogus, shadow] }, (r) => rows.push(r));
    expect(rows.map((r) => [r.strategy, r.status, r.failure])).toEqual([
      ["native", "ok", ""],
      ["no-such-strategy", "failed", "crash"],
      ["shadow-ondemand", "ok", ""],
    ]);
    expect(rows[1].error).toContain('unknown paging strategy "no-such-strategy"');
    const [n, , s] = rows;
    expect(n.slowdown).toBe(1);
    expect(s.native_cycles_total).toBe(n.cycles_total);
    expect(s.slowdown).toBeCloseTo((s.cycles_total ?? 0) / (n.cycles_total ?? 1), 12);
    expect(s.events.exit).toBeGreaterThan(0);
    expect(s.counters["instructions.total"]).toBe(s.instructions);
    expect(s.wall_samples).toBe(2);
    expect(s.wall_p50_ms).toBeGreaterThan(0);
    expect(s.output_equal).toBe(true);
  });
});
