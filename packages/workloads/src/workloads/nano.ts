/**
 * nano: the nanobenchmarks of Adams & Agesen (ASPLOS 2006), each a loop of
 * `iterations` repetitions of one operation, so that cost per iteration is
 * (cost(n2) - cost(n1)) / (n2 - n1). One iteration is:
 *
 * - `syscall`: one getpid ecall into the kernel and back, plus 3 user
 *   instructions (add, addi, bnez).
 * - `in`: one load of the UART's LSR register by the kernel, in the kernel's
 *   own loop (one SYS.nano(NANO.in, n) call for the whole run).
 * - `csrwr`: one write of sie by the kernel (their cr8wr), in the kernel's loop
 *   (SYS.nano(NANO.csrwr, n)).
 * - `callret`: `call` to a leaf that adds 1 and returns, plus 2 loop
 *   instructions; nothing privileged at all.
 * - `pgfault`: one store to a heap page never touched before, so one true
 *   store page fault that the guest kernel fixes (demand-zero: it allocates,
 *   zeroes and maps the page, then returns to the store), plus a load of the
 *   value back and 4 user instructions. The heap grows by `iterations` pages
 *   with one sbrk before the loop; iteration i touches page i.
 * - `trap`: one user `ebreak`, which the kernel counts and skips (it stands in
 *   for their divzero, as RISC-V division by zero does not trap), plus 2 loop
 *   instructions.
 * - `ptemod`: the kernel toggles the W bit of one PTE of the calling process
 *   and runs sfence.vma for that address, in the kernel's loop
 *   (SYS.nano(NANO.ptemod, n)). The process maps and touches one page at
 *   USER.mapBase first, so it has a user PTE to edit.
 *
 * Exit code of process 1: (variant index << 24) + the value the loop
 * accumulated (iterations for syscall, callret and trap; the sum of the
 * values stored for pgfault: 0 + 1 + ... + (n-1); n plus the kernel's result
 * for the kernel-side loops).
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { NANO, SYS, USER } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  exitWith,
  intParam,
  loadOps,
  measuredLoop,
  OPS,
  PAGE,
  quantumParam,
  sys,
  warmupOf,
} from "./common.ts";
import { getpidLoop } from "./syscall.ts";

export const NANO_VARIANTS = ["syscall", "in", "csrwr", "callret", "pgfault", "trap", "ptemod"] as const;
export type NanoVariant = (typeof NANO_VARIANTS)[number];

/** Most pgfault iterations: each keeps a page until exit. */
export const PGFAULT_MAX = 4096;

export const nanoSchema = z
  .object({
    variant: z
      .enum(NANO_VARIANTS)
      .default("syscall")
      .describe("the operation: syscall, in, csrwr, callret, pgfault, trap or ptemod"),
    iterations: intParam(
      1,
      10_000_000,
      1_000,
      `repetitions of the operation (pgfault: at most ${PGFAULT_MAX}, one heap page each)`,
    ),
    quantum: quantumParam(10_000),
    asid: asidParam(),
  })
  .strict()
  .refine((p) => p.variant !== "pgfault" || p.iterations <= PGFAULT_MAX, {
    path: ["iterations"],
    message: `must be at most ${PGFAULT_MAX} for variant pgfault`,
  });
export type NanoParams = z.output<typeof nanoSchema>;

/**
 * Iterations of each variant in the default suite: at least 1,000 operations
 * and 10^6 instructions in the region of interest (callret is 5 instructions
 * an operation, a demand-zero page fault over 2,000).
 */
const NANO_QUICK: Record<NanoVariant, number> = {
  syscall: 12_000,
  in: 400_000,
  csrwr: 400_000,
  callret: 240_000,
  pgfault: 1_200,
  trap: 12_000,
  ptemod: 200_000,
};

const tag = (v: NanoVariant): number => NANO_VARIANTS.indexOf(v) << 24;

/** One SYS.nano(op, count) call; s4 += its result + count. */
function kernelCall(a: Assembler, op: number, count: number): void {
  if (count === 0) return;
  a.li("a0", op);
  a.li("a1", count);
  sys(a, SYS.nano);
  a.add("s4", "s4", "a0");
  a.li("t0", count);
  a.add("s4", "s4", "t0");
}

/** The kernel-side loops: a warm-up call, then the measured call inside the region of interest. */
function kernelLoop(a: Assembler, op: number, n: number): void {
  const warm = warmupOf(n);
  a.li("s4", 0);
  kernelCall(a, op, warm);
  loadOps(a, n - warm);
  a.roiBegin();
  kernelCall(a, op, n - warm);
  a.roiEnd(OPS);
}

function program(p: NanoParams) {
  const n = p.iterations;
  return {
    user(a: Assembler) {
      switch (p.variant) {
        case "syscall":
          getpidLoop(a, n);
          break;
        case "in":
          kernelLoop(a, NANO.in, n);
          break;
        case "csrwr":
          kernelLoop(a, NANO.csrwr, n);
          break;
        case "ptemod":
          a.li("a0", USER.mapBase);
          sys(a, SYS.map);
          a.li("t0", USER.mapBase);
          a.sw("t0", 0, "t0");
          kernelLoop(a, NANO.ptemod, n);
          break;
        case "callret":
          a.li("s4", 0);
          measuredLoop(a, "callret_loop", n, () => a.call("leaf"));
          a.j("done");
          a.label("leaf");
          a.addi("s4", "s4", 1);
          a.ret();
          break;
        case "pgfault": {
          a.li("a0", n * PAGE);
          sys(a, SYS.sbrk);
          a.mv("s1", "a0");
          a.li("s5", PAGE);
          a.li("s0", 0);
          a.li("s4", 0);
          const touches = (limit: number, tag: string) => {
            a.li("s2", limit);
            a.label(`pgfault_loop${tag}`);
            a.sw("s0", 0, "s1"); // the page fault
            a.lw("t0", 0, "s1");
            a.add("s4", "s4", "t0");
            a.add("s1", "s1", "s5");
            a.addi("s0", "s0", 1);
            a.bne("s0", "s2", `pgfault_loop${tag}`);
          };
          const warm = warmupOf(n);
          if (warm > 0) touches(warm, "_warmup");
          loadOps(a, n - warm);
          a.roiBegin();
          touches(n, "");
          a.roiEnd(OPS);
          break;
        }
        case "trap":
          a.li("s4", 0);
          measuredLoop(a, "trap_loop", n, () => {
            a.ebreak();
            a.addi("s4", "s4", 1);
          });
          break;
      }
      a.label("done");
      a.li("t0", tag(p.variant));
      a.add("s4", "s4", "t0");
      exitWith(a, "s4");
    },
  };
}

function loopValue(p: NanoParams): number {
  const n = p.iterations;
  if (p.variant === "pgfault") return ((n * (n - 1)) / 2) >>> 0;
  return n;
}

export const nano = defineWorkload<NanoParams>({
  name: "nano",
  description:
    "the Adams & Agesen nanobenchmarks: a loop of one operation (syscall, in, csrwr, callret, pgfault, trap, ptemod)",
  schema: nanoSchema,
  small: NANO_VARIANTS.map((variant) => ({ variant, iterations: 50 })),
  // A timer tick every 10^7 instructions (HZ=100 on a 1-GIPS core), so no tick lands in a region.
  quick: NANO_VARIANTS.map((variant) => ({ variant, iterations: NANO_QUICK[variant], quantum: 1_000_000 })),
  program,
  model: (p) => ({ exitCodes: [(tag(p.variant) + loopValue(p)) >>> 0] }),
});
