/**
 * Every counter of a run in one place. The hot counters live where the hot
 * code is (the hart, the TLBs, the walker); `snapshot()` gathers them into a
 * plain, JSON-friendly object that can be diffed.
 */
import type { WalkCounters } from "./mmu.ts";
import type { TlbCounters } from "./tlb.ts";

export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  0: "misaligned_fetch",
  1: "fetch_access",
  2: "illegal_instruction",
  3: "breakpoint",
  4: "misaligned_load",
  5: "load_access",
  6: "misaligned_store",
  7: "store_access",
  8: "ecall_u",
  9: "ecall_s",
  11: "ecall_m",
  12: "fetch_page_fault",
  13: "load_page_fault",
  15: "store_page_fault",
};

export const INTERRUPT_NAMES: Readonly<Record<number, string>> = {
  1: "supervisor_software",
  3: "machine_software",
  5: "supervisor_timer",
  7: "machine_timer",
  9: "supervisor_external",
  11: "machine_external",
};

/** Trap counters kept by the hart. */
export class TrapCounters {
  /** Exceptions by cause (index = cause). */
  readonly exceptions = new Float64Array(16);
  /** Interrupts by cause (index = interrupt number). */
  readonly interrupts = new Float64Array(16);
  /** Traps taken into M-mode via mtvec, into S-mode via stvec, and by the TypeScript M-mode handler. */
  toM = 0;
  toS = 0;
  toHandler = 0;
}

export interface StatsSnapshot {
  instructions: { total: number; user: number; supervisor: number; machine: number };
  cycles: number;
  time: number;
  traps: {
    exceptions: Record<string, number>;
    interrupts: Record<string, number>;
    toM: number;
    toS: number;
    toHandler: number;
  };
  /** One entry when the TLB is unified ("tlb"), two when split ("itlb", "dtlb"). */
  tlb: Record<string, TlbCounters>;
  walk: WalkCounters;
  /** Counters contributed by other layers (a hypervisor, devices, ...). */
  extra: Record<string, number>;
}

function named(counts: Float64Array, names: Readonly<Record<number, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, name] of Object.entries(names)) out[name] = counts[Number(k)];
  return out;
}

export function trapSnapshot(t: TrapCounters): StatsSnapshot["traps"] {
  return {
    exceptions: named(t.exceptions, EXCEPTION_NAMES),
    interrupts: named(t.interrupts, INTERRUPT_NAMES),
    toM: t.toM,
    toS: t.toS,
    toHandler: t.toHandler,
  };
}

type Tree = { [k: string]: number | Tree };

function diffTree(after: Tree, before: Tree): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(after)) {
    const b = before[k];
    if (typeof v === "number") out[k] = v - (typeof b === "number" ? b : 0);
    else out[k] = diffTree(v, typeof b === "object" ? b : {});
  }
  return out;
}

/** Counter-wise `after - before` (counters missing from `before` count from zero). */
export function diffStats(after: StatsSnapshot, before: StatsSnapshot): StatsSnapshot {
  return diffTree(after as unknown as Tree, before as unknown as Tree) as unknown as StatsSnapshot;
}
