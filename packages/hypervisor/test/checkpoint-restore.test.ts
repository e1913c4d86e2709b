/**
 * Checkpoints of a machine running a guest kernel, natively and under every
 * registered paging strategy (the registry is iterated, so a new strategy is
 * covered here with no change): the run after a restore is exact — every
 * machine and hypervisor counter, the console, registers and RAM equal the
 * run after the checkpoint and an uninterrupted fresh run — however often
 * it is restored, and restore copies back only the pages written since,
 * the same number whatever the machine's RAM size.
 */
import { Machine, type RoiKind, type StatsSnapshot } from "@shadowlab/emu-core";
import { getWorkload } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { FAULT, type PagingStrategy } from "../src/paging/strategy.ts";

const NATIVE = "native";
const MODES = [NATIVE, ...strategyNames()];
/** Several times what the longest case retires (about 700,000 instructions): only a guard against a runaway guest. */
const BUDGET = 5_000_000;
const GUEST_RAM = 16 << 20;

/** Workloads that switch address spaces, fork and free, map and unmap, and take timer interrupts. */
const CASES = [
  { workload: "ctxswitch", params: { processes: 3, pages: 2, rounds: 5 } },
  { workload: "forkwait", params: { children: 4, pages: 2 } },
  { workload: "pagefault", params: { pages: 24, cycles: 6 } },
  { workload: "preempt", params: {} },
];

interface Observed {
  state: string;
  stats: StatsSnapshot;
  output: string;
  pc: number;
  x: number[];
  ram: number;
}

/** A machine running one guest natively or under a strategy, run in steps. */
interface Rig {
  machine: Machine;
  /** Run up to `max` more instructions (or to the next ROI mark of that kind); the guest's state afterwards. */
  run(max: number, stopAtMark?: RoiKind): string;
  output(): string;
}

function rig(mode: string, image: ReturnType<typeof build>, machineRam: number): Rig {
  if (mode === NATIVE) {
    const m = new Machine({ ramSize: GUEST_RAM });
    m.load(image);
    return {
      machine: m,
      run: (max, stopAtMark) => m.run({ maxInstructions: max, stopAtMark }).reason,
      output: () => m.output,
    };
  }
  const hv = new Hypervisor({ machine: { ramSize: machineRam }, guestRamSize: GUEST_RAM });
  hv.addGuest(image, mode);
  return {
    machine: hv.machine,
    run: (max, stopAtMark) => hv.run({ maxInstructions: max, stopAtMark }).guests[0].state,
    output: () => hv.guests[0].output,
  };
}

function build(c: (typeof CASES)[number]) {
  const w = getWorkload(c.workload);
  return w.build(w.schema.parse(c.params));
}

function observe(r: Rig, state: string): Observed {
  const h = r.machine.hart;
  return {
    state,
    stats: r.machine.snapshot(),
    output: r.output(),
    pc: h.pc,
    x: [...h.x],
    ram: ramDigest(h.ram32),
  };
}

/** FNV-1a over every word of RAM. */
function ramDigest(ram: Int32Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < ram.length; i++) hash = Math.imul(hash ^ ram[i], 0x01000193);
  return hash >>> 0;
}

describe.each(MODES)("checkpoint and restore under %s", (mode) => {
  it.each(CASES)("$workload: every run after a restore is the fresh run, restore after restore", (c) => {
    const image = build(c);
    const fresh = rig(mode, image, 2 * GUEST_RAM);
    const whole = observe(fresh, fresh.run(BUDGET));
    expect(whole.state).toMatch(/^exit/);
    const total = whole.stats.instructions.total;

    const r = rig(mode, image, 2 * GUEST_RAM);
    r.run(Math.floor(total / 2));
    const cp = r.machine.checkpoint();
    const midway = observe(r, "midway");
    expect(observe(r, r.run(BUDGET))).toEqual(whole);
    for (let i = 0; i < 2; i++) {
      r.machine.restore(cp);
      expect(r.machine.restoredPages).toBeGreaterThan(0);
      expect(observe(r, "midway")).toEqual(midway);
      expect(observe(r, r.run(BUDGET))).toEqual(whole);
    }
  });

  it("restore copies back the pages written since the checkpoint, as many whatever the RAM size", () => {
    const image = build(CASES[2]);
    const copied = [2 * GUEST_RAM, 4 * GUEST_RAM].map((machineRam) => {
      const r = rig(mode, image, machineRam);
      r.run(20_000);
      const cp = r.machine.checkpoint();
      r.run(BUDGET);
      const written = r.machine.pagesWrittenSinceCheckpoint;
      r.machine.restore(cp);
      expect(r.machine.restoredPages).toBe(written);
      // Restoring again right away has nothing to copy.
      r.machine.restore(cp);
      expect(r.machine.restoredPages).toBe(0);
      return written;
    });
    expect(copied[0]).toBeGreaterThan(24);
    expect(copied[1]).toBe(copied[0]);
  });
});

describe("a paging strategy must say how it is checkpointed", () => {
  it("every registered strategy implements checkpoint and restore", () => {
    for (const name of strategyNames()) {
      const hv = new Hypervisor({ machine: { ramSize: 2 * GUEST_RAM }, guestRamSize: GUEST_RAM });
      const { strategy } = hv.addGuest(build(CASES[0]), name);
      expect(typeof strategy.checkpoint).toBe("function");
      expect(typeof strategy.restore).toBe("function");
    }
    // And the type system refuses one that does not (checked by `npm run typecheck`).
    // @ts-expect-error checkpoint and restore are missing
    const incomplete: PagingStrategy = {
      name: "incomplete",
      root: () => 0,
      asid: () => 0,
      onSatpWrite() {},
      onSfence() {},
      onViewChange() {},
      onPageFault: () => FAULT.REFLECT,
      dispose() {},
    };
    expect(incomplete.name).toBe("incomplete");
  });
});

describe.each(MODES)("a checkpoint at the ROI begin under %s", (mode) => {
  it("each restored sample measures the region the fresh run measures", () => {
    const image = build(CASES[0]);
    const roiOf = (r: Rig) => r.machine.roi()?.stats;
    const fresh = rig(mode, image, 2 * GUEST_RAM);
    fresh.run(BUDGET);
    const measured = roiOf(fresh);
    expect(measured?.instructions.total).toBeGreaterThan(0);

    const r = rig(mode, image, 2 * GUEST_RAM);
    const begins = (n: number) => {
      for (let i = 0; i < n; i++) r.run(BUDGET, "begin");
    };
    // The measured region is the last one: start from the last begin mark the fresh run retired.
    begins(fresh.machine.roiMarks.filter((m) => m.kind === "begin").length);
    const cp = r.machine.checkpoint();
    for (let sample = 0; sample < 3; sample++) {
      r.run(BUDGET, "end");
      expect(roiOf(r)).toEqual(measured);
      r.machine.restore(cp);
    }
  });
});

describe("a checkpoint belongs to its machine", () => {
  it("a native checkpoint is refused by a hypervisor's machine of another size, naming the field", () => {
    const image = build(CASES[0]);
    const native = rig(NATIVE, image, GUEST_RAM);
    native.run(10_000);
    const cp = native.machine.checkpoint();
    const hv = rig("shadow-ondemand", image, 2 * GUEST_RAM);
    expect(() => hv.machine.restore(cp)).toThrow(/ramSize=16777216, this machine ramSize=33554432/);
  });
});
