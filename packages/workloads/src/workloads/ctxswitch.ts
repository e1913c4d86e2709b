/**
 * ctxswitch: P processes in a ring, the shape of lmbench's lat_ctx. Process 1
 * forks P-1 children; then every process grows its heap by W pages (sbrk,
 * demand-zero) and for R rounds touches each of its W pages (read-modify-write
 * of the page's first word: v = v + pid + (W - j) for page j), folds every
 * value into its accumulator and yields. The scheduler is round-robin, so each
 * yield switches to the next process of the ring.
 *
 * Exit codes: each process exits with its accumulator (FNV-1a over the values
 * it wrote, from the basis, after an FNV step over its pid). Process 1 then
 * waits for its P-1 children and adds pid + exit code of each to its
 * accumulator before it exits (a sum, so the order of the waits does not matter).
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { SYS } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  FNV_BASIS,
  fnv,
  fnvStep,
  intParam,
  measuredLoop,
  PAGE,
  prologue,
  reapChildrenAndExit,
  sys,
} from "./common.ts";

/** Most working-set pages over all processes. */
export const MAX_WORKING_SET = 4096;

export const ctxswitchSchema = z
  .object({
    processes: intParam(1, 96, 4, "processes in the ring (P): pid 1 and its P-1 children"),
    pages: intParam(0, 256, 4, "pages of its own working set each process touches per turn (W)"),
    rounds: intParam(1, 100_000, 50, "turns each process takes, each ended by a yield (R)"),
    asid: asidParam(),
  })
  .strict()
  .refine((p) => p.processes * p.pages <= MAX_WORKING_SET, {
    path: ["pages"],
    message: `times processes must be at most ${MAX_WORKING_SET} (the kernel manages 32 MiB)`,
  });
export type CtxswitchParams = z.output<typeof ctxswitchSchema>;

function program(p: CtxswitchParams) {
  return {
    user(a: Assembler) {
      prologue(a);
      // Fork P-1 children; parent and children all fall through to "work".
      a.li("s0", p.processes - 1);
      a.label("fork_loop");
      a.beqz("s0", "work");
      sys(a, SYS.fork);
      a.beqz("a0", "work");
      a.addi("s0", "s0", -1);
      a.j("fork_loop");

      a.label("work");
      sys(a, SYS.getpid);
      a.mv("s1", "a0"); // pid
      a.li("a0", p.pages * PAGE);
      sys(a, SYS.sbrk);
      a.mv("s2", "a0"); // heap base of this process
      a.li("s4", FNV_BASIS);
      fnvStep(a, "s4", "s1");
      a.li("s5", PAGE);
      a.li("a7", SYS.yield);

      // R rounds; process 1 marks the steady state (every process's rounds after warm-up; P yields per round).
      measuredLoop(
        a,
        "round",
        p.rounds,
        (tag) => {
          a.mv("t0", "s2");
          a.li("t1", p.pages);
          a.label(`page${tag}`);
          a.beqz("t1", `turn_done${tag}`);
          a.lw("t2", 0, "t0");
          a.add("t2", "t2", "s1");
          a.add("t2", "t2", "t1");
          a.sw("t2", 0, "t0");
          fnvStep(a, "s4", "t2");
          a.add("t0", "t0", "s5");
          a.addi("t1", "t1", -1);
          a.j(`page${tag}`);
          a.label(`turn_done${tag}`);
          a.ecall(); // yield (a7 is preserved)
        },
        { opsPerPass: p.processes, pidReg: "s1" },
      );

      // Children exit; process 1 collects them first.
      reapChildrenAndExit(a, "s1", p.processes - 1);
    },
  };
}

function processCode(pid: number, p: CtxswitchParams): number {
  const mem = new Array<number>(p.pages).fill(0);
  let acc = fnv(FNV_BASIS, pid);
  for (let r = 0; r < p.rounds; r++) {
    for (let j = 0; j < p.pages; j++) {
      mem[j] = (mem[j] + pid + (p.pages - j)) >>> 0;
      acc = fnv(acc, mem[j]);
    }
  }
  return acc;
}

export const ctxswitch = defineWorkload<CtxswitchParams>({
  name: "ctxswitch",
  description:
    "P processes in a ring, each touching W heap pages per turn then yielding, for R rounds (lmbench lat_ctx)",
  schema: ctxswitchSchema,
  small: [{ processes: 3, pages: 2, rounds: 5 }],
  quick: [{ processes: 4, pages: 4, rounds: 750 }],
  program,
  model(p) {
    const codes = [];
    for (let pid = 1; pid <= p.processes; pid++) codes.push(processCode(pid, p));
    for (let pid = 2; pid <= p.processes; pid++) codes[0] = (codes[0] + pid + codes[pid - 1]) >>> 0;
    return { exitCodes: codes };
  },
});
