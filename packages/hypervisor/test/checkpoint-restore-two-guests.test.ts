/**
 * A checkpoint of a hypervisor running two time-sliced guests, taken between
 * slices: every run after a restore ends exactly as the uninterrupted run
 * (consoles, states, every counter), in every (mode, strategy) pair. In hw
 * mode this covers what the monitor keeps of the hart for the guests: each
 * guest's VS state, and which shadow VMID 0's TLB space may hold.
 */
import { compute } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { EXECUTION_MODES } from "../src/paging/strategy.ts";

const GUEST_RAM = 16 << 20;
const BUDGET = 5_000_000;
const kernels = [3_000, 20_000].map((iterations) => compute.build(compute.schema.parse({ iterations })));
const targets = EXECUTION_MODES.flatMap((mode) => strategyNames(mode).map((s) => [mode, s] as const));

function start(mode: (typeof EXECUTION_MODES)[number], strategy: string): Hypervisor {
  const hv = new Hypervisor({ mode, slice: 20_000, guestRamSize: GUEST_RAM, machine: { ramSize: 96 << 20 } });
  for (const k of kernels) hv.addGuest(k, strategy);
  return hv;
}

function observe(hv: Hypervisor) {
  return {
    guests: hv.guests.map((g) => ({ state: g.state, output: g.output, exitCode: g.exitCode })),
    stats: hv.machine.snapshot(),
  };
}

describe("checkpoint and restore with two guests", () => {
  it.each(targets)(
    "in %s mode under %s, a run after a restore is the uninterrupted run",
    (mode, strategy) => {
      const fresh = start(mode, strategy);
      fresh.run({ maxInstructions: BUDGET });
      const whole = observe(fresh);
      expect(whole.guests.map((g) => g.state)).toEqual(["exited", "exited"]);

      const hv = start(mode, strategy);
      // Three slices in: both guests have run and the hart has switched twice.
      hv.run({ maxInstructions: 3 * 20_000 });
      const cp = hv.machine.checkpoint();
      hv.run({ maxInstructions: BUDGET });
      expect(observe(hv)).toEqual(whole);
      for (let i = 0; i < 2; i++) {
        hv.machine.restore(cp);
        hv.run({ maxInstructions: BUDGET });
        expect(observe(hv)).toEqual(whole);
      }
    },
  );
});
