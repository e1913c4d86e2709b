/**
 * The perf programs (perf/programs.ts) give both engines exactly the same
 * run: every counter, the console, the registers and the pc, both at the
 * power-off and cut by an instruction budget in the middle of the loop (how
 * `npm run perf` runs them). Their instruction count is linear in the loop
 * count, which the QEMU measurement relies on to count its large sizes.
 */
import { describe, expect, it } from "vitest";
import { PERF_PROGRAMS, type PerfProgram } from "../perf/programs.ts";
import { instructionCount, runToExit } from "../perf/run-to-exit.ts";
import { ENGINES } from "../src/hart.ts";
import { Machine } from "../src/machine.ts";

/** Loop counts that keep each run to a few hundred thousand instructions. */
const ITERATIONS: Record<string, number> = {
  compute: 20_000,
  "compute-sv32": 20_000,
  mixed: 20_000,
  "mixed-sv32": 20_000,
  "tlb-miss-sv32": 100,
};

function state(m: Machine) {
  return { stats: m.snapshot(), output: m.output, x: [...m.hart.x], pc: m.hart.pc, priv: m.hart.priv };
}

function budgetRun(p: PerfProgram, engine: (typeof ENGINES)[number], budget: number) {
  const m = new Machine({ engine });
  m.load(p.build(p.maxIterations));
  const r = m.run({ maxInstructions: budget });
  return { reason: r.reason, ...state(m) };
}

describe.each(PERF_PROGRAMS.map((p) => [p.id, p] as const))("perf program %s", (_id, p) => {
  const n = ITERATIONS[p.id];

  it("runs to its power-off with the same counters, console and state on both engines", () => {
    const [first, ...rest] = ENGINES.map((e) => runToExit(p, n, e));
    expect(first.instructions).toBeGreaterThan(n);
    for (const other of rest) {
      expect(other.checksum).toBe(first.checksum);
      expect(other.instructions).toBe(first.instructions);
      expect(state(other.machine)).toEqual(state(first.machine));
    }
  });

  it("stops at an instruction budget in the middle of the loop with the same state on both engines", () => {
    const [first, ...rest] = ENGINES.map((e) => budgetRun(p, e, 300_001));
    expect(first.reason).toBe("budget");
    expect(first.stats.instructions.total).toBe(300_001);
    for (const other of rest) expect(other).toEqual(first);
  });

  it("retires a number of instructions linear in its loop count", () => {
    const { base, perIteration } = instructionCount(p);
    expect(runToExit(p, n).instructions).toBe(base + perIteration * n);
  });
});
