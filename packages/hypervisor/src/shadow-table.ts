/**
 * A shadow page table: a real Sv32 table in machine memory that the machine's
 * walker uses while the guest runs. It maps guest-virtual pages straight to
 * machine pages (4 KiB entries only; guest megapages are split). Level-0
 * tables are allocated when first needed and returned when the table is
 * cleared.
 */
import type { Hart } from "@shadowlab/emu-core";
import type { ShadowPages } from "./shadow-pages.ts";

const V = 1;

export class ShadowTable {
  /** Machine PPN of the root table. */
  readonly root: number;
  /** Level-0 tables by root index (0 = none). */
  private readonly leaves = new Int32Array(1024);
  /**
   * The root indexes that have a level-0 table, in no order, and each one's place in that list
   * (`livePos`, -1 when none): clearing costs what the table holds, not 1,024 slots.
   */
  private readonly live = new Int16Array(1024);
  private liveCount = 0;
  private readonly livePos = new Int16Array(1024).fill(-1);
  /** Valid entries in each level-0 table: dropping a region counts its entries without reading 1,024 slots. */
  private readonly leafEntries = new Int16Array(1024);
  /** Root indexes holding entries split from a guest megapage (a fence by address inside it names them all). */
  private readonly mega = new Uint8Array(1024);
  /** Valid leaf entries currently installed. */
  entries = 0;
  /** Level-0 table pages in use (for memory budgets). */
  leafPages = 0;
  /** Set once destroy() has returned the table's pages. */
  destroyed = false;

  constructor(
    private readonly hart: Hart,
    private readonly pages: ShadowPages,
    /** Told of every level-0 table allocated (a cost model prices each table the VMM creates). */
    private readonly onLeafAlloc: () => void = () => {},
  ) {
    this.root = pages.alloc();
  }

  /** Machine pages this table occupies. */
  get pagesUsed(): number {
    return 1 + this.leafPages;
  }

  private leafAddr(va: number, create: boolean): number {
    const i = va >>> 22;
    let leaf = this.leaves[i];
    if (leaf === 0) {
      if (!create) return -1;
      leaf = this.pages.alloc();
      this.onLeafAlloc();
      this.leaves[i] = leaf;
      this.leafPages++;
      this.livePos[i] = this.liveCount;
      this.live[this.liveCount++] = i;
      this.hart.writePhys(this.root * 4096 + i * 4, 4, (leaf << 10) | V);
    }
    return leaf * 4096 + ((va >>> 12) & 0x3ff) * 4;
  }

  /** The shadow PTE for va (0 when none). */
  get(va: number): number {
    const at = this.leafAddr(va, false);
    return at < 0 ? 0 : (this.hart.readPhys(at, 4) ?? 0);
  }

  /** Install (or replace) the leaf for va: machine page `ppn` with PTE flag bits `flags`; `fromMega`: split from a guest megapage. */
  set(va: number, ppn: number, flags: number, fromMega = false): void {
    this.put(va, ppn, flags, fromMega);
  }

  /** set() that returns the PTE it replaced (0 when none): a fill learns both with one walk of the table. */
  put(va: number, ppn: number, flags: number, fromMega = false): number {
    const at = this.leafAddr(va, true);
    if (fromMega) this.mega[va >>> 22] = 1;
    const old = this.hart.readPhys(at, 4) ?? 0;
    if ((old & V) === 0) {
      this.entries++;
      this.leafEntries[va >>> 22]++;
    }
    this.hart.writePhys(at, 4, ((ppn << 10) | flags) >>> 0);
    return old;
  }

  /** Drop the leaf for va; returns whether there was one. */
  drop(va: number): boolean {
    const at = this.leafAddr(va, false);
    if (at < 0) return false;
    const old = this.hart.readPhys(at, 4) ?? 0;
    if ((old & V) === 0) return false;
    this.hart.writePhys(at, 4, 0);
    this.entries--;
    this.leafEntries[va >>> 22]--;
    return true;
  }

  /** Whether the entries of va's 4 MiB region include some split from a guest megapage. */
  fromMega(va: number): boolean {
    return this.mega[va >>> 22] === 1;
  }

  /**
   * Drop what a guest sfence.vma of `va` names: the entry for va, or, when
   * its region holds entries split from a guest megapage, the whole region
   * (the fence invalidates every translation built from the leaf PTE of va,
   * and that leaf covers 4 MiB). Returns how many entries were dropped.
   */
  dropFenced(va: number): number {
    if (this.fromMega(va)) return this.dropRegion(va >>> 22);
    return this.drop(va) ? 1 : 0;
  }

  /** Drop every entry of the 4 MiB region with root index `i` and return its level-0 table; returns how many entries were dropped. */
  dropRegion(i: number): number {
    const leaf = this.leaves[i];
    if (leaf === 0) return 0;
    const dropped = this.leafEntries[i];
    this.leafEntries[i] = 0;
    this.pages.release(leaf);
    this.leaves[i] = 0;
    this.mega[i] = 0;
    this.leafPages--;
    this.unlist(i);
    this.entries -= dropped;
    this.hart.writePhys(this.root * 4096 + i * 4, 4, 0);
    return dropped;
  }

  /** Visit every valid leaf (va, pte); the callback may drop it. */
  forEach(fn: (va: number, pte: number) => void): void {
    for (let i = 0; i < 1024; i++) {
      const leaf = this.leaves[i];
      if (leaf === 0) continue;
      for (let j = 0; j < 1024; j++) {
        const pte = this.hart.readPhys(leaf * 4096 + j * 4, 4) ?? 0;
        if ((pte & V) !== 0) fn(((i << 22) | (j << 12)) >>> 0, pte);
      }
    }
  }

  /** Take root index i off the live list (swap with the last). */
  private unlist(i: number): void {
    const at = this.livePos[i];
    const last = this.live[--this.liveCount];
    this.live[at] = last;
    this.livePos[last] = at;
    this.livePos[i] = -1;
  }

  /**
   * Drop every entry and return the level-0 tables; returns how many entries were dropped.
   * Pages go back in ascending root index, as a scan of the root would return them, so the
   * allocator hands out the same pages afterwards.
   */
  clear(): number {
    const dropped = this.entries;
    const n = this.liveCount;
    const live = this.live.subarray(0, n).sort();
    for (let k = 0; k < n; k++) {
      const i = live[k];
      this.pages.release(this.leaves[i]);
      this.leaves[i] = 0;
      this.leafEntries[i] = 0;
      this.mega[i] = 0;
      this.livePos[i] = -1;
      this.hart.writePhys(this.root * 4096 + i * 4, 4, 0);
    }
    this.liveCount = 0;
    this.leafPages = 0;
    this.entries = 0;
    return dropped;
  }

  /** Free the whole table, root included. */
  destroy(): void {
    this.clear();
    this.pages.release(this.root);
    this.destroyed = true;
  }
}
