/**
 * The CLINT of QEMU virt (SiFive core-local interruptor) for one hart:
 * msip at 0x0, mtimecmp at 0x4000, mtime at 0xbff8 (SiFive FU540 manual,
 * chapter 9). The comparators live on the hart, which raises MTIP itself;
 * time is the hart's deterministic mtime.
 */
import { COMPARATOR_HIGH_MAX, IRQ } from "../csr.ts";
import type { Hart } from "../hart.ts";
import type { Device } from "./device.ts";

export const CLINT_BASE = 0x0200_0000;
const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;
const TWO32 = 2 ** 32;

export class Clint implements Device {
  readonly name = "clint";
  readonly base = CLINT_BASE;
  readonly size = 0x10000;

  constructor(private readonly hart: Hart) {}

  load(offset: number, width: 1 | 2 | 4): number {
    const word = this.readWord(offset & ~3);
    const shift = (offset & 3) * 8;
    const mask = width === 4 ? 0xffffffff : (1 << (width * 8)) - 1;
    return ((word >>> shift) & mask) >>> 0;
  }

  store(offset: number, width: 1 | 2 | 4, value: number): void {
    // Narrow writes merge into the addressed word.
    const aligned = offset & ~3;
    let word = value >>> 0;
    if (width !== 4) {
      const shift = (offset & 3) * 8;
      const mask = ((1 << (width * 8)) - 1) << shift;
      word = ((this.readWord(aligned) & ~mask) | ((value << shift) & mask)) >>> 0;
    }
    this.writeWord(aligned, word);
  }

  private readWord(off: number): number {
    const h = this.hart;
    if (off === MSIP) return (h.mipSw >>> IRQ.MSI) & 1;
    if (off === MTIMECMP) return (h.mtimecmp % TWO32) >>> 0;
    if (off === MTIMECMP + 4) return Math.floor(h.mtimecmp / TWO32) >>> 0;
    if (off === MTIME) return (h.mtime % TWO32) >>> 0;
    if (off === MTIME + 4) return Math.floor(h.mtime / TWO32) >>> 0;
    return 0;
  }

  private writeWord(off: number, v: number): void {
    const h = this.hart;
    if (off === MSIP) {
      h.mipSw = (h.mipSw & ~(1 << IRQ.MSI)) | ((v & 1) << IRQ.MSI);
      h.recheck();
    } else if (off === MTIMECMP) {
      h.mtimecmp = Math.floor(h.mtimecmp / TWO32) * TWO32 + v;
      h.recheck();
    } else if (off === MTIMECMP + 4) {
      // The high half saturates (COMPARATOR_HIGH_MAX, csr.ts) so the low half stays exact.
      h.mtimecmp = Math.min(v, COMPARATOR_HIGH_MAX) * TWO32 + (h.mtimecmp % TWO32);
      h.recheck();
    } else if (off === MTIME) {
      h.mtime = Math.floor(h.mtime / TWO32) * TWO32 + v;
    } else if (off === MTIME + 4) {
      h.mtime = v * TWO32 + (h.mtime % TWO32);
    }
  }
}
