/**
 * System calls (numbers and semantics in abi.ts). Arguments come from the
 * trap frame (a0..a2, number in a7); a handler ends in syscall_return (a0
 * = result into the frame, back to the same process), schedule or
 * proc_exit. s1..s7 are free scratch here: nothing returns into a handler.
 */
import { NANO, SYS, USER } from "./abi.ts";
import { uartPutInline } from "./console.ts";
import {
  hex,
  type KernelContext,
  P_BRK,
  P_PID,
  P_ROOT,
  P_TF,
  PAGE,
  PTE_R,
  PTE_U,
  PTE_USER_RW,
  PTE_V,
  PTE_W,
  pReg,
  REG_A0,
  REG_A1,
  REG_A2,
  REG_A7,
  SIE_STIE,
  SSTATUS_SUM,
  UART_LSR,
  UART_VA,
} from "./layout.ts";
import { flushPage } from "./vm.ts";

/** Handler label per syscall number; fork and wait live in proc.ts. */
const HANDLERS: Record<keyof typeof SYS, string> = {
  exit: "sys_exit",
  write: "sys_write",
  getpid: "sys_getpid",
  yield: "sys_yield",
  fork: "sys_fork",
  wait: "sys_wait",
  map: "sys_map",
  unmap: "sys_unmap",
  sbrk: "sys_sbrk",
  nano: "sys_nano",
};

export function emitSyscalls(k: KernelContext): void {
  emitDispatch(k);
  emitSimple(k);
  emitWrite(k);
  emitMemory(k);
  emitNano(k);
}

function emitDispatch({ a }: KernelContext): void {
  const numbers = Object.values(SYS);
  const max = Math.max(...numbers);
  a.asm(`
# syscall_dispatch: past the ecall, then through syscall_table by a7
# (unknown numbers return -1, as does syscall_fail).
syscall_dispatch:
    lw    t0, ${P_TF}(s0)
    addi  t0, t0, 4
    sw    t0, ${P_TF}(s0)
    lw    t0, ${pReg(REG_A7)}(s0)
    lw    a0, ${pReg(REG_A0)}(s0)
    lw    a1, ${pReg(REG_A1)}(s0)
    lw    a2, ${pReg(REG_A2)}(s0)
    li    t1, ${max}
    bgtu  t0, t1, sys_unknown
    la    t1, syscall_table
    slli  t0, t0, 2
    add   t1, t1, t0
    lw    t1, 0(t1)
    jr    t1
sys_unknown:
syscall_fail:
    li    a0, -1

# syscall_return(a0 = result)
syscall_return:
    sw    a0, ${pReg(REG_A0)}(s0)
    j     return_to_user
`);
  a.section(".rodata");
  a.align(4);
  a.label("syscall_table");
  const byNumber = new Map<number, string>(
    Object.entries(SYS).map(([name, n]) => [n, HANDLERS[name as keyof typeof SYS]]),
  );
  for (let n = 0; n <= max; n++) a.word(byNumber.get(n) ?? "sys_unknown");
  a.section(".text");
}

function emitSimple({ a }: KernelContext): void {
  a.asm(`
sys_exit:
    j     proc_exit

sys_getpid:
    lw    a0, ${P_PID}(s0)
    j     syscall_return

sys_yield:
    sw    zero, ${pReg(REG_A0)}(s0)
    j     schedule
`);
}

/**
 * write(buf, len): the range is checked page by page first (present with
 * U|R, or demand-zero heap/stack that is faulted in now), so the copy itself
 * never faults in S-mode; the copy runs with sstatus.SUM set and only then.
 */
function emitWrite({ a }: KernelContext): void {
  a.asm(`
sys_write:
    mv    s1, a0
    mv    s2, a1
    beqz  s2, syscall_return        # a0 = 0 = len
    add   s3, s1, s2
    bltu  s3, s1, sys_write_fault
    li    t0, ${hex(USER.stackTop)}
    bgtu  s3, t0, sys_write_fault
    srli  s4, s1, 12
    slli  s4, s4, 12
sys_write_check:
    lw    a0, ${P_ROOT}(s0)
    mv    a1, s4
    li    a2, 0
    call  vm_walk
    beqz  a0, sys_write_demand
    lw    t0, 0(a0)
    andi  t1, t0, ${PTE_V}
    beqz  t1, sys_write_demand
    andi  t1, t0, ${PTE_U | PTE_R}
    li    t2, ${PTE_U | PTE_R}
    bne   t1, t2, sys_write_fault
    j     sys_write_next
sys_write_demand:
    mv    a0, s4
    call  uvm_demand
    bnez  a0, sys_write_fault
sys_write_next:
    li    t0, ${PAGE}
    add   s4, s4, t0
    bltu  s4, s3, sys_write_check
    li    t0, ${hex(SSTATUS_SUM)}
    csrs  sstatus, t0
    li    t0, ${hex(UART_VA)}
sys_write_byte:
    lbu   t2, 0(s1)
${uartPutInline("sys_write_wait", "t2")}
    addi  s1, s1, 1
    bne   s1, s3, sys_write_byte
    li    t0, ${hex(SSTATUS_SUM)}
    csrc  sstatus, t0
    mv    a0, s2
    j     syscall_return
sys_write_fault:
    li    a0, -1
    j     syscall_return
`);
}

function emitMemory(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# map(va): a zeroed RW page at a free, page-aligned va of the map region.
sys_map:
    slli  t0, a0, 20                # low 12 bits: page offset
    bnez  t0, syscall_fail
    li    t0, ${hex(USER.mapBase)}
    bltu  a0, t0, syscall_fail
    li    t0, ${hex(USER.mapEnd)}
    bgeu  a0, t0, syscall_fail
    mv    s1, a0
    mv    a1, a0
    lw    a0, ${P_ROOT}(s0)
    li    a2, 1
    call  vm_walk
    lw    t0, 0(a0)
    andi  t0, t0, ${PTE_V}
    bnez  t0, syscall_fail
    mv    s2, a0
    call  kalloc
    srli  t0, a0, 12
    slli  t0, t0, 10
    ori   t0, t0, ${hex(PTE_USER_RW)}
    sw    t0, 0(s2)${flushPage(k, "s1")}
    li    a0, 0
    j     syscall_return

# unmap(va): a page-aligned va in the heap or the map region.
sys_unmap:
    slli  t0, a0, 20                # low 12 bits: page offset
    bnez  t0, syscall_fail
    li    t0, ${hex(USER.heap)}
    bltu  a0, t0, syscall_fail
    li    t0, ${hex(USER.mapEnd)}
    bgeu  a0, t0, syscall_fail
    call  uvm_unmap
    j     syscall_return

# sbrk(increment) -> old break. The break stays in [heap, mapBase]; pages
# wholly above a lowered break are unmapped and freed.
sys_sbrk:
    lw    s1, ${P_BRK}(s0)
    add   s2, s1, a0
    bltz  a0, sys_sbrk_shrink
    bltu  s2, s1, syscall_fail
    li    t0, ${hex(USER.mapBase)}
    bgtu  s2, t0, syscall_fail
    sw    s2, ${P_BRK}(s0)
    mv    a0, s1
    j     syscall_return
sys_sbrk_shrink:
    bgtu  s2, s1, syscall_fail
    li    t0, ${hex(USER.heap)}
    bltu  s2, t0, syscall_fail
    sw    s2, ${P_BRK}(s0)
    li    t0, ${PAGE - 1}
    add   s3, s2, t0
    srli  s3, s3, 12
    slli  s3, s3, 12
    add   s4, s1, t0
    srli  s4, s4, 12
    slli  s4, s4, 12
sys_sbrk_free:
    bgeu  s3, s4, sys_sbrk_done
    mv    a0, s3
    call  uvm_unmap
    li    t0, ${PAGE}
    add   s3, s3, t0
    j     sys_sbrk_free
sys_sbrk_done:
    mv    a0, s1
    j     syscall_return
`);
}

/** nano(op, n): the kernel-side nanobenchmark loops (abi.ts NANO). */
function emitNano(k: KernelContext): void {
  const { a } = k;
  a.asm(`
sys_nano:
    beqz  a1, sys_nano_done
    li    t0, ${NANO.in}
    beq   a0, t0, sys_nano_in
    li    t0, ${NANO.csrwr}
    beq   a0, t0, sys_nano_csrwr
    li    t0, ${NANO.ptemod}
    beq   a0, t0, sys_nano_ptemod
    j     syscall_fail
sys_nano_in:
    li    t0, ${hex(UART_VA)}
sys_nano_in_loop:
    lbu   t1, ${UART_LSR}(t0)
    addi  a1, a1, -1
    bnez  a1, sys_nano_in_loop
    j     sys_nano_done
sys_nano_csrwr:
    li    t0, ${hex(SIE_STIE)}      # the value sie already has: only the write is measured
sys_nano_csrwr_loop:
    csrw  sie, t0
    addi  a1, a1, -1
    bnez  a1, sys_nano_csrwr_loop
    j     sys_nano_done
# ptemod: toggle W in the PTE of the first text page and flush that
# address, n times; then the PTE is put back as it was.
sys_nano_ptemod:
    mv    s2, a1
    li    s1, ${hex(USER.text)}
    lw    a0, ${P_ROOT}(s0)
    mv    a1, s1
    li    a2, 0
    call  vm_walk
    beqz  a0, syscall_fail
    lw    s3, 0(a0)
    andi  t0, s3, ${PTE_V}
    beqz  t0, syscall_fail
    mv    s4, a0
sys_nano_ptemod_loop:
    lw    t1, 0(s4)
    xori  t1, t1, ${PTE_W}
    sw    t1, 0(s4)${flushPage(k, "s1")}
    addi  s2, s2, -1
    bnez  s2, sys_nano_ptemod_loop
    lw    t1, 0(s4)
    beq   t1, s3, sys_nano_done
    sw    s3, 0(s4)${flushPage(k, "s1")}
sys_nano_done:
    li    a0, 0
    j     syscall_return
`);
}
