import type { Device } from "./device.ts";

/**
 * The SiFive test finisher as QEMU's `virt` board maps it (hw/riscv/virt.c:
 * VIRT_TEST at 0x0010_0000, size 0x1000; behaviour from hw/misc/sifive_test.c).
 * A guest ends the simulation by storing a status word at offset 0:
 *
 *   bits 15:0   0x5555 pass, 0x3333 fail, 0x7777 reset
 *   bits 31:16  exit code (fail only)
 *
 * Other status values are ignored, as in QEMU. QEMU exits with `code` for a
 * fail, so a fail with code 0 exits successfully there; we still report it as
 * kind "fail" and let the caller decide. A reset is reported as code 0, kind
 * "reset": this machine has no reset path, so the caller chooses whether to
 * stop or to reload the image.
 */

export const SIFIVE_TEST_BASE = 0x0010_0000;
export const SIFIVE_TEST_SIZE = 0x1000;

export type SifiveTestExitKind = "pass" | "fail" | "reset";

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class SifiveTest implements Device {
  readonly name = "sifive_test";
  readonly size = SIFIVE_TEST_SIZE;

  /**
   * @param onExit called once per finisher store; `code` is the 16-bit exit
   *   code for "fail" and 0 otherwise.
   * @param base bus address of the status register.
   */
  constructor(
    private readonly onExit: (code: number, kind: SifiveTestExitKind) => void,
    readonly base: number = SIFIVE_TEST_BASE,
  ) {}

  /** QEMU's model returns 0 for every read. */
  load(_offset: number, _width: 1 | 2 | 4): number {
    return 0;
  }

  /**
   * QEMU accepts 2- and 4-byte accesses (a 16-bit store can pass or fail with
   * code 0); byte stores are not valid accesses there and are ignored here.
   */
  store(offset: number, width: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || width === 1) return;
    const status = value & 0xffff;
    if (status === FINISHER_PASS) this.onExit(0, "pass");
    else if (status === FINISHER_FAIL) this.onExit(value >>> 16, "fail");
    else if (status === FINISHER_RESET) this.onExit(0, "reset");
  }
}
