/** Rigs for emu-core's EnginePair: the hypervisor's (src/engine-rig.ts) and an image on a bare machine. */
import { type Image, Machine, type MachineConfig, machineRig, type Rig } from "@shadowlab/emu-core";

export { HV_BUDGET_STOPS, hvRig } from "../../src/engine-rig.ts";

/** An image on a bare machine. */
export function imageRig(image: Image, config: Partial<MachineConfig>): Rig {
  const m = new Machine(config);
  m.load(image);
  return machineRig(m);
}
