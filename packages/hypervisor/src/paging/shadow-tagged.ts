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
import { type CachedShadow, ShadowCache } from "../shadow-cache.ts";
import type { ShadowCore } from "../shadow-core.ts";
import { type FaultOutcome, type PagingStrategy, strategyCheckpoint } from "./strategy.ts";

interface TaggedShadow extends CachedShadow, AsidHolder {
  /** The guest ASID this shadow stands for; -1 when the guest runs without translation. */
  readonly guestAsid: number;
}

export class ShadowTagged implements PagingStrategy {
  readonly name = "shadow-tagged";
  private readonly cache: ShadowCache<TaggedShadow>;

  constructor(private readonly core: ShadowCore) {
    this.cache = new ShadowCache<TaggedShadow>(core, () => {});
  }

  private current(): TaggedShadow {
    const v = this.core.vcpu;
    const guestAsid = v.satp < 0 ? (v.satp >>> 22) & 0x1ff : -1;
    const key = `${guestAsid}:${v.viewKey()}`;
    const hit = this.cache.use(key);
    if (hit) return hit;
    const e = this.cache.add({ key, table: this.core.newTable(), guestAsid, masid: 0, masidGeneration: 0 });
    this.cache.reclaim(e);
    return e;
  }

  root(): number {
    return this.current().table.root;
  }

  asid(): number {
    return this.core.asids.asidOf(this.current());
  }

  onSatpWrite(): void {
    this.core.counters.add("shadow.switch");
  }

  onSfence(vaddr: number | undefined, asid: number | undefined): void {
    const c = this.core.counters;
    c.add(
      vaddr === undefined
        ? asid === undefined
          ? "shadow.flush_all"
          : "shadow.flush_asid"
        : "shadow.flush_page",
    );
    for (const e of this.cache.values()) {
      // Over-flushing is allowed: shadows do not remember which entries came from global PTEs.
      if (asid !== undefined && e.guestAsid !== asid) continue;
      const live = this.core.asids.live(e);
      if (vaddr !== undefined) {
        const region = e.table.fromMega(vaddr); // split from a guest megapage: the fence names all of it
        const dropped = e.table.dropFenced(vaddr);
        if (dropped > 0) {
          c.add("shadow.entries_flushed", dropped);
          if (live) this.core.flushMachine(region ? undefined : vaddr, this.core.asids.flushAsid(e));
        }
      } else {
        c.add("shadow.entries_flushed", e.table.clear());
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

  checkpoint(): ObjectState {
    return strategyCheckpoint(this, this.core);
  }

  restore(state: ObjectState): void {
    restoreState(state);
  }

  dispose(): void {
    this.cache.clear();
  }
}
