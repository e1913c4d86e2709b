/**
 * The engines compared on a random guest: the block translator (translating
 * every block on first sight, so straight-line random code runs translated)
 * against the interpreter, in lockstep, natively or under one target; every
 * eighth seed also in odd-sized chunks, so steps end inside blocks.
 */
import { EngineDifference, EnginePair, type Image, machineRig } from "@shadowlab/emu-core";
import { HV_BUDGET_STOPS, hvRig } from "../engine-rig.ts";
import { bootNative, FUZZ_BUDGET, type Target, targetHypervisor } from "./differential.ts";
import type { FuzzProgram } from "./generate.ts";

/** The first difference between the engines on this guest (natively when `target` is undefined), or undefined. */
export function engineDifference(
  p: FuzzProgram,
  image: Image,
  target: Target | undefined,
): string | undefined {
  const label = `seed ${p.seed} ${target ? `under ${target.strategy} (mode ${target.mode})` : "native"}`;
  const pair =
    target === undefined
      ? new EnginePair((e) => machineRig(bootNative(p, image, e)), label)
      : new EnginePair((e) => hvRig(targetHypervisor(p, image, target, e)), label);
  try {
    if (p.seed % 8 === 1) pair.runChunked(FUZZ_BUDGET, target === undefined ? ["budget"] : HV_BUDGET_STOPS);
    else pair.step({ maxInstructions: FUZZ_BUDGET });
    return undefined;
  } catch (e) {
    if (e instanceof EngineDifference) return e.message;
    throw e;
  }
}
