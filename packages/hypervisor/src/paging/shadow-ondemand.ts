/**
 * shadow-ondemand: the virtual TLB. The shadow starts empty and is filled one
 * page at a time on hidden page faults. A guest satp write empties it (the
 * shadow only ever describes the current address space); sfence.vma empties
 * what it names. One shadow table per view (pretend-S with and without SUM,
 * pretend-U, each with and without MXR), all under machine ASID 0.
 */
import { type Access, type ObjectState, restoreState } from "@shadowlab/emu-core";
import { counterId } from "../counters.ts";
import type { ShadowCore } from "../shadow-core.ts";
import type { ShadowTable } from "../shadow-table.ts";
import {
  type Fault,
  type FaultOutcome,
  type PagingStrategy,
  SHADOW_MODES,
  shadowFault,
  strategyCheckpoint,
} from "./strategy.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const SHADOW_FLUSH_ALL = counterId("shadow.flush_all");
const SHADOW_ENTRIES_FLUSHED = counterId("shadow.entries_flushed");
const SHADOW_FLUSH_PAGE = counterId("shadow.flush_page");
const SHADOW_RECLAIMED = counterId("shadow.reclaimed");

export class ShadowOnDemand implements PagingStrategy {
  readonly name = "shadow-ondemand";
  readonly modes = SHADOW_MODES;
  private readonly views = new Map<number, ShadowTable>();

  constructor(private readonly core: ShadowCore) {}

  private table(): ShadowTable {
    const key = this.core.vcpu.viewKey();
    let t = this.views.get(key);
    if (!t) {
      t = this.core.newTable();
      this.views.set(key, t);
    }
    return t;
  }

  root(): number {
    return this.table().root;
  }

  asid(): number {
    return 0;
  }

  private emptyAll(): void {
    let dropped = 0;
    for (const t of this.views.values()) dropped += t.clear();
    this.core.counters.bump(SHADOW_FLUSH_ALL);
    this.core.counters.bump(SHADOW_ENTRIES_FLUSHED, dropped);
    this.core.flushMachine();
  }

  onSatpWrite(): void {
    this.emptyAll();
  }

  onSfence(vaddr: number | undefined, asid: number | undefined): void {
    // The shadow holds only the current address space: an sfence for another
    // ASID names nothing in it (global mappings are excluded from by-ASID flushes).
    if (asid !== undefined && asid !== ((this.core.vcpu.satp >>> 22) & 0x1ff)) return;
    if (vaddr === undefined) {
      this.emptyAll();
      return;
    }
    let dropped = 0;
    let region = false; // entries split from a guest megapage: the fence names all of them
    for (const t of this.views.values()) {
      region ||= t.fromMega(vaddr);
      dropped += t.dropFenced(vaddr);
    }
    this.core.counters.bump(SHADOW_FLUSH_PAGE);
    this.core.counters.bump(SHADOW_ENTRIES_FLUSHED, dropped);
    this.core.flushMachine(region ? undefined : vaddr);
  }

  onViewChange(): void {}

  onPageFault(va: number, access: Access): FaultOutcome {
    const t = this.table();
    const outcome = this.core.fill(t, va, access);
    this.reclaim(t);
    return outcome;
  }

  /** Over the guest's shadow budget: empty the views not in use (they refill on demand). */
  private reclaim(keep: ShadowTable): void {
    if (this.core.pages.used <= this.core.budgetPages) return;
    for (const t of this.views.values()) {
      if (t === keep || t.entries === 0) continue;
      this.core.counters.bump(SHADOW_ENTRIES_FLUSHED, t.clear());
      this.core.counters.bump(SHADOW_RECLAIMED);
      if (this.core.pages.used <= this.core.budgetPages) break;
    }
    // No machine flush: a view not mapped now left the TLB when the monitor switched away from it.
  }

  onFault(fault: Fault): FaultOutcome {
    return shadowFault(this, fault);
  }

  checkpoint(): ObjectState {
    return strategyCheckpoint(this, this.core);
  }

  restore(state: ObjectState): void {
    restoreState(state);
  }

  dispose(): void {
    for (const t of this.views.values()) t.destroy();
    this.views.clear();
  }
}
