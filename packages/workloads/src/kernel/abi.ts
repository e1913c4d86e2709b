/**
 * The guest kernel's contract with user programs and with the workload
 * generators: syscall numbers, the user address-space layout, and the
 * options a kernel image is built with. User code is written with the
 * emu-core assembler and linked into the same image as the kernel.
 *
 * Calling convention (as Linux on RISC-V): syscall number in a7, arguments in
 * a0..a2, `ecall`, result in a0 (negative = error); every other register is
 * preserved across the call.
 */

export const SYS = {
  /** exit(code): ends the process; code is its 32-bit result for the final report. */
  exit: 1,
  /** write(buf, len) -> len: copies len bytes from user memory to the console. */
  write: 2,
  /** getpid() -> pid (the first process is pid 1). */
  getpid: 3,
  /** yield() -> 0: gives the CPU to the next runnable process. */
  yield: 4,
  /**
   * fork() -> child pid in the parent, 0 in the child: a copy of the address
   * space, copy-on-write or eager as the kernel option `fork` says (the user
   * sees the same either way).
   */
  fork: 5,
  /** wait() -> pid of an exited child (blocks until one exits), its exit code in a1; -1 if there are no children. */
  wait: 6,
  /** map(va) -> 0: maps a zeroed, writable page at page-aligned va in the map region; -1 on error. */
  map: 7,
  /** unmap(va) -> 0: unmaps the page at va (map region or heap) and frees it; -1 if none. */
  unmap: 8,
  /** sbrk(increment) -> old break: grows (or shrinks) the heap; pages are demand-zero. */
  sbrk: 9,
  /**
   * nano(op, n) -> 0: runs n iterations of a kernel-side nanobenchmark loop in
   * S-mode (Adams & Agesen, ASPLOS 2006, the operations that need the kernel):
   * NANO.in, NANO.csrwr, NANO.ptemod.
   */
  nano: 10,
} as const;

/** Kernel-side nanobenchmark operations for SYS.nano. */
export const NANO = {
  /** A load of a device register (the UART's LSR): their `in`. */
  in: 0,
  /** A write of an interrupt-control CSR (sie): their `cr8wr`. */
  csrwr: 1,
  /** Rewrite a PTE of the calling process (toggle its W bit) and sfence.vma that address: their `ptemod`. */
  ptemod: 2,
} as const;

/**
 * Guest events the kernel handles itself:
 * - a user `ebreak` is counted and skipped (sepc += 4): the nano `trap`
 *   benchmark (RISC-V division by zero does not trap, so ebreak stands in
 *   for their divzero);
 * - a user access outside its address space (kernel memory, unmapped
 *   addresses outside heap/stack/map regions, writes to text) kills the
 *   process with the console line `killed pid <n>: <cause> at 0x<addr>`,
 *   recorded with exit code 0xdead0000 | scause.
 *
 * The final report: when the last process has exited, the kernel prints one
 * line per process in pid order, `pid <n> exit 0x<code, 8 hex digits>`, then
 * `checksum=0x<8 hex digits>`, where the checksum is FNV-1a over the exit
 * codes in pid order (c = 0x811c9dc5; for each code: c = (c ^ code) * 16777619
 * mod 2^32; the code is folded as one 32-bit word), then powers off through
 * the SiFive test device (exit 0; non-zero on an internal kernel error).
 *
 * Image symbols for tests: `supervisor_entry` (the S-mode entry a hypervisor
 * starts at), `kernel_free_pages` (current free page count, a word) and
 * `kernel_free_pages_boot` (the count after boot, a word).
 */
export function checksumOf(exitCodes: readonly number[]): number {
  let c = 0x811c9dc5;
  for (const code of exitCodes) c = Math.imul((c ^ code) >>> 0, 16777619) >>> 0;
  return c >>> 0;
}

/** User virtual address layout (Sv32; everything below the kernel's window). */
export const USER = {
  /** The user program's code (and read-only data), mapped read+execute. */
  text: 0x0001_0000,
  /** Initialised user data (the user image's .data), mapped read+write. */
  data: 0x0020_0000,
  /** Start of the heap that sbrk grows; demand-zero. */
  heap: 0x0040_0000,
  /** The map/unmap region. */
  mapBase: 0x1000_0000,
  mapEnd: 0x7000_0000,
  /** Initial stack pointer; the stack grows down, demand-zero, up to 1 MiB. */
  stackTop: 0x7fff_f000,
  stackLimit: 0x7fef_f000,
} as const;

export interface KernelOptions {
  /** Timer quantum in mtime ticks (stimecmp = now + quantum at each switch). */
  quantum: number;
  /** Give each process its own ASID and flush only what RISC-V requires. */
  asid: boolean;
  /** Most processes alive at once. */
  maxProcs: number;
  /**
   * How fork copies the address space: "cow" shares every frame with a
   * reference count and write-protects the writable ones in parent and child
   * (a store copies the frame, or reuses it when no one else maps it), as
   * Linux does; "eager" copies every page at fork (the kernel before
   * copy-on-write, kept for comparison).
   */
  fork: ForkPolicy;
}

export const FORK_POLICIES = ["cow", "eager"] as const;
export type ForkPolicy = (typeof FORK_POLICIES)[number];

export const DEFAULT_KERNEL: KernelOptions = { quantum: 10_000, asid: false, maxProcs: 128, fork: "cow" };
