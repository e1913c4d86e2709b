/**
 * Every workload marks its steady-state loop as the region of interest
 * (roi.begin / roi.end with the operation count), after warm-up passes that
 * leave the exit codes unchanged; the default suite's parameter sets put at
 * least 10^6 instructions and the operation counts in the region.
 */
import { Machine } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { WORKLOADS } from "../src/registry.ts";
import { warmupOf } from "../src/workloads/common.ts";

const BUDGET = 100_000_000;

function run(name: string, params: Record<string, unknown>) {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(name);
  const p = w.schema.parse(params);
  const m = new Machine({ ramSize: 64 * 2 ** 20 });
  m.load(w.build(p));
  const r = m.run({ maxInstructions: BUDGET });
  return { r, m, expected: w.expected(p) };
}

/** Operations each quick cell must have in its region at least (issue 11). */
const MIN_OPS: Record<string, number> = {
  ctxswitch: 1000,
  forkwait: 100,
  pagefault: 1000,
  syscall: 1000,
  nano: 1000,
};

describe("regions of interest", () => {
  const quick = WORKLOADS.flatMap((w) =>
    w.quick.map((p) => ({ name: w.name, params: p as Record<string, unknown> })),
  );
  it.each(quick)(
    "quick $name $params: one region of >= 10^6 instructions and enough operations",
    ({ name, params }) => {
      const { r, m, expected } = run(name, params);
      expect(r.reason).toBe("exit");
      expect(m.output.trimEnd().endsWith(expected.consoleLines.at(-1) ?? "?")).toBe(true);
      const regions = m.roiRegions();
      expect(regions).toHaveLength(1);
      const roi = regions[0];
      expect(roi.stats.instructions.total).toBeGreaterThanOrEqual(1_000_000);
      expect(roi.ops ?? 0).toBeGreaterThanOrEqual(MIN_OPS[name] ?? 1);
      // The region comes after the warm-up: some of the run lies before it.
      expect(roi.begin.stats.instructions.total).toBeGreaterThan(0);
    },
  );

  it("declares the measured passes: N - N/10 iterations, rounds x processes, pages x cycles", () => {
    expect(run("syscall", { iterations: 50 }).m.roi()?.ops).toBe(50 - warmupOf(50));
    expect(run("compute", { iterations: 1234 }).m.roi()?.ops).toBe(1234 - 123);
    expect(run("ctxswitch", { processes: 3, pages: 1, rounds: 20 }).m.roi()?.ops).toBe(3 * 18);
    expect(run("pagefault", { pages: 3, cycles: 20 }).m.roi()?.ops).toBe(3 * 18);
    expect(run("forkwait", { children: 20, pages: 1 }).m.roi()?.ops).toBe(18);
    expect(run("mmio", { bytes: 64 * 20 + 5, line: 64 }).m.roi()?.ops).toBe(64 * 18);
    expect(run("nano", { variant: "pgfault", iterations: 30 }).m.roi()?.ops).toBe(27);
    expect(run("nano", { variant: "csrwr", iterations: 30 }).m.roi()?.ops).toBe(27);
  });

  it("a syscall region holds exactly its getpid calls: one ecall per operation", () => {
    const roi = run("syscall", { iterations: 200 }).m.roi();
    expect(roi?.stats.traps.exceptions.ecall_u).toBe(180);
  });

  it("every small parameter set marks one complete region", () => {
    for (const w of WORKLOADS)
      for (const p of w.small) {
        const { r, m } = run(w.name, p as Record<string, unknown>);
        expect(r.reason, `${w.name} ${JSON.stringify(p)}`).toBe("exit");
        expect(m.roiRegions(), `${w.name} ${JSON.stringify(p)}`).toHaveLength(1);
      }
  });
});
