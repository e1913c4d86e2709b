/**
 * Machine ASIDs for shadows, handed out by generation as Linux hands out
 * ASIDs: IDs 1..max are given in order; when they run out, the generation
 * advances, the whole machine TLB is flushed once, and every shadow gets a
 * fresh ID the next time it runs. ASID 0 is left to strategies that use none.
 *
 * There is one allocator per machine (the Hypervisor owns it): machine ASIDs
 * are one resource shared by every guest, or two guests' shadows would run
 * under the same ASID and hit each other's TLB entries. On a machine whose
 * TLB has no ASID tags there are no ASIDs to give: every shadow runs under
 * ASID 0 and the monitor flushes at each switch.
 */
import type { Hart } from "@shadowlab/emu-core";
import { counterId, type HvCounters } from "./counters.ts";
import { machineFence } from "./machine-fence.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const ASID_RECYCLE = counterId("asid.recycle");
const ASID_ALLOC = counterId("asid.alloc");
const FLUSH_ALL = counterId("tlb_flush.all");

export interface AsidHolder {
  masid: number;
  masidGeneration: number;
}

export class AsidAllocator {
  private next = 1;
  private generation = 1;
  /** Largest machine ASID (2^asidBits - 1 of the machine's satp; 0 without ASID tags). */
  readonly max: number;

  constructor(
    private readonly hart: Hart,
    private readonly counters: HvCounters,
  ) {
    const tagged = hart.itlb.config.asidTags && hart.dtlb.config.asidTags;
    this.max = tagged ? (1 << hart.config.asidBits) - 1 : 0;
  }

  /** The holder's machine ASID, allocating (and recycling the space) as needed. */
  asidOf(h: AsidHolder): number {
    if (this.max === 0) return 0;
    if (h.masidGeneration === this.generation) return h.masid;
    if (this.next > this.max) {
      this.generation++;
      this.next = 1;
      this.counters.bump(ASID_RECYCLE);
      this.counters.bump(FLUSH_ALL);
      machineFence(this.hart, false, 0, false, 0);
    }
    h.masid = this.next++;
    h.masidGeneration = this.generation;
    this.counters.bump(ASID_ALLOC);
    return h.masid;
  }

  /**
   * Whether the holder's TLB entries may exist: its ASID is current, or the
   * TLB has no tags (every shadow runs under ASID 0, and the entries of the
   * one that ran last are still there).
   */
  live(h: AsidHolder): boolean {
    return this.max === 0 || h.masidGeneration === this.generation;
  }

  /** The ASID to name in a machine flush of the holder's entries (undefined: all of them, on an untagged TLB). */
  flushAsid(h: AsidHolder): number | undefined {
    return this.max === 0 ? undefined : h.masid;
  }
}
