/**
 * Small guest images for the hypervisor's tests, written with the emu-core
 * assembler. Each boots like the workloads' kernel: an M-mode stub at the RAM
 * base delegates to S-mode and mrets to `supervisor_entry`, so the same image
 * runs natively (stub included) and under the hypervisor (which starts at
 * `supervisor_entry` and plays the stub's part).
 */
import { Assembler, type Image } from "@shadowlab/emu-core";

export const UART = 0x1000_0000;
export const TEST_DEVICE = 0x0010_0000;

/** Exit code of the native stub's M-mode handler when anything but an ecall from S reaches M. */
export const MACHINE_TRAP_EXIT = 0x4d;

/**
 * The boot stub: PMP open, supervisor traps delegated, Sstc and counters on, mret into S.
 * Its M-mode handler answers every ecall from S with a0 = -2 SBI_ERR_NOT_SUPPORTED, a1 = 0,
 * back after the ecall, as the hypervisor answers an extension it does not implement, so such
 * calls compare natively too (test/sbi-service.test.ts compares the implemented ones against
 * the real firmware); any other trap into M powers off with MACHINE_TRAP_EXIT.
 */
export function bootStub(a: Assembler): void {
  a.label("_start");
  a.la("t0", "machine_trap").csrw("mtvec", "t0");
  a.li("t0", -1).csrw(0x3b0, "t0"); // pmpaddr0
  a.li("t0", 0x1f).csrw(0x3a0, "t0"); // pmpcfg0: NAPOT, R, W, X
  a.li("t0", 0xb1ff).csrw("medeleg", "t0"); // every exception but ecall from S/M
  a.li("t0", 0x222).csrw("mideleg", "t0");
  a.li("t0", 0x8000_0000).csrw("menvcfgh", "t0"); // STCE
  a.li("t0", 7).csrw("mcounteren", "t0");
  a.li("t0", 3 << 11).csrc("mstatus", "t0");
  a.li("t0", 1 << 11).csrs("mstatus", "t0"); // MPP = S
  a.la("t0", "supervisor_entry").csrw("mepc", "t0");
  a.mret();
  a.align(4);
  a.label("machine_trap");
  a.csrr("a0", "mcause").addi("a0", "a0", -9).bnez("a0", "machine_trap_fail");
  a.csrr("a0", "mepc").addi("a0", "a0", 4).csrw("mepc", "a0");
  a.li("a0", -2).li("a1", 0).mret();
  a.label("machine_trap_fail");
  a.li("t0", TEST_DEVICE)
    .li("t1", ((MACHINE_TRAP_EXIT << 16) | 0x3333) >>> 0)
    .sw("t1", 0, "t0");
  a.label("machine_trap_hang").j("machine_trap_hang");
}

/** Emit code that prints the NUL-terminated string at `label` through the UART (clobbers t0-t2). */
export function emitPuts(a: Assembler, label: string): void {
  const loop = `puts_${a.here()}`;
  const done = `${loop}_done`;
  a.la("t1", label).li("t0", UART);
  a.label(loop).lbu("t2", 0, "t1").beqz("t2", done).sb("t2", 0, "t0").addi("t1", "t1", 1).j(loop);
  a.label(done);
}

/** Emit code that powers off with exit code `code` (0 = pass). */
export function emitPowerOff(a: Assembler, code = 0): void {
  a.li("t0", TEST_DEVICE)
    .li("t1", code === 0 ? 0x5555 : ((code << 16) | 0x3333) >>> 0)
    .sw("t1", 0, "t0");
  a.label(`halt_${a.here()}`).j(`halt_${a.here() - 4 * 0}`);
}

/** An image: boot stub, then `body` at supervisor_entry (S-mode), then `data`. */
export function guestImage(body: (a: Assembler) => void, data?: (a: Assembler) => void): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  bootStub(a);
  a.align(16);
  a.label("supervisor_entry");
  body(a);
  if (data) {
    a.section(".data");
    data(a);
  }
  return a.assemble();
}
