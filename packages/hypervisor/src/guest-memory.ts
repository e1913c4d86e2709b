/**
 * Guest-physical memory: the guest's RAM (at the same guest-physical address
 * as the board's RAM, so the same image runs natively and as a guest) backed
 * page by page by machine pages that are allocated on first touch.
 */
import { type Hart, RAM_BASE } from "@shadowlab/emu-core";
import type { MachinePages } from "./machine-pages.ts";

const PAGE = 4096;

export class GuestMemory {
  /** Guest page index (gpa - RAM_BASE) / 4096 -> machine PPN, 0 when not yet backed. */
  private readonly map: Int32Array;
  readonly base = RAM_BASE;
  backedPages = 0;

  constructor(
    private readonly hart: Hart,
    private readonly pages: MachinePages,
    readonly size: number,
  ) {
    this.map = new Int32Array(size / PAGE);
  }

  /** Whether a guest-physical address is guest RAM. */
  isRam(gpa: number): boolean {
    return gpa >= RAM_BASE && gpa < RAM_BASE + this.size;
  }

  /** Machine PPN backing the guest page of `gpa` (allocated now if needed); the gpa must be RAM. */
  machinePpn(gpa: number): number {
    const i = Math.floor((gpa - RAM_BASE) / PAGE);
    let ppn = this.map[i];
    if (ppn === 0) {
      ppn = this.pages.alloc();
      this.map[i] = ppn;
      this.backedPages++;
    }
    return ppn;
  }

  /** Machine physical address of a guest RAM address. */
  machineAddr(gpa: number): number {
    return this.machinePpn(gpa) * PAGE + (gpa % PAGE);
  }

  read32(gpa: number): number {
    return this.hart.readPhys(this.machineAddr(gpa), 4) ?? 0;
  }

  write32(gpa: number, value: number): void {
    this.hart.writePhys(this.machineAddr(gpa), 4, value);
  }

  /** Copy bytes into guest RAM (image loading). */
  load(gpa: number, bytes: Uint8Array): void {
    if (gpa < RAM_BASE || gpa + bytes.length > RAM_BASE + this.size) {
      throw new RangeError(
        `guest image section at 0x${gpa.toString(16)} (+${bytes.length}) is outside guest RAM`,
      );
    }
    for (let off = 0; off < bytes.length; ) {
      const at = gpa + off;
      const n = Math.min(PAGE - (at % PAGE), bytes.length - off);
      const ma = this.machineAddr(at) - RAM_BASE;
      this.hart.ram.set(bytes.subarray(off, off + n), ma);
      this.hart.noteRamWrite(ma, n);
      off += n;
    }
    this.hart.flushDecoded();
  }

  /** Machine PPNs backing guest pages so far, by guest page order (a read-only view for tests and tools). */
  backingPpns(): number[] {
    const out: number[] = [];
    for (const ppn of this.map) if (ppn !== 0) out.push(ppn);
    return out;
  }

  /** Free every backing page (the guest is gone). */
  release(): void {
    for (let i = 0; i < this.map.length; i++) {
      if (this.map[i] !== 0) this.pages.release(this.map[i]);
      this.map[i] = 0;
    }
    this.backedPages = 0;
  }
}
