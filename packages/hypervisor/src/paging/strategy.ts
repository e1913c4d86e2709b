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

/** How the guest kernel runs: `trap` in U-mode with every privileged act emulated; `hw` in VS-mode (H extension). */
export type ExecutionMode = "trap" | "hw";
export const EXECUTION_MODES: readonly ExecutionMode[] = ["trap", "hw"];

/** A fault that reached the hypervisor, by translation stage. */
export interface Fault {
  /**
   * `shadow`: a page fault on the shadow the hypervisor built (the guest-virtual address is known);
   * `guest-physical`: a G-stage (guest-page) fault of two-stage translation (both addresses known).
   */
  readonly stage: "shadow" | "guest-physical";
  readonly access: Access;
  /** Guest-virtual address of the access. */
  readonly gva: number;
  /** Guest-physical address (guest-physical faults only; -1 otherwise). */
  readonly gpa: number;
  /**
   * The G-stage refused the implicit read of a VS-stage PTE at `gpa` (mtinst
   * holds the pseudoinstruction), not the access itself: never a device access.
   */
  readonly implicit: boolean;
}

/**
 * The base of every memory virtualizer: its name, the execution modes it can
 * run in, and its fault hook. Shadow strategies (PagingStrategy) and the
 * nested strategy (NestedStrategy) build on it.
 */
export interface MemoryVirtualizer {
  readonly name: string;
  /** The execution modes it supports (nested needs the hardware G-stage, so hw only). */
  readonly modes: readonly ExecutionMode[];
  /** A fault reached the hypervisor. */
  onFault(fault: Fault): FaultOutcome;
  dispose(): void;
  /**
   * Everything the virtualizer keeps on the TypeScript side (its shadows' and
   * G-stage entries live in machine RAM, which the machine's checkpoint restores),
   * for the hypervisor's checkpoints. `strategyCheckpoint` captures the
   * objects reachable from the strategy; a strategy with state it cannot
   * see (closures over mutable variables, WeakMaps) saves that too.
   */
  checkpoint(): unknown;
  /** Return to the state `checkpoint()` returned, in place. */
  restore(state: unknown): void;
}

/** Shadow strategies run in both modes: in hw mode the shadow root goes in vsatp with hgatp Bare. */
export const SHADOW_MODES: readonly ExecutionMode[] = EXECUTION_MODES;

/**
 * Nested paging: the guest owns vsatp and its tables; the hypervisor keeps a
 * G-stage table (guest-physical -> machine) filled on guest-page faults.
 */
export interface NestedStrategy extends MemoryVirtualizer {
  readonly kind: "nested";
  /** hgatp value to run the guest with (Sv32x4 root and VMID). */
  hgatp(): number;
}

export function isNested(v: MemoryVirtualizer): v is NestedStrategy {
  return (v as Partial<NestedStrategy>).kind === "nested";
}

/** A shadow paging strategy: the hypervisor's own table stands in for the guest's. */
export interface PagingStrategy extends MemoryVirtualizer {
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
}

/**
 * The state of a strategy as the objects reachable from it hold it, not
 * entering the shared machinery of its core (hart, vCPU, guest memory,
 * machine pages, counters, ASIDs: the monitor checkpoints those).
 * Give it back with `restoreState`.
 */
export function strategyCheckpoint(strategy: MemoryVirtualizer, core: ShadowCore): ObjectState {
  const shared = new Set<object>([core]);
  for (const v of Object.values(core)) if (typeof v === "object" && v !== null) shared.add(v);
  return captureState([strategy], shared);
}

export type StrategyFactory = (core: ShadowCore) => PagingStrategy | NestedStrategy;

/** The fault hook of a shadow strategy: every fault is a shadow page fault at a guest-virtual address. */
export function shadowFault(s: PagingStrategy, fault: Fault): FaultOutcome {
  return s.onPageFault(fault.gva, fault.access);
}
