/**
 * compute: N iterations of pure register arithmetic (a linear congruential
 * generator folded into an accumulator: x = x*1103515245 + 12345;
 * acc = (acc ^ (x >>> 13)) + x), with no memory access and no trap until the
 * final exit. Process 1 exits with acc.
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { asidParam, defineWorkload, exitWith, intParam, LCG_A, LCG_C, lcgModel, lcgStep } from "./common.ts";

export const computeSchema = z
  .object({
    iterations: intParam(1, 1_000_000_000, 100_000, "loop iterations, 7 instructions each (N)"),
    asid: asidParam(),
  })
  .strict();
export type ComputeParams = z.output<typeof computeSchema>;

/** The arithmetic loop: s0 iterations from seed in s1, result in s4 (shared with preempt). */
export function computeLoop(a: Assembler, iterations: number): void {
  a.li("s0", iterations);
  a.li("s4", 0);
  a.li("s6", LCG_A);
  a.li("s7", LCG_C);
  a.label("compute_loop");
  lcgStep(a, "s1", "s4", "s6", "s7", "t0");
  a.addi("s0", "s0", -1);
  a.bnez("s0", "compute_loop");
}

export const compute = defineWorkload<ComputeParams>({
  name: "compute",
  description: "N iterations of register arithmetic with no memory access and no trap",
  schema: computeSchema,
  small: [{ iterations: 1000 }],
  program: (p) => ({
    user(a: Assembler) {
      a.li("s1", 1);
      computeLoop(a, p.iterations);
      exitWith(a, "s4");
    },
  }),
  model: (p) => ({ exitCodes: [lcgModel(1, p.iterations)] }),
});
