/**
 * The shared machinery of shadow paging, written once (as KVM's
 * paging_tmpl.h is) and used by every strategy: resolving a guest access
 * through the guest's own tables into a shadow entry, the view rules of
 * pretend-S and pretend-U, guest A/D bits, and flushing the machine's TLB.
 */
import {
  ACCESS_FETCH,
  ACCESS_STORE,
  type Access,
  accessFaultCause,
  type Device,
  type Hart,
  PTE,
} from "@shadowlab/emu-core";
import type { AsidAllocator } from "./asid-allocator.ts";
import { counterId, type HvCounters } from "./counters.ts";

const SHADOW_FILL = counterId("shadow.fill");
const SHADOW_FILL_DIRTY = counterId("shadow.fill_dirty");
const FLUSH_ALL = counterId("tlb_flush.all");
const FLUSH_ASID = counterId("tlb_flush.asid");
const FLUSH_PAGE = counterId("tlb_flush.page");
const FLUSH_PAGE_ASID = counterId("tlb_flush.page_asid");

import type { GuestMemory } from "./guest-memory.ts";
import { type GuestView, GuestWalkResult, guestWalk } from "./guest-walk.ts";
import { machineFence } from "./machine-fence.ts";
import { type ExecutionMode, FAULT, type FaultOutcome } from "./paging/strategy.ts";
import type { ShadowPages } from "./shadow-pages.ts";
import { ShadowTable } from "./shadow-table.ts";
import { performStoreLike } from "./store-like.ts";
import type { VCpu } from "./vcpu.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const SHADOW_TABLES_CREATED = counterId("shadow.tables_created");
const SHADOW_LEAF_TABLES_CREATED = counterId("shadow.leaf_tables_created");

/** The shadow PTE bits that grant nothing: valid, user (the guest runs in real U-mode), A and D preset so the machine walker never writes shadow entries. */
const SHADOW_BASE = PTE.V | PTE.U | PTE.A | PTE.D;

/**
 * The permissions a guest leaf grants in a view, as shadow PTE bits, or 0
 * when the view cannot use the page at all. Writes are granted only once the
 * guest's D bit is set, so the first write faults and sets D as hardware would.
 */
export function shadowFlags(g: number, view: GuestView, bare = false): number {
  if (bare) return SHADOW_BASE | PTE.R | PTE.W | PTE.X; // no translation: every mode may do everything
  let r = (g & PTE.R) !== 0 || (view.mxr && (g & PTE.X) !== 0);
  let w = (g & PTE.W) !== 0 && (g & PTE.D) !== 0;
  let x = (g & PTE.X) !== 0;
  if ((g & PTE.U) !== 0) {
    if (view.priv === 1) {
      x = false; // S never executes user pages
      if (!view.sum) r = w = false;
    }
  } else if (view.priv === 0) {
    return 0;
  }
  if (!r && !w && !x) return 0;
  return SHADOW_BASE | (r ? PTE.R : 0) | (w ? PTE.W : 0) | (x ? PTE.X : 0);
}

/**
 * Shadow PTE bits in hw mode, where the guest runs in VS/VU and the machine
 * checks the shadow with the guest's own privilege, SUM and MXR: the guest
 * leaf's R, X and U as they are, W only once D is set (so the first write
 * faults and sets D), A and D preset. One shadow serves every view. A Bare
 * guest may do everything in either mode, but no single Sv32 entry lets both
 * VS fetch (U clear) and VU use a page (U set): its entries follow the mode
 * that faulted (`priv`), so a page used from both modes refills once per switch.
 */
export function hwShadowFlags(g: number, bare = false, priv: 0 | 1 = 1): number {
  const base = PTE.V | PTE.A | PTE.D;
  if (bare) return base | PTE.R | PTE.W | PTE.X | (priv === 0 ? PTE.U : 0);
  const w = (g & PTE.W) !== 0 && (g & PTE.D) !== 0;
  return base | (g & (PTE.R | PTE.X | PTE.U)) | (w ? PTE.W : 0);
}

export class ShadowCore {
  /** How the guest runs (set before the strategy is made). */
  mode: ExecutionMode = "trap";
  /** The guest's VMID (hw mode): its guest id + 1. */
  vmid = 0;
  /** A zeroed, 16 KiB aligned machine region for a G-stage root (hw mode; given by the monitor). */
  gstageRoot: () => number = () => {
    throw new Error("no G-stage roots: nested paging needs hw mode");
  };
  /** Cause to reflect after a FAULT.REFLECT outcome. */
  lastCause = 0;
  /** Guest-physical address of the access after a FAULT.MMIO outcome. */
  lastGpa = 0;
  readonly walk = new GuestWalkResult();
  private readonly fetchWalk = new GuestWalkResult();
  /** Machine pages the strategy's shadows may occupy before it reclaims (strategies that cache shadows). */
  budgetPages = Number.POSITIVE_INFINITY;
  /** The vCPU's translation view, rewritten in place for each walk (an exit allocates nothing). */
  private readonly viewNow: { priv: 0 | 1; sum: boolean; mxr: boolean } = { priv: 1, sum: false, mxr: false };

  constructor(
    readonly hart: Hart,
    readonly vcpu: VCpu,
    readonly memory: GuestMemory,
    /** Machine pages for this guest's shadow tables (counted against its budget and limit). */
    readonly pages: ShadowPages,
    readonly devices: readonly Device[],
    readonly counters: HvCounters,
    /** The machine's ASID allocator, shared by every guest. */
    readonly asids: AsidAllocator,
  ) {}

  /** A shadow: its root table now (`shadow.tables_created`), its level-0 tables as they are needed (`shadow.leaf_tables_created`). */
  newTable(): ShadowTable {
    this.counters.bump(SHADOW_TABLES_CREATED);
    return new ShadowTable(this.hart, this.pages, this.countLeaf);
  }

  private readonly countLeaf = (): void => this.counters.bump(SHADOW_LEAF_TABLES_CREATED);

  /** The vCPU's view now (vcpu.view() without the allocation); valid until the next call. */
  private view(): GuestView {
    const v = this.vcpu;
    const o = this.viewNow;
    o.priv = v.mode;
    o.sum = v.mode === 1 && v.sum;
    o.mxr = v.mxr;
    return o;
  }

  /** The guest device at a guest-physical address, if any. */
  device(gpa: number): Device | undefined {
    return this.devices.find((d) => gpa >= d.base && gpa < d.base + d.size);
  }

  /**
   * Walk the guest's tables for an access in the current view, updating the
   * guest's A/D bits. Returns FAULT.REFLECT (cause in lastCause), FAULT.MMIO
   * (gpa in lastGpa) or FAULT.FILLED with the guest leaf in `walk`.
   */
  resolveGuest(va: number, access: Access): FaultOutcome {
    const cause = guestWalk(this.memory, this.vcpu.satp, va, access, this.view(), true, this.walk);
    if (cause !== 0) {
      this.lastCause = cause;
      return FAULT.REFLECT;
    }
    const gpa = this.walk.gppn * 4096 + (va & 0xfff);
    if (this.memory.isRam(gpa)) return FAULT.FILLED;
    if (access !== ACCESS_FETCH && this.device(gpa)) {
      this.lastGpa = gpa;
      return FAULT.MMIO;
    }
    this.lastCause = accessFaultCause(access);
    return FAULT.REFLECT;
  }

  /**
   * The hidden-fault path every shadow strategy shares: resolve the access
   * through the guest, and when it is a RAM access the guest is allowed to
   * make, install the shadow entry for its page in `table`.
   */
  fill(table: ShadowTable, va: number, access: Access, machineAsid?: number): FaultOutcome {
    const outcome = this.resolveGuest(va, access);
    if (outcome === FAULT.FILLED) this.install(table, va, access, false, machineAsid);
    return outcome;
  }

  /**
   * Install the shadow entry for the leaf of the last resolveGuest() in
   * `table`. `readOnly` withholds write permission (a write-protected guest
   * page table). `machineAsid` names the ASID the table runs under, for the
   * flush of a replaced entry. Returns the shadow PTE flags installed.
   */
  install(table: ShadowTable, va: number, access: Access, readOnly: boolean, machineAsid?: number): number {
    const bare = this.walk.pteAddr < 0;
    let flags =
      this.mode === "hw"
        ? hwShadowFlags(this.walk.flags, bare, this.vcpu.mode)
        : shadowFlags(this.walk.flags, this.view(), bare);
    if (readOnly) flags &= ~PTE.W;
    const replaced =
      table.put(va, this.memory.machinePpn(this.walk.gppn * 4096), flags, this.walk.mega) !== 0;
    this.counters.bump(access === ACCESS_STORE && replaced ? SHADOW_FILL_DIRTY : SHADOW_FILL);
    // An entry that existed with fewer rights may still sit in the machine TLB.
    if (replaced) this.flushMachine(va, machineAsid);
    return flags;
  }

  /** The instruction at the guest's pc, read through the guest's own translation (no A/D update). */
  guestInstruction(): number | undefined {
    const pc = this.hart.pc;
    const w = this.fetchWalk;
    if (guestWalk(this.memory, this.vcpu.satp, pc, ACCESS_FETCH, this.view(), false, w) !== 0)
      return undefined;
    const gpa = w.gppn * 4096 + (pc & 0xfff);
    return this.memory.isRam(gpa) ? this.memory.read32(gpa) : undefined;
  }

  /**
   * Perform the guest's faulting store-like instruction (sb/sh/sw, sc.w, any
   * AMO) on guest RAM at `gpa` and step over it, as hardware would have done
   * had the page been writable. Returns the width written, or 0 when the
   * instruction at pc is not store-like or not aligned for `gpa` (nothing
   * happened then).
   */
  emulateStore(gpa: number): 0 | 1 | 2 | 4 {
    const word = this.guestInstruction();
    if (word === undefined) return 0;
    return performStoreLike(this.hart, word, this.memory.machineAddr(gpa));
  }

  /** Flush the machine TLB for one page (all ASIDs) or entirely. */
  flushMachine(va?: number, asid?: number): void {
    if (va === undefined) this.counters.bump(asid === undefined ? FLUSH_ALL : FLUSH_ASID);
    else this.counters.bump(asid === undefined ? FLUSH_PAGE : FLUSH_PAGE_ASID);
    machineFence(this.hart, va !== undefined, va ?? 0, asid !== undefined, asid ?? 0);
  }
}
