/**
 * pagefault: map/touch/unmap churn. For each of C cycles the process maps M
 * pages at USER.mapBase, USER.mapBase + 4096, ... (SYS.map: a zeroed writable
 * page), then for each page reads its first word (must be 0: pages come back
 * zeroed even when recycled), writes (c << 12) | j there (c counting cycles
 * down from C, j pages down from M) and reads it back, then unmaps all M pages.
 * Every map/unmap result and every value read is folded into an FNV-1a
 * accumulator, the exit code of process 1.
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { SYS, USER } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  exitWith,
  FNV_BASIS,
  fnv,
  fnvStep,
  intParam,
  measuredLoop,
  PAGE,
  prologue,
} from "./common.ts";

export const pagefaultSchema = z
  .object({
    pages: intParam(1, 1024, 8, "pages mapped, touched and unmapped per cycle (M)"),
    cycles: intParam(1, 1_000_000, 32, "map/touch/unmap cycles (C)"),
    asid: asidParam(),
  })
  .strict();
export type PagefaultParams = z.output<typeof pagefaultSchema>;

function program(p: PagefaultParams) {
  return {
    user(a: Assembler) {
      prologue(a);
      a.li("s5", PAGE);
      a.li("s4", FNV_BASIS);
      // C cycles (s0 counts them down); the steady state is the region of interest, M pages an operation each.
      measuredLoop(
        a,
        "cycle",
        p.cycles,
        (tag) => {
          // map
          a.li("s1", USER.mapBase);
          a.li("s2", p.pages);
          a.li("a7", SYS.map);
          a.label(`map${tag}`);
          a.mv("a0", "s1");
          a.ecall();
          fnvStep(a, "s4", "a0");
          a.add("s1", "s1", "s5");
          a.addi("s2", "s2", -1);
          a.bnez("s2", `map${tag}`);
          // touch
          a.li("s1", USER.mapBase);
          a.li("s2", p.pages);
          a.slli("s3", "s0", 12);
          a.label(`touch${tag}`);
          a.lw("t0", 0, "s1");
          fnvStep(a, "s4", "t0");
          a.or("t1", "s3", "s2");
          a.sw("t1", 0, "s1");
          a.lw("t0", 0, "s1");
          fnvStep(a, "s4", "t0");
          a.add("s1", "s1", "s5");
          a.addi("s2", "s2", -1);
          a.bnez("s2", `touch${tag}`);
          // unmap
          a.li("s1", USER.mapBase);
          a.li("s2", p.pages);
          a.li("a7", SYS.unmap);
          a.label(`unmap${tag}`);
          a.mv("a0", "s1");
          a.ecall();
          fnvStep(a, "s4", "a0");
          a.add("s1", "s1", "s5");
          a.addi("s2", "s2", -1);
          a.bnez("s2", `unmap${tag}`);
        },
        { opsPerPass: p.pages },
      );
      exitWith(a, "s4");
    },
  };
}

export const pagefault = defineWorkload<PagefaultParams>({
  name: "pagefault",
  description: "map, touch and unmap M pages per cycle for C cycles (page-table churn)",
  schema: pagefaultSchema,
  small: [{ pages: 3, cycles: 4 }],
  quick: [{ pages: 8, cycles: 160 }],
  program,
  model(p) {
    let acc = FNV_BASIS;
    for (let c = p.cycles; c > 0; c--) {
      for (let j = 0; j < p.pages; j++) acc = fnv(acc, 0); // map returns 0
      for (let j = p.pages; j > 0; j--) {
        acc = fnv(acc, 0); // a fresh page reads 0
        acc = fnv(acc, ((c << 12) | j) >>> 0);
      }
      for (let j = 0; j < p.pages; j++) acc = fnv(acc, 0); // unmap returns 0
    }
    return { exitCodes: [acc] };
  },
});
