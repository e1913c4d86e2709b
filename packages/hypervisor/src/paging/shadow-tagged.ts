/**
 * shadow-tagged: shadows over an ASID-tagged machine TLB. Each guest
 * address space — named by the guest's own ASID, as a TLB names it — keeps
 * its shadow (one per view) across switches, and each shadow runs under its
 * own machine ASID, so switching between cached shadows flushes nothing.
 * Shadows are filled on demand, so they are exactly a tagged virtual TLB: a
 * guest that edits a page table must sfence.vma it (RISC-V requires that),
 * and the sfence drops what it names in the shadows of the ASID it names.
 * A guest without ASIDs (all ASID 0) flushes everything at each switch, and
 * so empties its shadow as shadow-ondemand would.
 */
import { type Access, type ObjectState, restoreState } from "@shadowlab/emu-core";
import type { AsidHolder } from "../asid-allocator.ts";
import { counterId } from "../counters.ts";
import { type CachedShadow, ShadowCache } from "../shadow-cache.ts";
import type { ShadowCore } from "../shadow-core.ts";
import {
  type Fault,
  type FaultOutcome,
  type PagingStrategy,
  SHADOW_MODES,
  shadowFault,
  strategyCheckpoint,
} from "./strategy.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const SHADOW_SWITCH = counterId("shadow.switch");
const SHADOW_ENTRIES_FLUSHED = counterId("shadow.entries_flushed");
const SHADOW_FLUSH_ALL = counterId("shadow.flush_all");
const SHADOW_FLUSH_ASID = counterId("shadow.flush_asid");
const SHADOW_FLUSH_PAGE = counterId("shadow.flush_page");

interface TaggedShadow extends CachedShadow, AsidHolder {
  /** The guest ASID this shadow stands for; -1 when the guest runs without translation. */
  readonly guestAsid: number;
}

export class ShadowTagged implements PagingStrategy {
  readonly name = "shadow-tagged";
  readonly modes = SHADOW_MODES;
  private readonly cache: ShadowCache<TaggedShadow>;
  /** The cached shadows of each guest ASID, so that an sfence naming an ASID visits only those. */
  private readonly byAsid = new Map<number, Set<TaggedShadow>>();
  /**
   * The shadow the guest runs on, with the guest ASID and view it was chosen for: exits between
   * switches find it without building a key or reordering the cache (it is already the most
   * recently used: only a switch makes another shadow current).
   */
  private active: TaggedShadow | undefined;
  private activeAsid = -2;
  private activeView = -1;

  constructor(private readonly core: ShadowCore) {
    this.cache = new ShadowCache<TaggedShadow>(core, (e) => this.forget(e));
  }

  private current(): TaggedShadow {
    const v = this.core.vcpu;
    const guestAsid = v.satp < 0 ? (v.satp >>> 22) & 0x1ff : -1;
    const view = v.viewKey();
    const a = this.active;
    if (a !== undefined && guestAsid === this.activeAsid && view === this.activeView) return a;
    const e = this.select(guestAsid, view);
    this.active = e;
    this.activeAsid = guestAsid;
    this.activeView = view;
    return e;
  }

  /** The cached shadow for (guest ASID, view), made the most recently used, or a new one. */
  private select(guestAsid: number, view: number): TaggedShadow {
    const key = (guestAsid + 1) * 8 + view; // view keys are 0..7
    const hit = this.cache.use(key);
    if (hit) return hit;
    const e = this.cache.add({ key, table: this.core.newTable(), guestAsid, masid: 0, masidGeneration: 0 });
    let set = this.byAsid.get(guestAsid);
    if (set === undefined) {
      set = new Set();
      this.byAsid.set(guestAsid, set);
    }
    set.add(e);
    this.cache.reclaim(e);
    return e;
  }

  /** A shadow leaves the cache: drop it from the ASID index (and as the active one). */
  private forget(e: TaggedShadow): void {
    const set = this.byAsid.get(e.guestAsid);
    set?.delete(e);
    if (set?.size === 0) this.byAsid.delete(e.guestAsid);
    if (this.active === e) this.active = undefined;
  }

  root(): number {
    return this.current().table.root;
  }

  asid(): number {
    return this.core.asids.asidOf(this.current());
  }

  onSatpWrite(): void {
    this.core.counters.bump(SHADOW_SWITCH);
  }

  onSfence(vaddr: number | undefined, asid: number | undefined): void {
    const c = this.core.counters;
    c.bump(
      vaddr === undefined ? (asid === undefined ? SHADOW_FLUSH_ALL : SHADOW_FLUSH_ASID) : SHADOW_FLUSH_PAGE,
    );
    const named = asid === undefined ? this.cache.values() : this.byAsid.get(asid)?.values();
    if (named === undefined) return;
    for (const e of named) {
      // Over-flushing is allowed: shadows do not remember which entries came from global PTEs.
      const live = this.core.asids.live(e);
      if (vaddr !== undefined) {
        const region = e.table.fromMega(vaddr); // split from a guest megapage: the fence names all of it
        const dropped = e.table.dropFenced(vaddr);
        if (dropped > 0) {
          c.bump(SHADOW_ENTRIES_FLUSHED, dropped);
          if (live) this.core.flushMachine(region ? undefined : vaddr, this.core.asids.flushAsid(e));
        }
      } else {
        c.bump(SHADOW_ENTRIES_FLUSHED, e.table.clear());
        if (live) this.core.flushMachine(undefined, this.core.asids.flushAsid(e));
      }
    }
  }

  onViewChange(): void {}

  onPageFault(va: number, access: Access): FaultOutcome {
    const e = this.current();
    const outcome = this.core.fill(e.table, va, access, this.core.asids.asidOf(e));
    this.cache.reclaim(e);
    return outcome;
  }

  onFault(fault: Fault): FaultOutcome {
    return shadowFault(this, fault);
  }

  checkpoint(): ObjectState {
    return strategyCheckpoint(this, this.core);
  }

  restore(state: ObjectState): void {
    restoreState(state);
    this.active = undefined;
  }

  dispose(): void {
    this.cache.clear();
  }
}
