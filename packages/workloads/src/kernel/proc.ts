/**
 * Processes and the scheduler: the process table, pids and ASIDs, process
 * 1 built from the linked user image, fork, exit, wait, and round-robin
 * dispatch with an Sstc quantum.
 *
 * Orphans: when a process exits, its zombie children are released at once
 * and its live children are detached (parent 0); a detached process is
 * released as soon as it exits. Every exit code is kept per pid for the
 * final report either way.
 */
import { USER } from "./abi.ts";
import { emitString } from "./console.ts";
import {
  hex,
  KERNEL_ERROR,
  type KernelContext,
  MAX_PIDS,
  P_ASID,
  P_BRK,
  P_PARENT,
  P_PID,
  P_ROOT,
  P_SATP,
  P_STATE,
  P_TF,
  P_XCODE,
  PAGE,
  PROC_SHIFT,
  PROC_SIZE,
  pReg,
  REG_A0,
  REG_A1,
  REG_SP,
  SATP_ASID_SHIFT,
  SATP_SV32,
  STATE,
  TF_SEPC,
} from "./layout.ts";

export function emitProc(k: KernelContext): void {
  emitAlloc(k);
  emitFirstProcess(k);
  emitScheduler(k);
  emitForkExitWait(k);
  emitString(k, "msg_out_of_procs", "out of process slots");
  emitString(k, "msg_out_of_pids", "out of pids");
  emitString(k, "msg_no_runnable", "no runnable process");
  const { a } = k;
  a.section(".data");
  a.align(4);
  a.label("current_proc").word(0);
  a.label("next_pid").word(1);
  // processes that are embryo, runnable or waiting: the run ends when it drops to 0
  a.label("live_procs").word(0);
  a.section(".text");
}

const tableBytes = (k: KernelContext): number => k.opts.maxProcs * PROC_SIZE;

function emitAlloc(k: KernelContext): void {
  const { a, opts } = k;
  const asid = opts.asid
    ? `
    la    t1, proc_table            # ASID = slot index + 1: unique among live processes
    sub   t2, t0, t1
    srli  t2, t2, ${PROC_SHIFT}
    addi  t2, t2, 1
    sw    t2, ${P_ASID}(t0)`
    : "";
  const asidSatp = opts.asid
    ? `
    lw    t1, ${P_ASID}(s1)
    slli  t2, t1, ${SATP_ASID_SHIFT}
    or    t0, t0, t2
    sfence.vma zero, t1             # the ASID may hold entries of an earlier address space`
    : "";
  a.asm(`
# proc_alloc() -> a0 = a zeroed EMBRYO slot with a fresh pid (and ASID).
# Leaf; clobbers t0-t3.
proc_alloc:
    la    t0, proc_table
    li    t1, ${tableBytes(k)}
    add   t1, t0, t1
proc_alloc_scan:
    lw    t2, ${P_STATE}(t0)
    beqz  t2, proc_alloc_found
    addi  t0, t0, ${PROC_SIZE}
    bne   t0, t1, proc_alloc_scan
    li    a0, ${KERNEL_ERROR.outOfProcs}
    la    a1, msg_out_of_procs
    j     kernel_fail
proc_alloc_found:
    mv    t2, t0
    addi  t3, t0, ${PROC_SIZE}
proc_alloc_zero:
    sw    zero, 0(t2)
    sw    zero, 4(t2)
    sw    zero, 8(t2)
    sw    zero, 12(t2)
    addi  t2, t2, 16
    bne   t2, t3, proc_alloc_zero
    la    t1, next_pid
    lw    t2, 0(t1)
    li    t3, ${MAX_PIDS}
    bgeu  t2, t3, proc_alloc_out_of_pids
    sw    t2, ${P_PID}(t0)
    addi  t2, t2, 1
    sw    t2, 0(t1)
    li    t2, ${STATE.embryo}
    sw    t2, ${P_STATE}(t0)${asid}
    la    t1, live_procs
    lw    t2, 0(t1)
    addi  t2, t2, 1
    sw    t2, 0(t1)
    mv    a0, t0
    ret
proc_alloc_out_of_pids:
    li    a0, ${KERNEL_ERROR.outOfPids}
    la    a1, msg_out_of_pids
    j     kernel_fail

# proc_new_space(a0 = proc): a new root table (kernel half only) and the
# satp value that selects it.
proc_new_space:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s1, 8(sp)
    mv    s1, a0
    call  vm_create
    sw    a0, ${P_ROOT}(s1)
    srli  t0, a0, 12
    li    t1, ${hex(SATP_SV32)}
    or    t0, t0, t1${asidSatp}
    sw    t0, ${P_SATP}(s1)
    lw    ra, 12(sp)
    lw    s1, 8(sp)
    addi  sp, sp, 16
    ret
`);
}

/**
 * Process 1: its pages are filled from the user segments linked into the
 * kernel image (user.ts lays out the table: count, then per segment va,
 * pages, PTE flags, source address, source bytes).
 */
function emitFirstProcess({ a }: KernelContext): void {
  a.asm(`
# proc_init_first() -> a0 = process 1, runnable, registers zero but sp, at USER.text.
proc_init_first:
    addi  sp, sp, -48
    sw    ra, 44(sp)
    sw    s1, 40(sp)
    sw    s2, 36(sp)
    sw    s3, 32(sp)
    sw    s4, 28(sp)
    sw    s5, 24(sp)
    sw    s6, 20(sp)
    sw    s7, 16(sp)
    call  proc_alloc
    mv    s1, a0
    call  proc_new_space
    li    t0, ${hex(USER.heap)}
    sw    t0, ${P_BRK}(s1)
    li    t0, ${hex(USER.stackTop)}
    sw    t0, ${pReg(REG_SP)}(s1)
    li    t0, ${hex(USER.text)}
    sw    t0, ${P_TF + TF_SEPC}(s1)
    la    s2, user_segments
    lw    s3, 0(s2)
    addi  s2, s2, 4
proc_init_segment:
    beqz  s3, proc_init_done
    lw    s4, 0(s2)                 # va
    lw    s5, 4(s2)                 # pages
    lw    s6, 12(s2)                # source
    lw    s7, 16(s2)                # source bytes left (a multiple of 4)
proc_init_page:
    call  kalloc
    li    t0, ${PAGE}
    mv    t1, s7
    bleu  t1, t0, proc_init_chunk
    mv    t1, t0
proc_init_chunk:
    sub   s7, s7, t1
    add   t1, s6, t1
    mv    t2, a0
proc_init_copy:
    beq   s6, t1, proc_init_map
    lw    t3, 0(s6)
    sw    t3, 0(t2)
    addi  s6, s6, 4
    addi  t2, t2, 4
    j     proc_init_copy
proc_init_map:
    mv    a2, a0
    mv    a1, s4
    lw    a0, ${P_ROOT}(s1)
    lw    a3, 8(s2)
    call  vm_map                    # not active yet: no flush due
    li    t0, ${PAGE}
    add   s4, s4, t0
    addi  s5, s5, -1
    bnez  s5, proc_init_page
    addi  s2, s2, 20
    addi  s3, s3, -1
    j     proc_init_segment
proc_init_done:
    li    t0, ${STATE.runnable}
    sw    t0, ${P_STATE}(s1)
    mv    a0, s1
    lw    ra, 44(sp)
    lw    s1, 40(sp)
    lw    s2, 36(sp)
    lw    s3, 32(sp)
    lw    s4, 28(sp)
    lw    s5, 24(sp)
    lw    s6, 20(sp)
    lw    s7, 16(sp)
    addi  sp, sp, 48
    ret
`);
}

function emitScheduler(k: KernelContext): void {
  const { a, opts } = k;
  a.asm(`
# schedule: round robin over the slots after the current one (the current
# one last). Never returns: dispatches the process it finds.
schedule:
    la    t0, proc_table
    li    t1, ${tableBytes(k)}
    add   t1, t0, t1
    la    t2, current_proc
    lw    t3, 0(t2)
    mv    t4, t3
schedule_next:
    addi  t4, t4, ${PROC_SIZE}
    bltu  t4, t1, schedule_check
    mv    t4, t0
schedule_check:
    lw    t5, ${P_STATE}(t4)
    li    t6, ${STATE.runnable}
    beq   t5, t6, schedule_found
    bne   t4, t3, schedule_next
    li    a0, ${KERNEL_ERROR.noRunnable}
    la    a1, msg_no_runnable
    j     kernel_fail
schedule_found:
    mv    s0, t4

# switch_to (s0 = proc): makes it current, switches address space (write
# satp, then sfence.vma as vm_switch decides), gives it a fresh quantum and
# returns to it.
switch_to:
    la    t0, current_proc
    sw    s0, 0(t0)
    lw    a0, ${P_SATP}(s0)
    call  vm_switch
    call  timer_arm
    j     return_to_user

# timer_arm(): stimecmp = time + quantum (64-bit). The high half is written
# first; that is safe because S-mode runs with interrupts off. Leaf.
timer_arm:
    csrr  t1, timeh
    csrr  t0, time
    csrr  t2, timeh
    bne   t1, t2, timer_arm
    li    t3, ${opts.quantum}
    add   t0, t0, t3
    sltu  t3, t0, t3
    add   t1, t1, t3
    csrw  stimecmph, t1
    csrw  stimecmp, t0
    ret
`);
}

function emitForkExitWait(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# sys_fork(): a child with a copy of the trap frame (a0 = 0 in the child)
# and of the address space (copy-on-write or eager: kernel option fork).
sys_fork:
    call  proc_alloc
    mv    s1, a0
    sw    s0, ${P_PARENT}(s1)
    lw    t0, ${P_BRK}(s0)
    sw    t0, ${P_BRK}(s1)
    addi  t0, s0, ${P_TF}
    addi  t1, s1, ${P_TF}
    addi  t2, t0, 128
sys_fork_frame:
    lw    t3, 0(t0)
    sw    t3, 0(t1)
    addi  t0, t0, 4
    addi  t1, t1, 4
    bne   t0, t2, sys_fork_frame
    sw    zero, ${pReg(REG_A0)}(s1)
    mv    a0, s1
    call  proc_new_space
    lw    a0, ${P_ROOT}(s0)
    lw    a1, ${P_ROOT}(s1)
    call  ${k.opts.fork === "cow" ? "vm_share" : "vm_copy"}
    li    t0, ${STATE.runnable}
    sw    t0, ${P_STATE}(s1)
    lw    a0, ${P_PID}(s1)
    j     syscall_return

# proc_exit(a0 = code): ends the current process (s0): records the code,
# frees its whole address space (from the kernel's own page table), settles
# orphans and parent, then runs the next process or the final report.
proc_exit:
    sw    a0, ${P_XCODE}(s0)
    lw    t0, ${P_PID}(s0)
    slli  t0, t0, 2
    la    t1, exit_codes
    add   t1, t1, t0
    sw    a0, 0(t1)
    la    t0, kernel_satp
    lw    a0, 0(t0)
    call  vm_switch
    lw    a0, ${P_ROOT}(s0)
    call  vm_free
    la    t0, proc_table
    li    t1, ${tableBytes(k)}
    add   t1, t0, t1
proc_exit_orphans:
    lw    t2, ${P_PARENT}(t0)
    bne   t2, s0, proc_exit_orphans_next
    sw    zero, ${P_PARENT}(t0)
    lw    t2, ${P_STATE}(t0)
    li    t3, ${STATE.zombie}
    bne   t2, t3, proc_exit_orphans_next
    sw    zero, ${P_STATE}(t0)      # nobody will wait for it: release
proc_exit_orphans_next:
    addi  t0, t0, ${PROC_SIZE}
    bne   t0, t1, proc_exit_orphans
    la    t0, live_procs
    lw    t1, 0(t0)
    addi  t1, t1, -1
    sw    t1, 0(t0)
    lw    t0, ${P_PARENT}(s0)
    beqz  t0, proc_exit_release
    lw    t1, ${P_STATE}(t0)
    li    t2, ${STATE.waiting}
    bne   t1, t2, proc_exit_zombie
    lw    t1, ${P_PID}(s0)          # the parent is blocked in wait: complete it now
    sw    t1, ${pReg(REG_A0)}(t0)
    lw    t1, ${P_XCODE}(s0)
    sw    t1, ${pReg(REG_A1)}(t0)
    li    t1, ${STATE.runnable}
    sw    t1, ${P_STATE}(t0)
proc_exit_release:
    sw    zero, ${P_STATE}(s0)
    sw    zero, ${P_PARENT}(s0)     # a free slot is nobody's child
    j     proc_exit_next
proc_exit_zombie:
    li    t1, ${STATE.zombie}
    sw    t1, ${P_STATE}(s0)
proc_exit_next:
    la    t0, live_procs
    lw    t1, 0(t0)
    beqz  t1, kernel_report
    j     schedule

# sys_wait(): reaps an exited child (a0 = pid, a1 = code), else blocks
# until one exits (proc_exit completes the call), or -1 without children.
sys_wait:
    la    t0, proc_table
    li    t1, ${tableBytes(k)}
    add   t1, t0, t1
    li    t4, 0
sys_wait_scan:
    lw    t2, ${P_PARENT}(t0)
    bne   t2, s0, sys_wait_next
    li    t4, 1
    lw    t2, ${P_STATE}(t0)
    li    t3, ${STATE.zombie}
    bne   t2, t3, sys_wait_next
    lw    a0, ${P_PID}(t0)
    lw    t2, ${P_XCODE}(t0)
    sw    t2, ${pReg(REG_A1)}(s0)
    sw    zero, ${P_STATE}(t0)
    sw    zero, ${P_PARENT}(t0)
    j     syscall_return
sys_wait_next:
    addi  t0, t0, ${PROC_SIZE}
    bne   t0, t1, sys_wait_scan
    li    a0, -1
    beqz  t4, syscall_return
    li    t2, ${STATE.waiting}
    sw    t2, ${P_STATE}(s0)
    j     schedule
`);
}
