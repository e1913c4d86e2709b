/**
 * The guest's view of the CLINT (QEMU virt, 0x0200_0000): a supervisor on the
 * real board can read mtime there (the boot stub leaves PMP open), so a
 * guest can too. Its M-mode timer and software interrupt belong to the
 * machine, not to the guest: msip and mtimecmp read as zero and ignore
 * writes, like registers of a hart the guest does not own.
 */
import { CLINT_BASE, type Device, type Hart } from "@shadowlab/emu-core";

const MTIME = 0xbff8;
const TWO32 = 2 ** 32;

export class GuestClint implements Device {
  readonly name = "clint";
  readonly base = CLINT_BASE;
  readonly size = 0x10000;

  constructor(private readonly hart: Hart) {}

  load(offset: number, width: 1 | 2 | 4): number {
    const aligned = offset & ~3;
    const now = this.hart.mtime;
    const word =
      aligned === MTIME ? (now % TWO32) >>> 0 : aligned === MTIME + 4 ? Math.floor(now / TWO32) >>> 0 : 0;
    const shift = (offset & 3) * 8;
    return width === 4 ? word : (word >>> shift) & ((1 << (width * 8)) - 1);
  }

  store(): void {}
}
