/**
 * Counters are classified by prefix, so counters of strategies added later
 * are costed with no change; anything no rule knows is visible.
 */
import { describe, expect, it } from "vitest";
import { classify, EVENT_CLASSES, modelCycles, PROFILES, RECENT_CORE, VTX_2006 } from "../src/cost.ts";

describe("event classes", () => {
  it("counts each hypervisor exit once, plus what its handler did", () => {
    const { events, unclassified } = classify({
      "instructions.total": 1000,
      "tlb.itlb.hits": 5,
      "tlb.dtlb.hits": 7,
      "walk.memRefs": 9,
      "traps.toS": 2,
      "traps.toHandler": 40,
      "hv.exit.emulate.csr.satp": 3,
      "hv.exit.emulate.sret": 2,
      "hv.exit.mmio.store": 4,
      "hv.exit.reflect.ecall_u": 6,
      "hv.exit.hidden_fault": 10,
      "hv.exit.wp_fault": 2,
      "hv.shadow.pte_write": 2,
      "hv.exit.some_future_reason": 1,
      "hv.inject.supervisor_timer": 3,
      "hv.shadow.fill": 9,
      "hv.shadow.fill_dirty": 1,
      "hv.shadow.flush_page": 2,
      "hv.tlb_flush.asid": 3,
      "hv.shadow.entries_flushed": 20,
      "hv.shadow.tables_created": 4,
      "hv.shadow.created": 4,
      "hv.shadow.leaf_tables_created": 6,
      "hv.tlb_flush.switch": 7,
      "device.loads": 11,
      "device.stores": 1,
      "hv.asid.alloc": 5,
      "hv.guest_switch": 1,
      "hv.idle.time_skipped": 12345,
      "hv.sbi.base.probe_extension": 1,
      "hv.novel.thing": 8,
    });
    expect(events).toEqual({
      instruction: 1000,
      tlb_hit: 12,
      walk_ref: 9,
      trap: 2,
      device: 11 + 1 + 4,
      exit: 3 + 2 + 4 + 6 + 10 + 2 + 1,
      emulate: 5,
      mmio: 4,
      reflect: 6 + 3,
      shadow_fill: 10,
      wp_fault: 2,
      flush: 3,
      flush_entry: 20,
      shadow_table: 4 + 6,
      asid: 5,
      guest_switch: 1,
      // shadow.flush_page, idle, sbi, shadow.pte_write, shadow.created, tlb_flush.switch
      bookkeeping: 2 + 12345 + 1 + 2 + 4 + 7,
      other: 8,
    });
    expect(unclassified).toEqual(["hv.novel.thing"]);
  });

  it("prices every class in every profile, each a finite non-negative number", () => {
    expect([...PROFILES.keys()]).toEqual(["recent-core", "vtx-2006"]);
    for (const p of PROFILES.values())
      for (const c of EVENT_CLASSES) expect(p.cycles[c]).toBeGreaterThanOrEqual(0);
    expect(RECENT_CORE.cycles.exit).toBe(2000);
    const { events } = classify({ "instructions.total": 100, "hv.exit.mmio.load": 1 });
    expect(modelCycles(events, VTX_2006).total).toBe(100 + 15_826);
  });

  it("prices no event twice: a traced write is an exit plus its emulation, a new shadow one table", () => {
    const price = (counters: Record<string, number>) =>
      modelCycles(classify(counters).events, VTX_2006).total;
    // shadow-proactive counts a traced write as exit.wp_fault and shadow.pte_write: A&A's ptemod, 12,733
    expect(price({ "hv.exit.wp_fault": 1, "hv.shadow.pte_write": 1 })).toBe(12_733);
    expect(price({ "hv.shadow.created": 1, "hv.shadow.tables_created": 1 })).toBe(
      VTX_2006.cycles.shadow_table,
    );
    // guest sfence.vma under on-demand: one exit + emulation, one machine flush, the entries dropped
    expect(
      price({
        "hv.exit.emulate.sfence.vma": 1,
        "hv.shadow.flush_page": 1,
        "hv.tlb_flush.page": 1,
        "hv.shadow.entries_flushed": 2,
      }),
    ).toBe(2_000 + 300 + 500 + 2 * 10);
  });

  it("prices bookkeeping at nothing and a device access the same natively and inside an emulated one", () => {
    for (const p of PROFILES.values()) {
      expect(p.cycles.bookkeeping).toBe(0);
      const native = modelCycles(classify({ "device.loads": 1 }).events, p).total;
      const virtual = modelCycles(classify({ "hv.exit.mmio.load": 1 }).events, p).total;
      expect(native).toBe(p.cycles.device);
      expect(virtual).toBe(p.cycles.exit + p.cycles.mmio + p.cycles.device);
    }
  });
});
