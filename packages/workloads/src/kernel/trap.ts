/**
 * The trap vector (stvec, direct mode) and the dispatch on scause.
 *
 * sscratch holds the current process's trap frame while it runs in U-mode
 * and 0 while the kernel runs, so the vector tells a user trap (save all 31
 * registers and sepc into the frame) from a trap in the kernel itself (a
 * bug: panic and power off). Every handler ends in return_to_user (same
 * process), schedule (next runnable one) or the final report: nothing ever
 * returns into the vector, so the kernel stack starts empty at every trap.
 */
import { emitString } from "./console.ts";
import {
  ADDRESS_CAUSES,
  CAUSE_BREAKPOINT,
  CAUSE_ECALL_U,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_NAMES,
  CAUSE_STORE_PAGE_FAULT,
  hex,
  IRQ_STI,
  KERNEL_ERROR,
  type KernelContext,
  P_PID,
  P_ROOT,
  P_TF,
  PTE_COW,
  PTE_V,
  TEST_FAIL,
  TEST_PA,
  tfReg,
} from "./layout.ts";

/** Registers x1..x30 (x31 = t6 holds the frame pointer while saving and restoring). */
const SAVED = Array.from({ length: 30 }, (_, i) => i + 1);
const ADDRESS_CAUSE_MASK = ADDRESS_CAUSES.reduce<number>((m, c) => m | (1 << c), 0);
const KILL_CODE = 0xdead_0000;

export function emitTrap(k: KernelContext): void {
  emitVector(k);
  emitReturnToUser(k);
  emitExceptions(k);
  emitKernelTrap(k);
  emitCauseNames(k);
}

function emitVector({ a }: KernelContext): void {
  a.align(4);
  a.asm(`
trap_vector:
    csrrw t6, sscratch, t6          # t6 = trap frame, sscratch = user t6
    beqz  t6, trap_from_kernel
${SAVED.map((i) => `    sw    x${i}, ${tfReg(i)}(t6)`).join("\n")}
    csrr  t5, sscratch
    sw    t5, ${tfReg(31)}(t6)
    csrw  sscratch, zero
    csrr  t5, sepc
    sw    t5, 0(t6)
    addi  s0, t6, ${-P_TF}          # s0 = current process for every handler
    la    sp, kstack_top
    csrr  a0, scause
    bltz  a0, trap_interrupt
    li    t0, ${CAUSE_ECALL_U}
    beq   a0, t0, syscall_dispatch
    li    t0, ${CAUSE_LOAD_PAGE_FAULT}
    beq   a0, t0, trap_page_fault
    li    t0, ${CAUSE_STORE_PAGE_FAULT}
    beq   a0, t0, trap_page_fault
    li    t0, ${CAUSE_BREAKPOINT}
    beq   a0, t0, trap_breakpoint
    j     trap_kill                 # instruction page faults included: no demand paging for code

# trap_interrupt: the supervisor timer preempts; nothing else is enabled.
trap_interrupt:
    slli  a0, a0, 1
    srli  a0, a0, 1
    li    t0, ${IRQ_STI}
    bne   a0, t0, trap_from_kernel_unexpected
    j     schedule
`);
}

function emitReturnToUser({ a }: KernelContext): void {
  a.asm(`
# return_to_user (s0 = proc): restores the frame and srets (sstatus.SPP is
# always 0 here: kernel traps never return).
return_to_user:
    addi  t6, s0, ${P_TF}
    lw    t5, 0(t6)
    csrw  sepc, t5
    csrw  sscratch, t6
${SAVED.map((i) => `    lw    x${i}, ${tfReg(i)}(t6)`).join("\n")}
    lw    t6, ${tfReg(31)}(t6)
    sret
`);
}

function emitExceptions(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# trap_breakpoint: a user ebreak is counted and skipped.
trap_breakpoint:
    la    t0, kernel_ebreaks
    lw    t1, 0(t0)
    addi  t1, t1, 1
    sw    t1, 0(t0)
    lw    t0, ${P_TF}(s0)
    addi  t0, t0, 4
    sw    t0, ${P_TF}(s0)
    j     return_to_user

# trap_page_fault: a missing page in the heap or stack is demand-zeroed; a
# store to a copy-on-write page is given its own page (cow.ts); any other
# fault on a present page (a permission fault) or elsewhere kills.
trap_page_fault:
    csrr  a1, stval
    lw    a0, ${P_ROOT}(s0)
    li    a2, 0
    call  vm_walk
    beqz  a0, trap_page_fault_missing
    lw    t0, 0(a0)
    andi  t1, t0, ${PTE_V}
    beqz  t1, trap_page_fault_missing
    andi  t1, t0, ${PTE_COW}
    beqz  t1, trap_kill_current
    csrr  t1, scause
    li    t2, ${CAUSE_STORE_PAGE_FAULT}
    bne   t1, t2, trap_kill_current
    call  uvm_cow
    j     return_to_user
trap_page_fault_missing:
    csrr  a0, stval
    call  uvm_demand
    bnez  a0, trap_kill_current
    j     return_to_user
trap_kill_current:
    csrr  a0, scause

# trap_kill(a0 = scause): "killed pid <n>: <cause> at 0x<addr>" (addr =
# stval for address faults, else the pc), exit code 0xdead0000 | scause.
trap_kill:
    mv    s1, a0
    la    a0, msg_killed
    call  console_puts
    lw    a0, ${P_PID}(s0)
    call  console_putdec
    la    a0, msg_colon
    call  console_puts
    la    t0, cause_names
    andi  t1, s1, 15
    slli  t1, t1, 2
    add   t0, t0, t1
    lw    a0, 0(t0)
    call  console_puts
    la    a0, msg_at
    call  console_puts
    li    t0, ${hex(ADDRESS_CAUSE_MASK)}
    srl   t0, t0, s1
    andi  t0, t0, 1
    lw    a0, ${P_TF}(s0)
    beqz  t0, trap_kill_address
    csrr  a0, stval
trap_kill_address:
    call  console_puthex
    li    a0, 10
    call  console_putc
    li    a0, ${hex(KILL_CODE)}
    or    a0, a0, s1
    j     proc_exit
`);
  emitString(k, "msg_killed", "killed pid ");
  emitString(k, "msg_colon", ": ");
  emitString(k, "msg_at", " at 0x");
  a.section(".data");
  a.align(4);
  a.label("kernel_ebreaks").word(0);
  a.label("kernel_panicking").word(0);
  a.section(".text");
}

/** A trap taken in S-mode is a kernel bug. */
function emitKernelTrap(k: KernelContext): void {
  const { a } = k;
  a.asm(`
trap_from_kernel:
    csrrw t6, sscratch, t6          # put sscratch back (0)
trap_from_kernel_unexpected:
    la    sp, kstack_top
    la    t0, kernel_panicking      # a trap while reporting one: give up quietly
    lw    t1, 0(t0)
    bnez  t1, trap_from_kernel_again
    li    t1, 1
    sw    t1, 0(t0)
    la    a0, msg_panic_scause
    call  console_puts
    csrr  a0, scause
    call  console_puthex
    la    a0, msg_panic_sepc
    call  console_puts
    csrr  a0, sepc
    call  console_puthex
    la    a0, msg_panic_stval
    call  console_puts
    csrr  a0, stval
    call  console_puthex
    li    a0, 10
    call  console_putc
    li    a0, ${KERNEL_ERROR.kernelTrap}
    la    a1, msg_panic
    j     kernel_fail
trap_from_kernel_again:              # the devices may not be mapped: try the physical test device
    li    t0, ${hex(TEST_PA)}
    li    t1, ${hex(TEST_FAIL | (KERNEL_ERROR.kernelTrap << 16))}
    sw    t1, 0(t0)
trap_from_kernel_hang:
    j     trap_from_kernel_hang
`);
  emitString(k, "msg_panic_scause", "kernel panic: scause=0x");
  emitString(k, "msg_panic_sepc", " sepc=0x");
  emitString(k, "msg_panic_stval", " stval=0x");
  emitString(k, "msg_panic", "trap in supervisor mode");
}

function emitCauseNames(k: KernelContext): void {
  const { a } = k;
  emitString(k, "msg_cause_unknown", "unknown exception");
  for (const [cause, name] of Object.entries(CAUSE_NAMES)) emitString(k, `msg_cause_${cause}`, name);
  a.section(".rodata");
  a.align(4);
  a.label("cause_names");
  for (let c = 0; c < 16; c++) a.word(CAUSE_NAMES[c] ? `msg_cause_${c}` : "msg_cause_unknown");
  a.section(".text");
}
