/**
 * A guest edits the page table of an address space that is not running and
 * then switches to it. Two roots A and B each map VA (and VA2) through a
 * level-0 table of their own. With A running, the guest repoints B's leaf
 * for VA at another page (a store into B's inactive level-0 table), fences
 * as the spec requires (sfence.vma x0, asidB; or x0, x0 without ASIDs),
 * switches to B and reads: it must see the new page. Then it repoints B's
 * root entry at a different level-0 table (an inactive root edit) and does
 * the same. Between the two, the instructions retired across the edit are
 * printed: an emulated page-table store retires like any other instruction.
 *
 * shadow-proactive keeps B's shadow while A runs, with B's tables
 * write-protected in A's shadow: the edits must trap there (wp faults, PTE
 * writes emulated) and drop exactly what they feed, and switching back to
 * B must reuse its shadow rather than build a new one.
 */
import { describe, expect, it } from "vitest";
import { l0Slot, leaf, pg, ptGuest, ptr, rootSlot, VA, VA2 } from "./support/strategy-guests.ts";
import { expectNative, hv, PROACTIVE, runNative, STRATEGIES, TAGGED } from "./support/strategy-harness.ts";

const ROOT_A = pg(0);
const ROOT_B = pg(1);
const L0_A = pg(2);
const L0_B = pg(3);
const L0_B2 = pg(4);
const DATA_A = pg(5);
const DATA_B1 = pg(6);
const DATA_B2 = pg(7);
const DATA_B3 = pg(8);

const VALUES: Record<number, number> = {
  [DATA_A]: 0xaaaa_0001,
  [DATA_B1]: 0xbbbb_0001,
  [DATA_B2]: 0xbbbb_0002,
  [DATA_B3]: 0xbbbb_0003,
};

function program(withAsid: boolean) {
  const asidA = withAsid ? 1 : 0;
  const asidB = withAsid ? 2 : 0;
  return ptGuest((p) => {
    // Build both address spaces with translation off.
    for (const [pa, v] of Object.entries(VALUES)) p.zeroPage(Number(pa)).store(Number(pa), v);
    p.kernelRoot(ROOT_A).kernelRoot(ROOT_B);
    for (const t of [L0_A, L0_B, L0_B2]) p.zeroPage(t);
    p.store(rootSlot(ROOT_A, VA), ptr(L0_A));
    p.store(l0Slot(L0_A, VA), leaf(DATA_A));
    p.store(rootSlot(ROOT_B, VA), ptr(L0_B));
    p.store(l0Slot(L0_B, VA), leaf(DATA_B1));
    p.store(l0Slot(L0_B, VA2), leaf(DATA_B1));
    p.store(l0Slot(L0_B2, VA), leaf(DATA_B3));
    p.store(l0Slot(L0_B2, VA2), leaf(DATA_B3));
    p.satp(ROOT_A, asidA).sfence();
    p.show("a0", VA);
    // Use B, so that its translations (and, in a caching strategy, its shadow) exist.
    p.switchTo(ROOT_B, asidB).show("b0", VA).show("b1", VA2);
    p.switchTo(ROOT_A, asidA).show("a1", VA);
    // Edit B's level-0 table while A runs, counting the instructions it takes.
    p.a.csrr("s2", "instret");
    p.store(l0Slot(L0_B, VA), leaf(DATA_B2));
    p.a.csrr("s3", "instret");
    p.a.sub("s4", "s3", "s2");
    p.sfence(undefined, asidB);
    p.show("a2", VA); // A is untouched
    p.switchTo(ROOT_B, asidB).show("b2", VA).show("b3", VA2);
    // Edit B's root while A runs: VA and VA2 now go through another level-0 table.
    p.switchTo(ROOT_A, asidA);
    p.store(rootSlot(ROOT_B, VA), ptr(L0_B2));
    p.sfence(undefined, asidB);
    p.switchTo(ROOT_B, asidB).show("b4", VA).show("b5", VA2);
    // And back to the first table, edited again while A runs, with a fence by address and ASID.
    p.switchTo(ROOT_A, asidA);
    p.store(rootSlot(ROOT_B, VA), ptr(L0_B));
    p.store(l0Slot(L0_B, VA2), leaf(DATA_B2));
    p.sfence(VA, asidB).sfence(VA2, asidB);
    p.switchTo(ROOT_B, asidB).show("b6", VA).show("b7", VA2);
    p.showReg("edit_instret", "s4");
  });
}

const h = (v: number) => v.toString(16).padStart(8, "0");
const EXPECTED_VALUES = [
  ["a0", 0xaaaa_0001],
  ["b0", 0xbbbb_0001],
  ["b1", 0xbbbb_0001],
  ["a1", 0xaaaa_0001],
  ["a2", 0xaaaa_0001],
  ["b2", 0xbbbb_0002],
  ["b3", 0xbbbb_0001],
  ["b4", 0xbbbb_0003],
  ["b5", 0xbbbb_0003],
  ["b6", 0xbbbb_0002],
  ["b7", 0xbbbb_0002],
] as const;

describe.each([false, true])(
  "editing an inactive address space's page table (guest ASIDs: %s)",
  (withAsid) => {
    const img = program(withAsid);
    // li t0 (2) + li t1 (2) + sw (1) + the csrr that reads the end (which counts itself out).
    const expected = `${EXPECTED_VALUES.map(([n, v]) => `${n}=${h(v)}\n`).join("")}edit_instret=00000005\n`;

    it("natively reads the new mappings (the program tests what it claims)", () => {
      expect(runNative(img).output).toBe(expected);
    });

    it.each(STRATEGIES)("%s gives exactly the native run", (strategy) => {
      expectNative(img, strategy, {}, expected);
    });

    it("shadow-proactive traps the stores into the inactive tables and reuses B's shadow", () => {
      const run = expectNative(img, PROACTIVE);
      // Three edits of B's tables were made while A ran (and zeroing/building happened with translation off).
      expect(hv(run, "exit.wp_fault")).toBeGreaterThanOrEqual(4);
      expect(hv(run, "shadow.pte_write")).toBeGreaterThanOrEqual(4);
      // Each edit dropped what B's shadow had built from the old entry.
      expect(hv(run, "shadow.entries_flushed")).toBeGreaterThanOrEqual(3);
      // Back to B after each edit: the shadow is reused, not rebuilt (one shadow per root and view).
      expect(hv(run, "shadow.reused")).toBeGreaterThanOrEqual(4);
      expect(hv(run, "shadow.flooded")).toBe(0);
      expect(hv(run, "shadow.sfence_nothing_to_do")).toBeGreaterThan(0);
    });

    it("shadow-tagged drops B's stale entries on the guest's fence", () => {
      const run = expectNative(img, TAGGED);
      if (withAsid) {
        expect(hv(run, "shadow.flush_asid")).toBeGreaterThanOrEqual(2);
        expect(hv(run, "shadow.flush_page")).toBeGreaterThanOrEqual(2);
        // B's shadow kept its machine ASID while A ran, so its TLB entries were flushed by that ASID.
        expect(hv(run, "tlb_flush.asid") + hv(run, "tlb_flush.page_asid")).toBeGreaterThan(0);
      } else {
        expect(hv(run, "shadow.flush_all")).toBeGreaterThan(0);
      }
      expect(hv(run, "shadow.entries_flushed")).toBeGreaterThan(0);
    });
  },
);
