/**
 * The guest kernel, generated with the emu-core assembler (xv6 in spirit,
 * one file per concern: boot, trap, syscall, proc, vm, kalloc, console,
 * report, user). buildGuestImage links a user program into it.
 *
 * Conventions of the generated code:
 * - Privilege: M-mode runs only the boot stub (boot.ts). The kernel runs in
 *   S-mode with sstatus.SIE = 0 throughout; user code runs in U-mode and is
 *   interrupted only by the Sstc timer. The kernel never traps into M.
 * - Addresses: every address space maps the managed RAM (KERNEL_RAM_BYTES
 *   from 0x8000_0000) identity with global megapages, no U bit, and the
 *   UART/test device at MMIO_VA. Kernel code therefore uses physical
 *   addresses for its data and for page contents (`la` is pc-relative).
 * - Registers: standard RISC-V calling convention between kernel functions
 *   (a0-a7 arguments/results, t0-t6 clobbered, s1-s11 preserved, ra). In
 *   trap handling s0 always points at the current process's slot and is
 *   never changed by a callee.
 * - Stack: one kernel stack (kstack_top), reset at every trap entry. A
 *   handler never returns into the vector: it ends in return_to_user,
 *   schedule or the report. Blocking (wait) is a process state, not a
 *   suspended kernel stack: proc_exit completes a waiting parent's call.
 * - Traps: sscratch = the current process's trap frame in U-mode, 0 in
 *   S-mode, which is how the vector recognises a trap in the kernel itself.
 * - TLB: without ASIDs every address-space switch writes satp and runs
 *   sfence.vma x0, x0; with ASIDs (slot index + 1) the switch does not
 *   flush, a reused ASID is flushed with sfence.vma x0, asid when it gets a
 *   new address space, and PTE edits flush sfence.vma va, asid (va, x0
 *   without ASIDs), also after invalid -> valid changes.
 * - Fork is copy-on-write by default (cow.ts; kernel option fork), and
 *   exit clears every PTE it drops before freeing a table, as Linux does.
 * - A/D: every PTE the kernel writes has A and D set, so hardware A/D
 *   updating is never needed (QEMU and emu-core both work).
 */
import { Assembler, type Image } from "@shadowlab/emu-core";
import { FORK_POLICIES, type KernelOptions } from "./abi.ts";
import { emitMachineStub, emitSupervisorEntry } from "./boot.ts";
import { emitConsole } from "./console.ts";
import { emitCow } from "./cow.ts";
import { emitKalloc } from "./kalloc.ts";
import {
  type KernelContext,
  KSTACK_SIZE,
  MAX_PIDS,
  PAGE,
  PAGE_REFS_BYTES,
  PROC_SIZE,
  RAM_BASE,
} from "./layout.ts";
import { emitProc } from "./proc.ts";
import { emitReport } from "./report.ts";
import { emitSyscalls } from "./syscall.ts";
import { emitTrap } from "./trap.ts";
import { assembleUser, emitUserImage, type UserEmitter } from "./user.ts";
import { emitVm } from "./vm.ts";

export { MACHINE_TRAP_ERROR } from "./boot.ts";
export { KERNEL_ERROR, KERNEL_RAM_BYTES, MAX_PIDS } from "./layout.ts";

/** ASIDs are slot index + 1 and satp has at most 9 ASID bits. */
export const MAX_PROCS = 511;
export const MAX_QUANTUM = 0x7fff_ffff;

export interface GuestImageOptions {
  kernel: KernelOptions;
  /** Emits the user program; process 1 starts at its first instruction, at USER.text. */
  user: (a: Assembler) => void;
  /** Emits initialised user data at USER.data. */
  userData?: (a: Assembler) => void;
}

/** The kernel with the user program linked in, ready for Machine.load or writeElf. */
export function buildGuestImage(opts: GuestImageOptions): Image {
  checkKernelOptions(opts.kernel);
  const userImage = assembleUser(opts.user as UserEmitter, opts.userData);
  const k: KernelContext = {
    a: new Assembler({ text: RAM_BASE, entry: "_start" }),
    opts: { ...opts.kernel },
  };
  emitMachineStub(k);
  emitSupervisorEntry(k);
  emitTrap(k);
  emitSyscalls(k);
  emitProc(k);
  emitVm(k);
  emitCow(k);
  emitKalloc(k);
  emitConsole(k);
  emitReport(k);
  emitUserImage(k, userImage);
  emitKernelBss(k);
  return k.a.assemble();
}

function checkKernelOptions(o: KernelOptions): void {
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`kernel option ${name} must be an integer in [${min}, ${max}], got ${v}`);
    }
  };
  int("quantum", o.quantum, 1, MAX_QUANTUM);
  int("maxProcs", o.maxProcs, 1, MAX_PROCS);
  if (typeof o.asid !== "boolean") throw new TypeError(`kernel option asid must be a boolean, got ${o.asid}`);
  if (!FORK_POLICIES.includes(o.fork))
    throw new RangeError(`kernel option fork must be one of ${FORK_POLICIES.join(", ")}, got ${o.fork}`);
}

/**
 * .bss: page-table pages, the process table and the frame reference
 * counts (zeroed at boot by bss_zero), then the per-pid exit codes (written
 * before they are read), then `kernel_end`, where the free pages begin.
 */
function emitKernelBss({ a, opts }: KernelContext): void {
  a.section(".bss");
  a.align(PAGE);
  a.label("kernel_bss_start");
  a.label("kernel_root").space(PAGE);
  a.label("kernel_mmio_table").space(PAGE);
  a.label("proc_table").space(opts.maxProcs * PROC_SIZE);
  a.label("page_refs").space(PAGE_REFS_BYTES);
  a.label("kstack").space(KSTACK_SIZE);
  a.label("kstack_top");
  a.align(32);
  a.label("kernel_bss_zero_end");
  a.label("exit_codes").space(MAX_PIDS * 4);
  a.align(PAGE);
  a.label("kernel_end");
  a.section(".text");
}
