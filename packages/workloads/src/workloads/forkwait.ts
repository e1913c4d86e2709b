/**
 * forkwait: a parent forks N children in a loop and waits for each before it
 * forks the next (the forkwait benchmark of Adams & Agesen, ASPLOS 2006).
 * Before the loop the parent grows its heap by K pages and writes the first
 * word of page j as (j+1) * 0x9e3779b9. After each wait it adds 1 to every
 * page's word, so its K pages are written (and writable) at every fork, as
 * a real parent's are: a copy-on-write fork write-protects them each time
 * and the parent's next writes fault (kernel option `fork`). The i-th child
 * (pid i+2) reads each page's word ((j+1) * 0x9e3779b9 + i), adds i, writes
 * it back, folds it into its accumulator (FNV-1a from the basis, after a
 * step over its pid) and exits with the accumulator. The parent folds each
 * child's pid and exit code, as wait returns them, into its own accumulator
 * and exits with it.
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { FORK_POLICIES, SYS } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  exitWith,
  FNV_BASIS,
  fnv,
  fnvStep,
  intParam,
  loadOps,
  OPS,
  PAGE,
  prologue,
  sys,
  warmupOf,
} from "./common.ts";

const GOLDEN = 0x9e3779b9;

export const forkwaitSchema = z
  .object({
    children: intParam(1, 8000, 16, "children forked, one at a time (N)"),
    pages: intParam(
      0,
      256,
      4,
      "heap pages the parent writes between forks and each child reads and writes (K)",
    ),
    fork: z
      .enum(FORK_POLICIES)
      .default("cow")
      .describe(
        "how the kernel's fork copies the address space: copy-on-write or eager (kernel option fork)",
      ),
    asid: asidParam(),
  })
  .strict();
export type ForkwaitParams = z.output<typeof forkwaitSchema>;

function program(p: ForkwaitParams) {
  return {
    user(a: Assembler) {
      prologue(a);
      a.li("s5", PAGE);
      a.li("a0", p.pages * PAGE);
      sys(a, SYS.sbrk);
      a.mv("s2", "a0"); // heap base
      // Initialise page j's first word to (j+1) * GOLDEN.
      a.mv("t0", "s2");
      a.li("t1", 0);
      a.li("t3", GOLDEN);
      a.li("t4", p.pages);
      a.label("init");
      a.beq("t1", "t4", "init_done");
      a.addi("t1", "t1", 1);
      a.mul("t2", "t1", "t3");
      a.sw("t2", 0, "t0");
      a.add("t0", "t0", "s5");
      a.j("init");
      a.label("init_done");

      // Children 0..N-1, one at a time; the first tenth warm up, the rest are the region of interest.
      const warm = warmupOf(p.children);
      a.li("s0", 0); // i
      a.li("s4", FNV_BASIS);
      // after each wait the parent writes each of its pages again: word j += 1
      const parentWrites = (tag: string) => {
        a.mv("t0", "s2");
        a.li("t1", p.pages);
        a.label(`parent_page${tag}`);
        a.beqz("t1", `parent_done${tag}`);
        a.lw("t2", 0, "t0");
        a.addi("t2", "t2", 1);
        a.sw("t2", 0, "t0");
        a.add("t0", "t0", "s5");
        a.addi("t1", "t1", -1);
        a.j(`parent_page${tag}`);
        a.label(`parent_done${tag}`);
      };
      const forks = (limit: number, tag: string) => {
        a.li("s1", limit);
        a.label(`loop${tag}`);
        a.beq("s0", "s1", `loop_done${tag}`);
        sys(a, SYS.fork);
        a.beqz("a0", "child");
        sys(a, SYS.wait);
        fnvStep(a, "s4", "a0");
        fnvStep(a, "s4", "a1");
        parentWrites(tag);
        a.addi("s0", "s0", 1);
        a.j(`loop${tag}`);
        a.label(`loop_done${tag}`);
      };
      forks(warm, "_warmup");
      loadOps(a, p.children - warm);
      a.roiBegin();
      forks(p.children, "");
      a.roiEnd(OPS);
      exitWith(a, "s4");

      a.label("child");
      sys(a, SYS.getpid);
      a.li("s4", FNV_BASIS);
      fnvStep(a, "s4", "a0");
      a.mv("t0", "s2");
      a.li("t1", p.pages);
      a.label("child_page");
      a.beqz("t1", "child_done");
      a.lw("t2", 0, "t0");
      a.add("t2", "t2", "s0");
      a.sw("t2", 0, "t0");
      fnvStep(a, "s4", "t2");
      a.add("t0", "t0", "s5");
      a.addi("t1", "t1", -1);
      a.j("child_page");
      a.label("child_done");
      exitWith(a, "s4");
    },
  };
}

export const forkwait = defineWorkload<ForkwaitParams>({
  name: "forkwait",
  description:
    "a parent forks N children one at a time and waits for each, writing its K pages after each; each child writes the K pages it shares copy-on-write (Adams & Agesen forkwait)",
  schema: forkwaitSchema,
  small: [
    { children: 4, pages: 2 },
    { children: 3, pages: 2, fork: "eager" },
  ],
  quick: [{ children: 112, pages: 4 }],
  program,
  model(p) {
    const children: number[] = [];
    let parent = FNV_BASIS;
    for (let i = 0; i < p.children; i++) {
      const pid = i + 2;
      let acc = fnv(FNV_BASIS, pid);
      for (let j = 0; j < p.pages; j++) acc = fnv(acc, (Math.imul(j + 1, GOLDEN) + 2 * i) >>> 0);
      children.push(acc);
      parent = fnv(fnv(parent, pid), acc);
    }
    return { exitCodes: [parent, ...children] };
  },
});
