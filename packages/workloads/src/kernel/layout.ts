/**
 * The kernel's own layout: physical and virtual addresses, page-table bits,
 * the process structure, and internal error codes. Everything the emitters
 * in this directory agree on lives here (the user-facing contract is abi.ts).
 */
import type { Assembler } from "@shadowlab/emu-core";
import type { KernelOptions } from "./abi.ts";

/** What every emitter gets: the kernel's assembler and the options it is built with. */
export interface KernelContext {
  readonly a: Assembler;
  readonly opts: KernelOptions;
}

export const PAGE = 4096;
export const RAM_BASE = 0x8000_0000;
/**
 * RAM the kernel manages: identity-mapped with 4 MiB megapages in every
 * address space, pages after the kernel image go to the free list. The
 * machine needs at least this much RAM (the virt board defaults to 128 MiB).
 */
export const KERNEL_RAM_BYTES = 32 * 1024 * 1024;
export const RAM_END = RAM_BASE + KERNEL_RAM_BYTES;

/** Device physical addresses on the virt board. */
export const UART_PA = 0x1000_0000;
export const TEST_PA = 0x0010_0000;
/**
 * The kernel reaches its devices through one L0 table at the top of every
 * address space (not identity-mapped: 0x1000_0000 is inside the user map region).
 */
export const MMIO_VA = 0xffc0_0000;
export const UART_VA = MMIO_VA;
export const TEST_VA = MMIO_VA + PAGE;
/** UART registers (offsets) and the LSR bit "transmit holding register empty". */
export const UART_THR = 0;
export const UART_LSR = 5;
export const LSR_THRE = 0x20;
/** SiFive test device commands. */
export const TEST_PASS = 0x5555;
export const TEST_FAIL = 0x3333;

/** Sv32 PTE bits. */
export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;
/**
 * RSW bit 8 (reserved for supervisor software, privileged spec 4.3.1): a
 * copy-on-write page. Its PTE has W clear; a store to it copies the frame
 * (or, when no other PTE maps the frame, just gives W back).
 */
export const PTE_COW = 1 << 8;
/** Kernel RAM megapages and MMIO pages: global, never user. A and D preset. */
export const PTE_KERNEL_RAM = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G;
export const PTE_KERNEL_MMIO = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | PTE_G;
/** User pages: A and D are preset by the kernel, so no walker A/D update is ever needed. */
export const PTE_USER_RW = PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
export const PTE_USER_RX = PTE_V | PTE_R | PTE_X | PTE_U | PTE_A | PTE_D;
export const PTE_USER_R = PTE_V | PTE_R | PTE_U | PTE_A | PTE_D;

export const SATP_SV32 = 0x8000_0000;
export const SATP_ASID_SHIFT = 22;
export const SATP_ASID_MASK = 0x1ff;

/** sstatus / sie bits the kernel touches. */
export const SSTATUS_SIE = 1 << 1;
export const SSTATUS_SPIE = 1 << 5;
export const SSTATUS_SPP = 1 << 8;
export const SSTATUS_SUM = 1 << 18;
export const SSTATUS_MXR = 1 << 19;
export const SIE_STIE = 1 << 5;
/** scause of the supervisor timer interrupt (interrupt bit aside). */
export const IRQ_STI = 5;

/**
 * The process structure (one PROC_SIZE slot per process in `proc_table`).
 * The trap frame is inline: sscratch points at it while the process runs in
 * U-mode. tf+0 holds sepc, tf+4*i holds register x_i (i = 1..31).
 */
export const P_STATE = 0;
export const P_PID = 4;
/** Parent's proc pointer, 0 for pid 1 and for orphans. */
export const P_PARENT = 8;
/** The full satp value of the address space (mode, ASID, root PPN). */
export const P_SATP = 12;
/** Physical address of the root page table. */
export const P_ROOT = 16;
/** Current program break (end of the heap). */
export const P_BRK = 20;
/** ASID (slot index + 1; 0 when built without ASIDs). */
export const P_ASID = 24;
export const P_XCODE = 28;
export const P_TF = 32;
export const PROC_SHIFT = 8;
export const PROC_SIZE = 1 << PROC_SHIFT;
export const TF_SEPC = 0;
/** Trap-frame offset of register x_i. */
export const tfReg = (i: number): number => 4 * i;
/** Proc-relative offset of saved register x_i. */
export const pReg = (i: number): number => P_TF + 4 * i;
export const REG_SP = 2;
export const REG_A0 = 10;
export const REG_A1 = 11;
export const REG_A2 = 12;
export const REG_A7 = 17;

/** Process states. EMBRYO: slot taken, address space being built. */
export const STATE = { unused: 0, runnable: 1, waiting: 2, zombie: 3, embryo: 4 } as const;

/** Pids are 1..MAX_PIDS-1 over the whole run (exit codes are kept per pid for the report). */
export const MAX_PIDS = 8192;
/** Kernel stack: one, since the kernel never blocks inside a handler (see index.ts). */
export const KSTACK_SIZE = 4096;
/**
 * Frame reference counts for copy-on-write: one halfword per managed page
 * (`page_refs`, zeroed at boot), the number of PTEs that map the frame
 * beyond the first. 0 = one owner (or free), so allocation needs no count.
 */
export const PAGE_REFS_BYTES = (KERNEL_RAM_BYTES / 4096) * 2;

/** Exit codes of the test device on internal kernel errors (`0x3333 | code << 16`). */
export const KERNEL_ERROR = {
  outOfMemory: 1,
  outOfProcs: 2,
  outOfPids: 3,
  kernelTrap: 4,
  noRunnable: 5,
  asidBits: 6,
  pageLeak: 7,
  badFree: 8,
} as const;

/** Names of the exceptions a user process can be killed for (privileged spec, table 3.6). */
export const CAUSE_NAMES: Readonly<Record<number, string>> = {
  0: "instruction address misaligned",
  1: "instruction access fault",
  2: "illegal instruction",
  4: "load address misaligned",
  5: "load access fault",
  6: "store/AMO address misaligned",
  7: "store/AMO access fault",
  12: "instruction page fault",
  13: "load page fault",
  15: "store/AMO page fault",
};
/** Causes whose stval is a faulting address; for the others the kill line shows sepc. */
export const ADDRESS_CAUSES = [0, 1, 4, 5, 6, 7, 12, 13, 15] as const;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_ECALL_U = 8;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;

/** `0x..` for asm text. */
export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
