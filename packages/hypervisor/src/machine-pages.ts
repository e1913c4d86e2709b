/**
 * The hypervisor's allocator of machine pages (4 KiB frames of the machine's
 * RAM). Pages come out in a scrambled order — a stride through the pool that
 * is coprime with its size — so guest-physical memory is never backed
 * contiguously and the guest-physical to machine map is a real table.
 * Freed pages are zeroed and reused first.
 */
import { type Hart, RAM_BASE } from "@shadowlab/emu-core";

const PAGE = 4096;

export class MachinePages {
  private readonly total: number;
  private readonly firstPpn: number;
  private next = 0;
  private handedOut = 0;
  private readonly stride: number;
  private readonly free: number[] = [];
  inUse = 0;
  peak = 0;
  /** Pages promised to guests (their RAM and shadow limits); reserve() never promises more than the machine has. */
  reserved = 0;

  /** Manage `hart`'s RAM from `reserveBytes` bytes after its base to its end. */
  constructor(
    private readonly hart: Hart,
    reserveBytes = 0,
  ) {
    this.firstPpn = (RAM_BASE + reserveBytes) / PAGE;
    this.total = (hart.ramSize - reserveBytes) / PAGE;
    // An odd stride near the golden ratio of the pool: coprime with a power-of-two
    // size, and far enough apart that neighbours in allocation order are not
    // neighbours in memory.
    let stride = Math.floor(this.total * 0.618) | 1;
    while (gcd(stride, this.total) !== 1) stride += 2;
    this.stride = stride;
  }

  /** Pages the machine has for guests. */
  get capacity(): number {
    return this.total;
  }

  /**
   * Promise `pages` to `owner` (a guest's RAM plus its shadow limit), so that
   * no other guest's allocations can ever take them. Throws a clear error when
   * the machine cannot keep the promise.
   */
  reserve(pages: number, owner: string): void {
    if (this.reserved + pages > this.total) {
      throw new Error(
        `${owner}: needs ${pages} machine pages (its RAM and shadow limit) but only ${this.total - this.reserved} of the machine's ${this.total} are not promised to other guests; give the machine more RAM or the guests less`,
      );
    }
    this.reserved += pages;
  }

  /** A zeroed machine page; its physical page number. Throws when the machine is out of memory. */
  alloc(): number {
    this.inUse++;
    this.peak = Math.max(this.peak, this.inUse);
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.handedOut >= this.total) {
      throw new Error(
        `the hypervisor is out of machine memory (${this.total} pages); give the machine more RAM`,
      );
    }
    const ppn = this.firstPpn + ((this.next * this.stride) % this.total);
    this.next++;
    this.handedOut++;
    return ppn;
  }

  /** Return a page; it is zeroed now so alloc() always hands out zero pages. */
  release(ppn: number): void {
    const off = ppn * PAGE - RAM_BASE;
    this.hart.ram.fill(0, off, off + PAGE);
    this.hart.noteRamWrite(off, PAGE);
    this.inUse--;
    this.free.push(ppn);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
