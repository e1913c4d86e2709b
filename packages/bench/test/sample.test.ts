/**
 * The sampling function: a counted run finds the measured region; a sampler
 * booted to its start and checkpointed there gives, restore after restore,
 * exactly the region the counted run measured.
 */
import { Assembler } from "@shadowlab/emu-core";
import { strategyNames } from "@shadowlab/hypervisor";
import { getWorkload } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { buildRig, countedRun, regionSampler } from "../src/sample.ts";
import { DEFAULT_MACHINE_SPEC, NATIVE } from "../src/suite.ts";

const BUDGET = 50_000_000;
const machine = { ...DEFAULT_MACHINE_SPEC, tlbWays: 4, ramMib: 32 };

describe("regions of a counted run", () => {
  it("a guest with no marks has no region; the counts of its marks say so", () => {
    const a = new Assembler({ text: 0x8000_0000 });
    a.label("_start").li("t0", 0x10_0000).li("t1", 0x5555).sw("t1", 0, "t0");
    const c = countedRun(a.assemble(), machine, NATIVE, 1000);
    expect(c.run.reason).toBe("exit");
    expect(c.roi).toBeUndefined();
    expect(c.marks).toEqual({ begin: 0, end: 0 });
  });

  it("the measured region is the last complete one; a sampler skips to its begin mark", () => {
    const a = new Assembler({ text: 0x8000_0000 });
    a.label("_start");
    for (const n of [5, 50]) {
      a.li("s0", n).roiBegin();
      a.label(`l${n}`).addi("s0", "s0", -1).bnez("s0", `l${n}`);
      a.roiEnd("zero");
    }
    a.li("t0", 0x10_0000).li("t1", 0x5555).sw("t1", 0, "t0");
    const img = a.assemble();
    const c = countedRun(img, machine, NATIVE, 10_000);
    expect(c.beginOrdinal).toBe(2);
    expect(c.roi?.stats.instructions.total).toBe(101);
    const s = regionSampler(img, machine, NATIVE, 10_000, c.beginOrdinal);
    s.prepare();
    expect(s.sample()).toBe(101);
  });
});

describe.each([NATIVE, ...strategyNames()])("sampling a region under %s", (strategy) => {
  it("every sample retires the counted region, counter for counter", () => {
    const w = getWorkload("pagefault");
    const img = w.build(w.schema.parse({ pages: 3, cycles: 20 }));
    const c = countedRun(img, machine, strategy, BUDGET);
    expect(c.run.reason).toBe("exit");
    const s = regionSampler(img, machine, strategy, BUDGET, c.beginOrdinal);
    for (let i = 0; i < 3; i++) {
      s.prepare();
      expect(s.sample()).toBe(c.roi?.stats.instructions.total);
    }
    // The region's counters from a rig stopped at its marks equal the counted run's.
    const rig = buildRig(img, machine, strategy);
    for (let i = 0; i < c.beginOrdinal; i++) rig.run(BUDGET, "begin");
    const region = rig.run(BUDGET, "end");
    expect(region.stats).toEqual(c.roi?.stats);
  });
});
