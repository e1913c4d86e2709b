/**
 * Page-table pages that change their use, as a kernel's page allocator makes
 * them: an address space is torn down and its table pages come back as data
 * (written many times, with every store width, and read back), and data pages
 * become page tables (of a new address space that reuses the old root page
 * and ASID). Then fork-heavy and map/unmap-heavy workloads, whose kernels
 * create and destroy page tables at a high rate, with and without the
 * kernel's ASIDs. Every strategy must give exactly the native run; under
 * shadow-proactive the recycled tables must be unshadowed (write flooding,
 * or a released level-0 table), not emulated store by store forever.
 */
import { describe, expect, it } from "vitest";
import { FLOOD_WRITES } from "../src/paging/shadow-proactive.ts";
import { hex8, l0Slot, leaf, pg, ptGuest, ptr, rootSlot, VA, VA2 } from "./support/strategy-guests.ts";
import {
  expectNative,
  hv,
  PROACTIVE,
  runNative,
  STRATEGIES,
  workloadImage,
} from "./support/strategy-harness.ts";

const ROOT_A = pg(0);
const ROOT_B = pg(1); // B's root, later the root of C
const L0_A = pg(2);
const L0_B = pg(3); // B's level-0 table, later plain data
const L0_B_OLD = pg(4); // a level-0 table B stops using (its root entry is repointed)
const DATA_PAGE = pg(5); // plain data, later C's level-0 table
const PAGE_A = pg(6);
const PAGE_B = pg(7);
const PAGE_C1 = pg(8);
const PAGE_C2 = pg(9);

const DATA_WORDS = 64;

function program(withAsid: boolean) {
  const asidA = withAsid ? 1 : 0;
  const asidB = withAsid ? 2 : 0;
  const asidC = asidB; // C reuses B's ASID, as a kernel reuses a dead process's
  return ptGuest((p) => {
    const a = p.a;
    for (const [pa, v] of [
      [PAGE_A, 0xaaaa_0000],
      [PAGE_B, 0xbbbb_0000],
      [PAGE_C1, 0xcccc_0001],
      [PAGE_C2, 0xcccc_0002],
    ])
      p.zeroPage(pa).store(pa, v);
    p.kernelRoot(ROOT_A).kernelRoot(ROOT_B);
    for (const t of [L0_A, L0_B, L0_B_OLD]) p.zeroPage(t);
    p.store(rootSlot(ROOT_A, VA), ptr(L0_A)).store(l0Slot(L0_A, VA), leaf(PAGE_A));
    // B first uses L0_B_OLD, then (edited while running) L0_B.
    p.store(rootSlot(ROOT_B, VA), ptr(L0_B_OLD)).store(l0Slot(L0_B_OLD, VA), leaf(PAGE_B));
    p.store(l0Slot(L0_B, VA), leaf(PAGE_B)).store(l0Slot(L0_B, VA2), leaf(PAGE_B));
    // Before it becomes a table, DATA_PAGE is data, written under translation (so mapped writable).
    p.satp(ROOT_A, asidA).sfence();
    p.show("a", VA);
    p.repeat("s0", DATA_WORDS, () => {
      a.slli("t0", "s0", 2).li("t1", DATA_PAGE).add("t0", "t0", "t1").sw("s0", 0, "t0");
    });
    p.switchTo(ROOT_B, asidB).show("b0", VA);
    // Repoint B's root entry at L0_B while B runs (L0_B_OLD is released), then fence.
    p.store(rootSlot(ROOT_B, VA), ptr(L0_B));
    p.sfence(VA, asidB);
    p.show("b1", VA).show("b2", VA2);
    // Tear B down: back to A, and B's tables (root, L0_B, L0_B_OLD) are free pages now.
    p.switchTo(ROOT_A, asidA);
    // The old level-0 table, released earlier, is reused as data at once.
    p.repeat("s0", DATA_WORDS, () => {
      a.slli("t0", "s0", 2).li("t1", L0_B_OLD).add("t0", "t0", "t1").sw("s0", 0, "t0");
    });
    // L0_B becomes data: many word stores, then halfword and byte stores over the same words,
    // each round read back and summed.
    a.li("s5", 0); // checksum over everything read back
    p.repeat("s1", 4, () => {
      p.repeat("s0", DATA_WORDS, () => {
        a.slli("t0", "s0", 2).li("t1", L0_B).add("t0", "t0", "t1");
        a.mul("t2", "s0", "s1").xori("t2", "t2", 0x5a5).sw("t2", 0, "t0");
        a.sh("s1", 2, "t0").sb("s0", 1, "t0");
        a.lw("t3", 0, "t0").add("s5", "s5", "t3"); // then rotate left by one
        a.srli("t3", "s5", 31).slli("s5", "s5", 1).or("s5", "s5", "t3");
      });
    });
    p.showReg("sum_l0", "s5");
    // B's root page becomes data too, written word by word (all 1024 entries).
    p.repeat("s0", 1024, () => {
      a.addi("t0", "s0", -1).slli("t0", "t0", 2).li("t1", ROOT_B).add("t0", "t0", "t1");
      a.li("t2", 0x1357_0000).add("t2", "t2", "s0").sw("t2", 0, "t0");
    });
    a.li("t0", ROOT_B + 0x400).lw("a0", 0, "t0");
    p.showReg("root_word", "a0");
    a.li("t0", L0_B_OLD + 4 * 17).lw("a0", 0, "t0");
    p.showReg("old_l0_word", "a0");
    // The reverse: the data page becomes C's level-0 table, the old root page C's root
    // (zeroed and rebuilt as a kernel would), under B's old ASID: fence it before use.
    p.kernelRoot(ROOT_B);
    p.zeroPage(DATA_PAGE);
    p.store(l0Slot(DATA_PAGE, VA), leaf(PAGE_C1));
    p.store(rootSlot(ROOT_B, VA), ptr(DATA_PAGE));
    p.sfence(undefined, withAsid ? asidC : undefined);
    p.switchTo(ROOT_B, asidC).show("c0", VA);
    // Edit C's table (the former data page) while A runs: it is a table now.
    p.switchTo(ROOT_A, asidA);
    p.store(l0Slot(DATA_PAGE, VA), leaf(PAGE_C2));
    p.sfence(VA, withAsid ? asidC : undefined);
    p.switchTo(ROOT_B, asidC).show("c1", VA);
    p.switchTo(ROOT_A, asidA).show("a_end", VA);
  });
}

function expectedOutput(): string {
  let sum = 0;
  for (let s1 = 4; s1 >= 1; s1--)
    for (let s0 = DATA_WORDS; s0 >= 1; s0--) {
      let w = ((s0 * s1) ^ 0x5a5) >>> 0;
      w = ((w & 0x0000_ffff) | ((s1 & 0xffff) << 16)) >>> 0;
      w = ((w & 0xffff_00ff) | ((s0 & 0xff) << 8)) >>> 0;
      sum = (sum + w) >>> 0;
      sum = ((sum << 1) | (sum >>> 31)) >>> 0;
    }
  return [
    ["a", 0xaaaa_0000],
    ["b0", 0xbbbb_0000],
    ["b1", 0xbbbb_0000],
    ["b2", 0xbbbb_0000],
    ["sum_l0", sum],
    ["root_word", 0x1357_0000 + 0x101],
    ["old_l0_word", 17],
    ["c0", 0xcccc_0001],
    ["c1", 0xcccc_0002],
    ["a_end", 0xaaaa_0000],
  ]
    .map(([n, v]) => `${n}=${hex8(v as number)}\n`)
    .join("");
}

describe.each([false, true])(
  "a page table recycled as data and data as a page table (guest ASIDs: %s)",
  (withAsid) => {
    const img = program(withAsid);
    const expected = expectedOutput();

    it("natively reads back what it wrote", () => {
      expect(runNative(img).output).toBe(expected);
    });

    it.each(STRATEGIES)("%s gives exactly the native run", (strategy) => {
      expectNative(img, strategy, {}, expected);
    });

    it("shadow-proactive stops protecting the recycled tables and protects the new one", () => {
      const run = expectNative(img, PROACTIVE);
      // Freed tables written as data: flooded after FLOOD_WRITES emulated writes, or released with their root entry.
      expect(hv(run, "shadow.flooded")).toBeGreaterThan(0);
      expect(hv(run, "shadow.unshadowed")).toBeGreaterThanOrEqual(2);
      // Far fewer emulated writes than data stores (4 * 64 * 3 + 1024 + 64 of them): the rest ran natively.
      expect(hv(run, "exit.wp_fault")).toBeLessThan(64);
      expect(hv(run, "shadow.pte_write")).toBeGreaterThan(0);
      // The data page that became C's table lost its writable mappings in A's shadow.
      expect(hv(run, "shadow.write_protected")).toBeGreaterThan(0);
      expect(FLOOD_WRITES).toBeGreaterThan(0);
    });
  },
);

describe("page tables created and destroyed at a high rate", () => {
  const workloads = [
    { name: "forkwait", params: { children: 40, pages: 4 } },
    { name: "forkwait", params: { children: 12, pages: 24 } },
    { name: "pagefault", params: { pages: 8, cycles: 12 } },
  ];
  const cases = workloads.flatMap((w) =>
    [false, true].flatMap((asid) =>
      STRATEGIES.map((strategy) => ({ ...w, params: { ...w.params, asid }, strategy })),
    ),
  );
  it.each(cases)("$name $params under $strategy", ({ name, params, strategy }) => {
    const run = expectNative(workloadImage(name, params), strategy);
    if (strategy === PROACTIVE && name === "forkwait") {
      // Every exit frees the child's tables, which the kernel then reuses: flooding unshadows them.
      expect(hv(run, "exit.wp_fault")).toBeGreaterThan(0);
      expect(hv(run, "shadow.flooded")).toBeGreaterThan(0);
      expect(hv(run, "shadow.unshadowed")).toBeGreaterThan(0);
    }
    if (strategy !== PROACTIVE) expect(hv(run, "exit.wp_fault")).toBe(0);
  });
});
