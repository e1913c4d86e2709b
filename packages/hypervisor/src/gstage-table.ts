/**
 * A G-stage table (Sv32x4, privileged spec 1.12 8.5.1) in machine memory:
 * guest-physical pages to machine pages, the table the hardware's second
 * translation stage walks under nested paging. The 16 KiB root must be
 * 16 KiB aligned, so it comes from the monitor's reserved region; level-0
 * tables come from the machine-page pool when first needed. Leaves carry U
 * (the G-stage checks every access as a user access) and A and D already
 * set, so the hardware walker never writes them.
 */
import { type Hart, PTE } from "@shadowlab/emu-core";

const LEAF = PTE.V | PTE.R | PTE.W | PTE.X | PTE.U | PTE.A | PTE.D;

export class GStageTable {
  /** Level-0 tables by root index (12 bits), machine PPN; 0 = none. */
  private readonly leaves = new Int32Array(4096);
  entries = 0;
  leafPages = 0;

  constructor(
    private readonly hart: Hart,
    /** Level-0 tables come from here: the guest's account (ShadowPages), or any page pool. */
    private readonly pages: { alloc(): number; release(ppn: number): void },
    /** Machine address of the 16 KiB root (16 KiB aligned, zeroed). */
    readonly rootPa: number,
  ) {}

  /** Machine PPN of the root (hgatp.PPN). */
  get rootPpn(): number {
    return this.rootPa / 4096;
  }

  /** Map the guest-physical page of `gpa` to machine page `mppn`. */
  map(gpa: number, mppn: number): void {
    const i = Math.floor(gpa / 2 ** 22) & 0xfff;
    let leaf = this.leaves[i];
    if (leaf === 0) {
      leaf = this.pages.alloc();
      this.leaves[i] = leaf;
      this.leafPages++;
      this.hart.writePhys(this.rootPa + i * 4, 4, ((leaf << 10) | PTE.V) >>> 0);
    }
    const at = leaf * 4096 + ((gpa >>> 12) & 0x3ff) * 4;
    if (((this.hart.readPhys(at, 4) ?? 0) & PTE.V) === 0) this.entries++;
    this.hart.writePhys(at, 4, ((mppn << 10) | LEAF) >>> 0);
  }

  /** Return the level-0 tables and clear the root. */
  destroy(): void {
    for (let i = 0; i < this.leaves.length; i++) {
      if (this.leaves[i] === 0) continue;
      this.pages.release(this.leaves[i]);
      this.leaves[i] = 0;
      this.hart.writePhys(this.rootPa + i * 4, 4, 0);
    }
    this.entries = 0;
    this.leafPages = 0;
  }
}
