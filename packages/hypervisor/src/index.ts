export { counterTable, type HvIo, hvCommands, main as hvMain } from "./cli.ts";
export { HvCounters } from "./counters.ts";
export { Guest, type GuestState } from "./guest.ts";
export { GuestMemory } from "./guest-memory.ts";
export { type GuestView, GuestWalkResult, guestWalk } from "./guest-walk.ts";
export { MachinePages } from "./machine-pages.ts";
export {
  DEFAULT_HYPERVISOR,
  type GuestResult,
  type HvRunResult,
  Hypervisor,
  type HypervisorConfig,
} from "./monitor.ts";
export { describeStrategy, STRATEGY_DESCRIPTIONS } from "./paging/descriptions.ts";
export { STRATEGIES, strategyFactory, strategyNames } from "./paging/registry.ts";
export { FAULT, type FaultOutcome, type PagingStrategy, type StrategyFactory } from "./paging/strategy.ts";
export { ShadowCore, shadowFlags } from "./shadow-core.ts";
export {
  defaultShadowBudget,
  machineRamFor,
  SHADOW_HEADROOM_PAGES,
  ShadowPages,
} from "./shadow-pages.ts";
export { ShadowTable } from "./shadow-table.ts";
export { VCpu } from "./vcpu.ts";
