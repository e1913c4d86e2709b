/**
 * Copy-on-write fork: parent and child each see their own writes, frames
 * are shared with counts that go back to zero, a store to a shared page
 * copies it and a store to a page no one else maps any more reuses it, and
 * many forks leak nothing. The same programs under the eager fork print
 * the same, which is what makes the two comparable.
 */
import { Machine } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { FORK_POLICIES, USER } from "../src/kernel/abi.ts";
import { P_ROOT, PTE_COW, PTE_W, RAM_BASE } from "../src/kernel/layout.ts";
import { getWorkload, parseParams } from "../src/registry.ts";
import { build, type Program, report, runImage, sys } from "./kernel-programs.ts";

const HEAP = USER.heap;

/**
 * Process 1 writes 1 to a heap page, forks, writes 3 (before the child
 * runs), waits; then forks a child that exits at once, waits, and writes 5.
 * The child reads the page (1: the value at fork), writes 2, reads it back
 * and exits with read << 8 | readback. Process 1 exits with its last read
 * of the page before the final write << 8 | the final value. An ebreak
 * before and after each step lets the test look at the page tables.
 */
const cowProbe: Program = {
  user: (a) =>
    a.asm(`
    li    a0, 4096
${sys("sbrk")}
    mv    s2, a0
    li    t0, 1
    sw    t0, 0(s2)
    ebreak                          # probe 1: one private writable page
${sys("fork")}
    beqz  a0, child
    ebreak                          # probe 2: shared, COW in both
    li    t0, 3
    sw    t0, 0(s2)
    ebreak                          # probe 3: the parent has its own copy
${sys("wait")}
${sys("fork")}
    beqz  a0, child2
${sys("wait")}
    ebreak                          # probe 4: COW again, no one else maps it
    lw    s3, 0(s2)
    li    t0, 5
    sw    t0, 0(s2)
    ebreak                          # probe 5: the same frame, writable
    lw    t0, 0(s2)
    slli  a0, s3, 8
    or    a0, a0, t0
${sys("exit")}
child:
    lw    s3, 0(s2)
    li    t0, 2
    sw    t0, 0(s2)
    lw    t0, 0(s2)
    slli  a0, s3, 8
    or    a0, a0, t0
${sys("exit")}
child2:
    li    a0, 7
${sys("exit")}`),
};
const PROBE_CODES = [0x305, 0x102, 7];

interface Probe {
  pte: number;
  frame: number;
  refs: number;
}

/** Runs in small steps and looks at process 1's heap PTE after each of its ebreaks. */
function runProbes(fork: "cow" | "eager") {
  const image = build(cowProbe, { fork });
  const m = new Machine();
  m.load(image);
  const word = (pa: number) => (m.hart.readPhys(pa, 4) ?? 0) >>> 0;
  const half = (pa: number) => (m.hart.readPhys(pa, 2) ?? 0) >>> 0;
  const probe = (): Probe => {
    const root = word(image.symbols.proc_table + P_ROOT);
    const l0 = ((word(root + (HEAP >>> 22) * 4) >>> 10) << 12) >>> 0;
    const pte = word(l0 + ((HEAP >>> 12) & 0x3ff) * 4);
    const frame = ((pte >>> 10) << 12) >>> 0;
    return { pte, frame, refs: half(image.symbols.page_refs + ((frame - RAM_BASE) >>> 12) * 2) };
  };
  const probes: Probe[] = [];
  let seen = 0;
  for (let steps = 0; steps < 100_000; steps++) {
    const r = m.run({ maxInstructions: 20 });
    const ebreaks = word(image.symbols.kernel_ebreaks);
    if (ebreaks !== seen) {
      seen = ebreaks;
      probes.push(probe());
    }
    if (r.reason === "exit") break;
  }
  return { m, image, probes };
}

function allRefsZero(m: Machine, symbols: Record<string, number>): boolean {
  const start = symbols.page_refs;
  const end = symbols.kstack;
  for (let pa = start; pa < end; pa += 4) if ((m.hart.readPhys(pa, 4) ?? 1) !== 0) return false;
  return true;
}

describe("kernel: copy-on-write fork", () => {
  it("parent and child each see their own writes, under either fork policy", () => {
    for (const fork of FORK_POLICIES) {
      const { m } = runProbes(fork);
      expect(m.output, fork).toBe(report(PROBE_CODES));
    }
  });

  it("shares the frame, write-protects it in place, copies it for the first writer and reuses it for the last", () => {
    const { m, image, probes } = runProbes("cow");
    expect(probes).toHaveLength(5);
    const [own, shared, copied, again, reused] = probes;
    expect(own.pte & (PTE_W | PTE_COW)).toBe(PTE_W);
    expect(own.refs).toBe(0);
    // after fork: the parent's PTE was write-protected in place, the frame has one extra mapping
    expect(shared.frame).toBe(own.frame);
    expect(shared.pte & (PTE_W | PTE_COW)).toBe(PTE_COW);
    expect(shared.refs).toBe(1);
    // the parent's store copied the frame; the child still maps the old one alone
    expect(copied.frame).not.toBe(own.frame);
    expect(copied.pte & (PTE_W | PTE_COW)).toBe(PTE_W);
    expect(copied.refs).toBe(0);
    // a second fork shares the copy; after that child exits, the store reuses the frame
    expect(again.frame).toBe(copied.frame);
    expect(again.pte & (PTE_W | PTE_COW)).toBe(PTE_COW);
    expect(again.refs).toBe(0);
    expect(reused.frame).toBe(copied.frame);
    expect(reused.pte & (PTE_W | PTE_COW)).toBe(PTE_W);
    expect(allRefsZero(m, image.symbols)).toBe(true);
  });

  it("the eager fork copies at fork time: the parent's PTE is never write-protected", () => {
    const { probes } = runProbes("eager");
    expect(probes.map((p) => p.pte & (PTE_W | PTE_COW))).toEqual(Array(5).fill(PTE_W));
    expect(new Set(probes.map((p) => p.frame)).size).toBe(1);
  });

  it("many forks leak no frame and leave every reference count at zero", () => {
    const w = getWorkload("forkwait");
    for (const fork of FORK_POLICIES) {
      const params = parseParams(w, { children: 150, pages: 6, fork });
      const r = runImage(w.build(params), {}, 100_000_000);
      expect(r.result.exitCode, fork).toBe(0);
      expect(r.output, fork).toBe(`${w.expected(params).consoleLines.join("\n")}\n`);
      expect(r.freePages, fork).toBe(r.freePagesBoot);
      expect(allRefsZero(r.machine, r.image.symbols), fork).toBe(true);
    }
  });
});
