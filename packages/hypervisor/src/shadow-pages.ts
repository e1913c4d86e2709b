/**
 * Machine pages for one guest's shadow tables: counted (so a strategy can
 * keep them within the guest's shadow budget, reclaiming as it goes) and
 * capped by a hard limit. Past the limit an allocation throws, which stops
 * that guest alone with the reason (the monitor turns it into a guest
 * failure); other guests never notice, because each guest's limit was
 * reserved on the machine when it was added (MachinePages.reserve).
 */
import type { MachinePages } from "./machine-pages.ts";

/** Pages of a 4 MiB-per-entry Sv32 table fully populated: its root and 1024 level-0 tables. */
export const FULL_TABLE_PAGES = 1025;
/**
 * What a guest may hold beyond its soft budget: reclaim never takes the
 * shadow the guest is running on, which can grow to one full table, and a
 * new shadow's root is allocated before reclaim runs.
 */
export const SHADOW_HEADROOM_PAGES = FULL_TABLE_PAGES + 1;

/** The default soft budget for a guest with `ramPages` pages of RAM: 1/16 of it, at least 256 pages (1 MiB). */
export function defaultShadowBudget(ramPages: number): number {
  return Math.max(256, Math.floor(ramPages / 16));
}

export class ShadowPages {
  /** Pages in use now and at most. */
  used = 0;
  peak = 0;

  constructor(
    private readonly machine: MachinePages,
    /** The hard limit (budget plus headroom). */
    readonly limit: number,
    private readonly owner: string,
  ) {}

  alloc(): number {
    if (this.used >= this.limit) {
      throw new Error(
        `${this.owner}: shadow memory limit of ${this.limit} machine pages exceeded; the guest is stopped (its shadow budget cannot be reclaimed further)`,
      );
    }
    const ppn = this.machine.alloc();
    this.used++;
    if (this.used > this.peak) this.peak = this.used;
    return ppn;
  }

  release(ppn: number): void {
    this.machine.release(ppn);
    this.used--;
  }
}

/** Machine RAM (bytes) that holds one guest of `guestRamSize` bytes with the default shadow budget and limit. */
export function machineRamFor(guestRamSize: number): number {
  const ramPages = guestRamSize / 4096;
  return (ramPages + defaultShadowBudget(ramPages) + SHADOW_HEADROOM_PAGES) * 4096;
}
