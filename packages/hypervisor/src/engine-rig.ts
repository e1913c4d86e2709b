/**
 * emu-core's EnginePair one layer up: a guest under the hypervisor on one
 * engine. What a step lets one observe is the hypervisor's run result (the
 * guests' states, exit codes, consoles and errors, the run's counters) and
 * the whole machine after it (observeMachine: registers, CSRs, TLBs, RAM and
 * every counter, the hypervisor's included through extraCounters).
 */
import { observeMachine, type Rig } from "@shadowlab/emu-core";
import type { Hypervisor } from "./monitor.ts";

/** How a step ended: "mark" when it stopped at an ROI mark, else the first guest's state ("runnable" or "waiting" while the budget ends it). */
export const HV_BUDGET_STOPS = ["runnable", "waiting"] as const;

export function hvRig(hv: Hypervisor): Rig {
  return {
    machine: hv.machine,
    step(opts) {
      const r = hv.run(opts);
      const stopped = r.stoppedAtMark ? "mark" : (r.guests[0]?.state ?? "none");
      return { stopped, seen: { run: r, machine: observeMachine(hv.machine) } };
    },
  };
}
