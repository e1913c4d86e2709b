/**
 * compute: N iterations of pure register arithmetic (a linear congruential
 * generator folded into an accumulator: x = x*1103515245 + 12345;
 * acc = (acc ^ (x >>> 13)) + x), with no memory access and no trap until the
 * final exit. Process 1 exits with acc.
 */
import type { Assembler, Reg } from "@shadowlab/emu-core";
import { z } from "zod";
import {
  asidParam,
  defineWorkload,
  exitWith,
  intParam,
  LCG_A,
  LCG_C,
  lcgModel,
  lcgStep,
  measuredLoop,
  quantumParam,
} from "./common.ts";

export const computeSchema = z
  .object({
    iterations: intParam(1, 1_000_000_000, 100_000, "loop iterations, 7 instructions each (N)"),
    quantum: quantumParam(10_000),
    asid: asidParam(),
  })
  .strict();
export type ComputeParams = z.output<typeof computeSchema>;

/**
 * The arithmetic loop: `iterations` from the seed in s1, result in s4, its
 * steady state the region of interest, one operation per iteration (shared
 * with preempt, where `pidReg` lets only process 1 mark and `opsPerPass`
 * counts the iterations of all P processes).
 */
export function computeLoop(a: Assembler, iterations: number, pidReg?: Reg, opsPerPass = 1): void {
  a.li("s4", 0);
  a.li("s6", LCG_A);
  a.li("s7", LCG_C);
  measuredLoop(a, "compute_loop", iterations, () => lcgStep(a, "s1", "s4", "s6", "s7", "t0"), {
    pidReg,
    opsPerPass,
  });
}

export const compute = defineWorkload<ComputeParams>({
  name: "compute",
  description: "N iterations of register arithmetic with no memory access and no trap",
  schema: computeSchema,
  small: [{ iterations: 1000 }],
  // A timer tick every 10^7 instructions, as a HZ=100 kernel on a 1-GIPS core: the region is pure arithmetic.
  quick: [{ iterations: 200_000, quantum: 1_000_000 }],
  program: (p) => ({
    user(a: Assembler) {
      a.li("s1", 1);
      computeLoop(a, p.iterations);
      exitWith(a, "s4");
    },
  }),
  model: (p) => ({ exitCodes: [lcgModel(1, p.iterations)] }),
});
