/**
 * Paging strategies by name. Adding one is a file in this folder plus one
 * line here; the transparency suite and every experiment suite iterate this
 * registry, so a new strategy is tested and measured with no other change.
 */
import { ShadowOnDemand } from "./shadow-ondemand.ts";
import { ShadowProactive } from "./shadow-proactive.ts";
import { ShadowTagged } from "./shadow-tagged.ts";
import type { StrategyFactory } from "./strategy.ts";

export const STRATEGIES: ReadonlyMap<string, StrategyFactory> = new Map<string, StrategyFactory>([
  ["shadow-ondemand", (core) => new ShadowOnDemand(core)],
  ["shadow-proactive", (core) => new ShadowProactive(core)],
  ["shadow-tagged", (core) => new ShadowTagged(core)],
]);

export function strategyNames(): string[] {
  return [...STRATEGIES.keys()];
}

export function strategyFactory(name: string): StrategyFactory {
  const f = STRATEGIES.get(name);
  if (!f) throw new RangeError(`unknown paging strategy "${name}" (known: ${strategyNames().join(", ")})`);
  return f;
}
