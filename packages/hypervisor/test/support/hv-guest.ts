/**
 * A small guest "kernel kit" for the hypervisor's differential tests. A test
 * writes its S-mode body with the emu-core assembler through a GuestBuilder,
 * which adds:
 *
 * - a console library: `g.show("name", reg)` prints `name=xxxxxxxx\n` (hex),
 *   `g.print("text")` prints a string; both clobber a0, a1, t0-t3, t5, t6, ra
 *   (test code keeps its state in s0-s11, a2-a7 and t4);
 * - a reporting trap handler (`report_trap`, installed in stvec by the
 *   prologue) that prints `trap`, scause, sepc, stval and sstatus, counts the
 *   trap, and resumes at the continuation stored with `g.onTrapGoto(label)`
 *   (one-shot, in S-mode), an ecall from U at the `back` label of
 *   `g.enterUser`, or else after the trapping instruction (sret); it
 *   saves and restores what it clobbers in a save area addressed by gp, which
 *   no test code may change, and powers off with RUNAWAY_EXIT after 40 traps;
 * - Sv32 tables built at image-build time (Sv32Tables) and placed as .data at
 *   PT_BASE, the kernel identity-mapped by a 4 MiB megapage, the UART and the
 *   test device by 4 KiB pages.
 *
 * Every image boots natively through the boot stub of guests.ts and starts at
 * `supervisor_entry` under the hypervisor.
 */
import { Assembler, type Image, PTE, type Reg } from "@shadowlab/emu-core";
import { bootStub, TEST_DEVICE, UART } from "./guests.ts";

export { PTE };
export const KERNEL_BASE = 0x8000_0000;
/** Physical address of the `user` code of a GuestProgram (the .rodata section). */
export const USER_PA = 0x8008_0000;
/** Where paging tests map user code (USER_PA + USER_ALIAS, a U page outside the kernel megapage). */
export const USER_VA = 0x4008_0000;
const USER_ALIAS = (USER_VA - USER_PA) >>> 0;
/** Physical address of the image's page tables (the .data section). */
export const PT_BASE = 0x8010_0000;
/** Free physical pages for tests (zero on every run), inside the kernel megapage. */
export const FREE_BASE = 0x8020_0000;
/** Exit code when a guest takes more traps than any test expects (a fault loop). */
export const RUNAWAY_EXIT = 0x7e;
const MAX_TRAPS = 40;

export const SSTATUS = { SIE: 1 << 1, SPIE: 1 << 5, SPP: 1 << 8, SUM: 1 << 18, MXR: 1 << 19 } as const;
export const RWXAD = PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D;
export const RWAD = PTE.V | PTE.R | PTE.W | PTE.A | PTE.D;

/** Save area layout (words, addressed by gp). */
const SAVE = {
  ra: 0,
  a0: 4,
  a1: 8,
  t0: 12,
  t1: 16,
  t2: 20,
  t3: 24,
  t5: 28,
  t6: 32,
  count: 64,
  next: 68,
  uret: 72,
};

/** Sv32 tables composed in TypeScript and loaded with the image at PT_BASE. */
export class Sv32Tables {
  private readonly words = new Map<number, number>();
  private tables = 1;

  constructor(readonly base = PT_BASE) {}

  /** satp value for these tables (Sv32 mode, given ASID). */
  satp(asid = 0): number {
    return (0x8000_0000 | (asid << 22) | (this.base >>> 12)) >>> 0;
  }

  /** Physical address of the root entry for va. */
  rootPteAddr(va: number): number {
    return this.base + (va >>> 22) * 4;
  }

  /** Physical address of the level-0 table for va (created on demand). */
  private leafTable(va: number): number {
    const at = this.rootPteAddr(va);
    const old = this.words.get(at);
    if (old !== undefined) {
      if ((old & (PTE.R | PTE.W | PTE.X)) !== 0) throw new Error("va is inside a megapage");
      return (old >>> 10) * 4096;
    }
    const table = this.base + 0x1000 * this.tables++;
    this.words.set(at, ((table >>> 12) << 10) | PTE.V);
    return table;
  }

  /** Physical address of the 4 KiB leaf PTE for va. */
  pteAddr(va: number): number {
    return this.leafTable(va) + ((va >>> 12) & 0x3ff) * 4;
  }

  /** Map a 4 KiB page. */
  map(va: number, pa: number, flags: number): this {
    this.words.set(this.pteAddr(va), (((pa >>> 12) << 10) | flags) >>> 0);
    return this;
  }

  /** Map a 4 MiB megapage (va and pa 4 MiB aligned unless testing misalignment). */
  mega(va: number, pa: number, flags: number): this {
    this.words.set(this.rootPteAddr(va), (((pa >>> 12) << 10) | flags) >>> 0);
    return this;
  }

  /** Write a raw PTE word at a table address. */
  raw(addr: number, word: number): this {
    this.words.set(addr, word >>> 0);
    return this;
  }

  /** The kernel's own mappings: RAM's first 4 MiB as one RWX megapage, the UART and the test device. */
  kernel(): this {
    this.mega(KERNEL_BASE, KERNEL_BASE, RWXAD);
    this.map(UART, UART, RWAD);
    this.map(TEST_DEVICE, TEST_DEVICE, RWAD);
    return this;
  }

  emit(a: Assembler): void {
    const end = this.base + 0x1000 * this.tables;
    a.section(".data");
    for (let at = this.base; at < end; at += 4) a.word(this.words.get(at) ?? 0);
    a.section(".text");
  }
}

export class GuestBuilder {
  readonly a: Assembler;
  private readonly strings = new Map<string, string>();
  private n = 0;

  constructor(a: Assembler) {
    this.a = a;
  }

  /** A fresh label name. */
  fresh(prefix = "l"): string {
    return `${prefix}_${this.n++}`;
  }

  private str(text: string): string {
    let label = this.strings.get(text);
    if (!label) {
      label = `str_${this.strings.size}`;
      this.strings.set(text, label);
    }
    return label;
  }

  /** Print `name=<reg in 8 hex digits>\n`. */
  show(name: string, reg: Reg): this {
    if (reg !== "a0") this.a.mv("a0", reg);
    this.a.la("a1", this.str(name)).call("lib_show");
    return this;
  }

  /** Print `name=<CSR in hex>\n`. */
  showCsr(name: string, csr: Parameters<Assembler["csrr"]>[1]): this {
    this.a.csrr("a0", csr);
    return this.show(name, "a0");
  }

  /** Print a literal string. */
  print(text: string): this {
    this.a.la("a0", this.str(text)).call("lib_puts");
    return this;
  }

  /** The next trap resumes at `label` (in S-mode, with the handler's registers clobbered). */
  onTrapGoto(label: string): this {
    this.a.la("t0", label).sw("t0", SAVE.next, "gp");
    return this;
  }

  /** Load the number of traps the report handler has taken into `rd`. */
  trapCount(rd: Reg): this {
    this.a.lw(rd, SAVE.count, "gp");
    return this;
  }

  /** Power off with `code` (0 = pass). */
  exit(code = 0): this {
    const halt = this.fresh("halt");
    this.a
      .li("t0", TEST_DEVICE)
      .li("t1", code === 0 ? 0x5555 : ((code << 16) | 0x3333) >>> 0)
      .sw("t1", 0, "t0")
      .label(halt)
      .j(halt);
    return this;
  }

  /**
   * Leave S for U at `label` (sret with SPP = 0; SPIE as given). When `back` is given, the
   * next ecall from U (after being reported) resumes in S at `back`.
   */
  enterUser(label: string, back?: string, spie = false, alias = false): this {
    if (back) this.a.la("t0", back).sw("t0", SAVE.uret, "gp");
    this.a.li("t0", SSTATUS.SPP).csrc("sstatus", "t0");
    if (spie) this.a.li("t0", SSTATUS.SPIE).csrs("sstatus", "t0");
    this.a.la("t0", label);
    if (alias) this.a.li("t1", USER_ALIAS).add("t0", "t0", "t1");
    this.a.csrw("sepc", "t0").sret();
    return this;
  }

  /** Turn Sv32 translation on with `tables` (and flush). */
  pagingOn(tables: Sv32Tables, asid = 0): this {
    this.a.li("t0", tables.satp(asid)).csrw("satp", "t0").sfence_vma();
    return this;
  }

  /** The library, the report handler and the string pool (emitted after the body). */
  emitRuntime(): void {
    const a = this.a;
    a.align(4);
    a.asm(`
lib_puts:
    li   t0, ${UART}
lib_puts_loop:
    lbu  t1, 0(a0)
    beqz t1, lib_puts_done
    sb   t1, 0(t0)
    addi a0, a0, 1
    j    lib_puts_loop
lib_puts_done:
    ret
lib_puthex:
    li   t0, ${UART}
    li   t2, 28
lib_puthex_loop:
    srl  t1, a0, t2
    andi t1, t1, 15
    addi t1, t1, 48
    li   t3, 58
    blt  t1, t3, lib_puthex_digit
    addi t1, t1, 39
lib_puthex_digit:
    sb   t1, 0(t0)
    addi t2, t2, -4
    bgez t2, lib_puthex_loop
    ret
lib_show:
    mv   t6, ra
    mv   t5, a0
    mv   a0, a1
    call lib_puts
    li   t0, ${UART}
    li   t1, 61
    sb   t1, 0(t0)
    mv   a0, t5
    call lib_puthex
    li   t0, ${UART}
    li   t1, 10
    sb   t1, 0(t0)
    mv   ra, t6
    ret
`);
    a.align(4);
    a.label("report_trap");
    a.sw("ra", SAVE.ra, "gp").sw("a0", SAVE.a0, "gp").sw("a1", SAVE.a1, "gp");
    a.sw("t0", SAVE.t0, "gp").sw("t1", SAVE.t1, "gp").sw("t2", SAVE.t2, "gp").sw("t3", SAVE.t3, "gp");
    a.sw("t5", SAVE.t5, "gp").sw("t6", SAVE.t6, "gp");
    a.lw("t0", SAVE.count, "gp").addi("t0", "t0", 1).sw("t0", SAVE.count, "gp");
    a.li("t1", MAX_TRAPS).blt("t0", "t1", "report_trap_ok");
    this.exit(RUNAWAY_EXIT);
    a.label("report_trap_ok");
    this.print("trap\n");
    this.showCsr("scause", "scause").showCsr("sepc", "sepc").showCsr("stval", "stval");
    this.showCsr("sstatus", "sstatus");
    a.csrr("t0", "scause").li("t1", 8).bne("t0", "t1", "report_trap_not_ecall");
    a.lw("t0", SAVE.uret, "gp").beqz("t0", "report_trap_not_ecall");
    a.sw("zero", SAVE.uret, "gp").jr("t0");
    a.label("report_trap_not_ecall");
    a.lw("t0", SAVE.next, "gp").beqz("t0", "report_trap_skip");
    a.sw("zero", SAVE.next, "gp").jr("t0");
    a.label("report_trap_skip");
    a.csrr("t0", "sepc").addi("t0", "t0", 4).csrw("sepc", "t0");
    a.lw("ra", SAVE.ra, "gp").lw("a0", SAVE.a0, "gp").lw("a1", SAVE.a1, "gp");
    a.lw("t0", SAVE.t0, "gp").lw("t1", SAVE.t1, "gp").lw("t2", SAVE.t2, "gp").lw("t3", SAVE.t3, "gp");
    a.lw("t5", SAVE.t5, "gp").lw("t6", SAVE.t6, "gp");
    a.sret();
    a.align(4);
    a.label("save_area").space(128);
    for (const [text, label] of this.strings) a.label(label).asciz(text);
    a.align(4);
  }
}

export interface GuestProgram {
  /** S-mode code run at supervisor_entry after the prologue (gp, stvec = report_trap). Falls through to exit(0). */
  body(g: GuestBuilder): void;
  /** More code placed after the body's exit (handlers, user-mode code on their own pages). */
  code?(g: GuestBuilder): void;
  /** Code placed at USER_PA (map it at USER_VA and enter it with `enterUser(label, back, spie, true)`). */
  user?(g: GuestBuilder): void;
  /** Page tables to load at PT_BASE. */
  tables?: Sv32Tables;
}

/** Build a guest image from a GuestProgram. */
export function buildGuest(p: GuestProgram): Image {
  const a = new Assembler({ text: KERNEL_BASE, rodata: USER_PA, data: PT_BASE });
  const g = new GuestBuilder(a);
  bootStub(a);
  a.align(16);
  a.label("supervisor_entry");
  a.la("gp", "save_area").la("t0", "report_trap").csrw("stvec", "t0");
  p.body(g);
  g.exit(0);
  p.code?.(g);
  g.emitRuntime();
  if (p.user) {
    a.section(".rodata");
    p.user(g);
    a.section(".text");
  }
  p.tables?.emit(a);
  return a.assemble();
}
