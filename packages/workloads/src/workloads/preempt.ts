/**
 * preempt: P CPU-bound processes switched only by the timer. Process 1 forks
 * P-1 children; every process then runs the compute loop for N iterations
 * seeded with its pid, never yielding, so only timer interrupts (every
 * `quantum` mtime ticks) switch between them. Each exits with its result;
 * process 1 first waits for its children and adds pid + exit code of each.
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { SYS } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  intParam,
  lcgModel,
  quantumParam,
  reapChildrenAndExit,
  sys,
} from "./common.ts";
import { computeLoop } from "./compute.ts";

export const preemptSchema = z
  .object({
    processes: intParam(1, 96, 4, "CPU-bound processes (P)"),
    iterations: intParam(
      1,
      1_000_000_000,
      20_000,
      "compute-loop iterations of each process, 7 instructions each (N)",
    ),
    quantum: quantumParam(1_000),
    asid: asidParam(),
  })
  .strict();
export type PreemptParams = z.output<typeof preemptSchema>;

function program(p: PreemptParams) {
  return {
    user(a: Assembler) {
      a.li("s0", p.processes - 1);
      a.label("fork_loop");
      a.beqz("s0", "work");
      sys(a, SYS.fork);
      a.beqz("a0", "work");
      a.addi("s0", "s0", -1);
      a.j("fork_loop");
      a.label("work");
      sys(a, SYS.getpid);
      a.mv("s1", "a0");
      a.mv("s8", "a0");
      // Process 1 marks the region of interest; the timer keeps the P processes in step, so it holds
      // about P iterations for each of process 1's.
      computeLoop(a, p.iterations, "s8", p.processes);
      reapChildrenAndExit(a, "s8", p.processes - 1);
    },
  };
}

export const preempt = defineWorkload<PreemptParams>({
  name: "preempt",
  description: "P CPU-bound processes that never yield, switched only by the timer every quantum ticks",
  schema: preemptSchema,
  small: [{ processes: 3, iterations: 3000, quantum: 200 }],
  quick: [{ processes: 4, iterations: 60_000, quantum: 1_000 }],
  program,
  model(p) {
    const codes: number[] = [];
    for (let pid = 1; pid <= p.processes; pid++) codes.push(lcgModel(pid, p.iterations));
    for (let pid = 2; pid <= p.processes; pid++) codes[0] = (codes[0] + pid + codes[pid - 1]) >>> 0;
    return { exitCodes: codes };
  },
});
