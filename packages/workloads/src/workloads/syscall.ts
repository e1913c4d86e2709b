/**
 * syscall: a loop of N getpid calls. One iteration is `ecall` (getpid) and two
 * user instructions; process 1 exits with the sum of the pids it got (N).
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { SYS } from "../kernel/abi.ts";
import { asidParam, defineWorkload, exitWith, intParam, measuredLoop } from "./common.ts";

export const syscallSchema = z
  .object({
    iterations: intParam(1, 100_000_000, 10_000, "getpid calls (N)"),
    asid: asidParam(),
  })
  .strict();
export type SyscallParams = z.output<typeof syscallSchema>;

/** `iterations` getpid calls summed into s4, the steady state the region of interest (shared with nano syscall). */
export function getpidLoop(a: Assembler, iterations: number): void {
  a.li("s4", 0);
  a.li("a7", SYS.getpid);
  measuredLoop(a, "getpid_loop", iterations, () => {
    a.ecall();
    a.add("s4", "s4", "a0");
  });
}

export const syscall = defineWorkload<SyscallParams>({
  name: "syscall",
  description: "a loop of N getpid system calls",
  schema: syscallSchema,
  small: [{ iterations: 100 }],
  quick: [{ iterations: 12_000 }],
  program: (p) => ({
    user(a: Assembler) {
      getpidLoop(a, p.iterations);
      exitWith(a, "s4");
    },
  }),
  model: (p) => ({ exitCodes: [p.iterations >>> 0] }),
});
