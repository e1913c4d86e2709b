/**
 * Timer interrupts strike the same guest instruction as natively. Time is
 * mtime = instret / instructionsPerTick, and natively the image's M-mode boot
 * stub retires instructions before supervisor_entry; the hypervisor plays the
 * stub's part, so it must start the clock where the stub leaves it
 * (boot-clock.ts). With the clock a few instructions off, every deadline the
 * guest arms fell on a different instruction: preempt's output was equal but
 * its region of interest retired 4 more instructions under every strategy.
 * Here the ROI instruction counts equal the native ones for every (mode,
 * strategy) pair, and in trap mode so does every trap the guest takes:
 * (instret, scause, sepc) at each delivery, in order.
 */
import { Machine } from "@shadowlab/emu-core";
import { preempt } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { nativeBootInstructions } from "../src/boot-clock.ts";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { EXECUTION_MODES } from "../src/paging/strategy.ts";

const BUDGET = 50_000_000;
/** The quick suite's parameters, where the 4-instruction difference showed. */
const image = preempt.build(preempt.schema.parse(preempt.quick[0]));

type TrapEntry = readonly [instret: number, scause: number, sepc: number];

function runNative() {
  const m = new Machine();
  m.load(image);
  const h = m.hart;
  const traps: TrapEntry[] = [];
  const take = h.trap.bind(h);
  // Every trap the kernel takes is delegated to S: record it as it lands there.
  h.trap = (cause, tval, interrupt) => {
    const before = h.traps.toS;
    take(cause, tval, interrupt);
    if (h.traps.toS !== before) traps.push([h.instret, h.scause, h.sepc]);
  };
  const r = m.run({ maxInstructions: BUDGET });
  return { reason: r.reason, rois: roiInstructions(m), traps, output: m.output };
}

/** The monitor's delivery of an exception or interrupt into the guest (private: observed, not changed). */
interface Reflecting {
  reflect(g: { vcpu: { scause: number; sepc: number } }, cause: number, tval: number, intr?: boolean): void;
}

function runHv(mode: (typeof EXECUTION_MODES)[number], strategy: string) {
  const hv = new Hypervisor({ mode });
  const traps: TrapEntry[] = [];
  if (mode === "trap") {
    const r = hv as unknown as Reflecting;
    const deliver = r.reflect.bind(hv);
    r.reflect = (g, cause, tval, intr) => {
      deliver(g, cause, tval, intr);
      traps.push([hv.machine.hart.instret, g.vcpu.scause, g.vcpu.sepc]);
    };
  }
  hv.addGuest(image, strategy);
  const [g] = hv.run({ maxInstructions: BUDGET }).guests;
  return { state: g.state, error: g.error, rois: roiInstructions(hv.machine), traps, output: g.output };
}

function roiInstructions(m: Machine): number[] {
  return m.roiRegions().map((r) => r.stats.instructions.total);
}

const native = runNative();
const pairs = EXECUTION_MODES.flatMap((mode) => strategyNames(mode).map((s) => [mode, s] as const));

describe("the guest's clock starts where its native boot leaves it", () => {
  it("the boot stub's instructions are measured from the image", () => {
    // The workloads' stub is straight-line code ending in mret: one count per instruction, more than none.
    expect(nativeBootInstructions(image, 128 * 1024 * 1024)).toBeGreaterThan(0);
  });

  it("natively preempt exits with a region of interest and timer interrupts", () => {
    expect(native.reason).toBe("exit");
    expect(native.rois.length).toBe(1);
    expect(native.traps.filter(([, scause]) => scause === 0x8000_0005).length).toBeGreaterThan(10);
  });

  it.each(pairs)(
    "mode %s, strategy %s: equal ROI instructions and trap sequence",
    (mode, strategy) => {
      const hv = runHv(mode, strategy);
      expect(hv.error).toBe("");
      expect(hv.state).toBe("exited");
      expect(hv.output).toBe(native.output);
      expect(hv.rois).toEqual(native.rois);
      if (mode === "trap") expect(hv.traps).toEqual(native.traps);
    },
    60_000,
  );
});
