/**
 * Paging strategies by name. Adding one is a file in this folder plus one
 * line here; the transparency suite and every experiment suite iterate this
 * registry, so a new strategy is tested and measured with no other change.
 */
import { Nested } from "./nested.ts";
import { ShadowOnDemand } from "./shadow-ondemand.ts";
import { ShadowProactive } from "./shadow-proactive.ts";
import { ShadowTagged } from "./shadow-tagged.ts";
import { type ExecutionMode, SHADOW_MODES, type StrategyFactory } from "./strategy.ts";

/** A registered strategy: how to make it, and the execution modes it runs in. */
export interface RegisteredStrategy {
  readonly make: StrategyFactory;
  readonly modes: readonly ExecutionMode[];
}

/** Shadow strategies run in every mode. */
const shadow = (make: StrategyFactory): RegisteredStrategy => ({ make, modes: SHADOW_MODES });

export const STRATEGIES: ReadonlyMap<string, RegisteredStrategy> = new Map<string, RegisteredStrategy>([
  ["shadow-ondemand", shadow((core) => new ShadowOnDemand(core))],
  ["shadow-proactive", shadow((core) => new ShadowProactive(core))],
  ["shadow-tagged", shadow((core) => new ShadowTagged(core))],
  ["nested", { make: (core) => new Nested(core), modes: Nested.modes }],
]);

/** The strategies that run in `mode` (default trap, the classic monitor), or in any mode. */
export function strategyNames(mode: ExecutionMode | "any" = "trap"): string[] {
  return [...STRATEGIES].filter(([, r]) => mode === "any" || r.modes.includes(mode)).map(([n]) => n);
}

/** The execution modes a registered strategy runs in (none for an unknown name). */
export function modesOf(name: string): readonly ExecutionMode[] {
  return STRATEGIES.get(name)?.modes ?? [];
}

export function strategyFactory(name: string, mode: ExecutionMode = "trap"): StrategyFactory {
  const r = STRATEGIES.get(name);
  if (!r)
    throw new RangeError(`unknown paging strategy "${name}" (known: ${strategyNames("any").join(", ")})`);
  if (!r.modes.includes(mode))
    throw new RangeError(
      `paging strategy "${name}" does not run in ${mode} mode (it runs in: ${r.modes.join(", ")})`,
    );
  return r.make;
}
