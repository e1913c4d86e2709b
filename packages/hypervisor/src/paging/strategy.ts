/**
 * The paging-strategy interface. Its hooks are the events that matter to a
 * memory virtualizer; the shared machinery they need (walking the guest's
 * tables, turning a guest leaf into a shadow entry, A/D bits, the views of
 * pretend-S and pretend-U, flushing the machine's TLB) is the ShadowCore a
 * strategy is constructed with, so a strategy file holds only what makes
 * that strategy different.
 */
import { type Access, captureState, type ObjectState } from "@shadowlab/emu-core";
import type { ShadowCore } from "../shadow-core.ts";

/** What became of a page fault that reached the hypervisor. */
export const FAULT = {
  /** Hidden: the shadow was filled (or fixed); resume the guest at the same pc. */
  FILLED: 0,
  /** The guest's own fault: reflect `core.lastCause` into the guest. */
  REFLECT: 1,
  /** A load/store to a device page: emulate it against the device at `core.lastGpa`. */
  MMIO: 2,
  /** The strategy emulated the faulting instruction itself (e.g. a write to a protected guest page table) and counted the exit under `exit.`. */
  EMULATED: 3,
} as const;
export type FaultOutcome = (typeof FAULT)[keyof typeof FAULT];

export interface PagingStrategy {
  readonly name: string;
  /** Machine page-table root (PPN) to run the guest with in its current satp and view. */
  root(): number;
  /** Machine ASID that root runs under. */
  asid(): number;
  /** The guest wrote satp (after the vCPU holds the new value). */
  onSatpWrite(oldSatp: number, newSatp: number): void;
  /** The guest ran sfence.vma; undefined means the operand was x0 (all). */
  onSfence(vaddr: number | undefined, asid: number | undefined): void;
  /** The guest's pretend mode, SUM or MXR changed. */
  onViewChange(): void;
  /** A page fault from the guest reached the hypervisor. */
  onPageFault(va: number, access: Access): FaultOutcome;
  /** Counters of this strategy's own (merged into the hypervisor's). */
  dispose(): void;
  /**
   * Everything the strategy keeps on the TypeScript side (its shadows'
   * entries live in machine RAM, which the machine's checkpoint restores),
   * for the hypervisor's checkpoints. `strategyCheckpoint` captures the
   * objects reachable from the strategy; a strategy with state it cannot
   * see (closures over mutable variables, WeakMaps) saves that too.
   */
  checkpoint(): unknown;
  /** Return to the state `checkpoint()` returned, in place. */
  restore(state: unknown): void;
}

/**
 * The state of a strategy as the objects reachable from it hold it, not
 * entering the shared machinery of its core (hart, vCPU, guest memory,
 * machine pages, counters, ASIDs: the monitor checkpoints those).
 * Give it back with `restoreState`.
 */
export function strategyCheckpoint(strategy: PagingStrategy, core: ShadowCore): ObjectState {
  const shared = new Set<object>([core]);
  for (const v of Object.values(core)) if (typeof v === "object" && v !== null) shared.add(v);
  return captureState([strategy], shared);
}

export type StrategyFactory = (core: ShadowCore) => PagingStrategy;
