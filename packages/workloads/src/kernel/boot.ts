/**
 * Boot: the M-mode stub at the RAM base (the only M-mode code there is) and
 * the S-mode entry that initialises the kernel and enters process 1.
 */
import {
  hex,
  type KernelContext,
  SIE_STIE,
  SSTATUS_MXR,
  SSTATUS_SIE,
  SSTATUS_SPIE,
  SSTATUS_SPP,
  SSTATUS_SUM,
  TEST_FAIL,
  TEST_PA,
} from "./layout.ts";

/** Exceptions a supervisor handles: everything but ecall from S (9) and M (11). */
const MEDELEG = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15].reduce((m, c) => m | (1 << c), 0);
/** SSI, STI, SEI. */
const MIDELEG = (1 << 1) | (1 << 5) | (1 << 9);
/** PMP entry 0: NAPOT over the whole address space, R|W|X. */
const PMPCFG_NAPOT_RWX = (3 << 3) | 0b111;
/** menvcfgh.STCE (menvcfg bit 63): S-mode owns stimecmp (Sstc). */
const MENVCFGH_STCE = 0x8000_0000;
/** CY | TM | IR. */
const COUNTEREN_ALL = 0b111;
const MSTATUS_MPP = 3 << 11;
const MSTATUS_MPP_S = 1 << 11;
/** Test-device exit code of a trap that reaches M-mode (a kernel bug). */
export const MACHINE_TRAP_ERROR = 9;

/**
 * The M-mode stub: opens PMP, delegates what a supervisor handles, gives
 * S-mode the Sstc timer and the counters, and mrets into supervisor_entry.
 * Nothing in M-mode runs afterwards; mtvec only catches kernel bugs (under a
 * hypervisor this stub does not run at all, the hypervisor plays its part).
 */
export function emitMachineStub({ a }: KernelContext): void {
  a.asm(`
_start:
    la    t0, machine_trap
    csrw  mtvec, t0
    li    t0, -1
    csrw  pmpaddr0, t0
    li    t0, ${hex(PMPCFG_NAPOT_RWX)}
    csrw  pmpcfg0, t0
    li    t0, ${hex(MEDELEG)}
    csrw  medeleg, t0
    li    t0, ${hex(MIDELEG)}
    csrw  mideleg, t0
    li    t0, ${hex(MENVCFGH_STCE)}
    csrs  menvcfgh, t0
    li    t0, ${COUNTEREN_ALL}
    csrw  mcounteren, t0
    li    t0, ${hex(MSTATUS_MPP)}
    csrc  mstatus, t0
    li    t0, ${hex(MSTATUS_MPP_S)}
    csrs  mstatus, t0
    la    t0, supervisor_entry
    csrw  mepc, t0
    mret
machine_trap:                       # a trap into M-mode: report failure, physical address (satp is ignored in M)
    li    t0, ${hex(TEST_PA)}
    li    t1, ${hex(TEST_FAIL | (MACHINE_TRAP_ERROR << 16))}
    sw    t1, 0(t0)
machine_trap_hang:
    j     machine_trap_hang
`);
}

/**
 * The S-mode entry. Assumes only the privileged state the stub sets up
 * (delegation, PMP, Sstc, counters) and satp = 0; every register and every
 * supervisor CSR it uses is set here.
 */
export function emitSupervisorEntry({ a }: KernelContext): void {
  a.align(4);
  a.asm(`
supervisor_entry:
    la    t0, trap_vector
    csrw  stvec, t0
    csrw  sscratch, zero            # sscratch = 0: "running in the kernel" for the trap vector
    li    t0, ${hex(SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR)}
    csrc  sstatus, t0               # interrupts off in S-mode for good; sret always returns to U
    csrw  sie, zero
    la    sp, kstack_top
    call  bss_zero
    call  vm_init_kernel            # paging on from here: devices are reached at MMIO_VA
    call  kalloc_init
    li    t0, 7
    csrw  scounteren, t0            # user code may read cycle, time, instret
    li    t0, ${hex(SIE_STIE)}
    csrs  sie, t0
    call  proc_init_first
    mv    s0, a0
    j     switch_to

# bss_zero(): zeroes the kernel's .bss up to the exit-code table (which is
# written before it is read). Leaf; the range is 32-byte aligned.
bss_zero:
    la    t0, kernel_bss_start
    la    t1, kernel_bss_zero_end
    beq   t0, t1, bss_zero_done
bss_zero_loop:
    sw    zero, 0(t0)
    sw    zero, 4(t0)
    sw    zero, 8(t0)
    sw    zero, 12(t0)
    sw    zero, 16(t0)
    sw    zero, 20(t0)
    sw    zero, 24(t0)
    sw    zero, 28(t0)
    addi  t0, t0, 32
    bne   t0, t1, bss_zero_loop
bss_zero_done:
    ret
`);
}
