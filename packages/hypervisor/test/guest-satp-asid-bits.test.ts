/**
 * The guest's satp implements the ASID bits of the machine it believes it
 * runs on: all of them with an ASID-tagged TLB, none (ASIDLEN = 0, satp.ASID
 * reads as zero) without tags, as the machine's own satp does. Found by the
 * fuzzer: a guest that switched ASIDs without fencing saw its ASIDs survive
 * under the hypervisor but not natively.
 */
import { DEFAULT_TLB, Machine } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { buildGuest } from "./support/hv-guest.ts";

const image = buildGuest({
  body(g) {
    // Bare mode with an ASID: written and read back, translation stays off.
    g.a
      .li("t0", 0x1ab << 22)
      .csrw("satp", "t0")
      .csrr("s2", "satp")
      .csrw("satp", "zero");
    g.show("satp", "s2");
  },
});

describe.each(strategyNames())("%s: satp.ASID as the machine implements it", (strategy) => {
  it.each([true, false])("ASID-tagged TLB %s", (asidTags) => {
    const tlb = { ...DEFAULT_TLB, asidTags };
    const m = new Machine({ tlb });
    m.load(image);
    m.run({ maxInstructions: 1e6 });
    expect(m.output).toBe(asidTags ? "satp=6ac00000\n" : "satp=00000000\n");
    const hv = new Hypervisor({ machine: { tlb } });
    hv.addGuest(image, strategy);
    const g = hv.run({ maxInstructions: 1e6 }).guests[0];
    expect(g.error).toBe("");
    expect(g.output).toBe(m.output);
  });
});
