/**
 * Machine ASIDs for shadows, handed out by generation as Linux hands out
 * ASIDs: IDs 1..max are given in order; when they run out, the generation
 * advances, the whole machine TLB is flushed once, and every shadow gets a
 * fresh ID the next time it runs. ASID 0 is left to strategies that use none.
 */
import type { ShadowCore } from "./shadow-core.ts";

export interface AsidHolder {
  masid: number;
  masidGeneration: number;
}

export class AsidAllocator {
  private next = 1;
  private generation = 1;

  constructor(
    private readonly core: ShadowCore,
    /** Largest machine ASID (2^asidBits - 1 of the machine's satp). */
    private readonly max: number,
  ) {
    if (max < 1)
      throw new RangeError("shadow-tagged needs a machine with at least one ASID bit (asidBits >= 1)");
  }

  /** The holder's machine ASID, allocating (and recycling the space) as needed. */
  asidOf(h: AsidHolder): number {
    if (h.masidGeneration === this.generation) return h.masid;
    if (this.next > this.max) {
      this.generation++;
      this.next = 1;
      this.core.counters.add("asid.recycle");
      this.core.flushMachine();
    }
    h.masid = this.next++;
    h.masidGeneration = this.generation;
    this.core.counters.add("asid.alloc");
    return h.masid;
  }

  /** Whether the holder's ASID is current (its TLB entries may exist). */
  live(h: AsidHolder): boolean {
    return h.masidGeneration === this.generation;
  }
}
