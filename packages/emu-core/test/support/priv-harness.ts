/**
 * A small guest harness for the privileged-architecture tests: programs are
 * written with the assembler and start in M-mode with two logging trap
 * handlers installed (mtvec and stvec). Each handler appends one record per
 * trap to a log in RAM, then resumes the guest:
 *
 * - exceptions resume at `s10` when it is non-zero (cleared on use), else
 *   after the faulting instruction;
 * - interrupts resume where they struck, after clearing the interrupt's
 *   enable bit (mie / sie), so every source is taken exactly once.
 *
 * Any trap taken with a7 = EXIT_CALL powers the machine off instead; from S
 * the S handler forwards it to M with another ecall. `exit(a)` emits that.
 * Registers t5, t6, s10 and s11 belong to the handlers.
 */
import { expect } from "vitest";
import { Assembler } from "../../src/asm/index.ts";
import type { Image } from "../../src/image.ts";
import { Machine, type MachineConfig, type RunResult } from "../../src/machine.ts";

export const RAM = 0x8000_0000;
export const TEST_DEVICE = 0x0010_0000;
export const CLINT_MSIP = 0x0200_0000;
export const CLINT_MTIMECMP = 0x0200_4000;
export const CLINT_MTIME = 0x0200_bff8;
/** Where the handlers write their records (physical, inside the first megapage of RAM). */
export const LOG = 0x8030_0000;
/** a7 value that turns any trap into a power-off. */
export const EXIT_CALL = 0x5d;
const RECORD_WORDS = 5;

/** Register numbers the tests look at. */
export const REG = {
  ra: 1,
  sp: 2,
  t0: 5,
  t1: 6,
  t2: 7,
  a0: 10,
  a1: 11,
  a2: 12,
  a3: 13,
  a4: 14,
  a5: 15,
  a6: 16,
  a7: 17,
  s2: 18,
  s3: 19,
  s4: 20,
  s10: 26,
};

export const MODE = { U: 0, S: 1, M: 3 } as const;

export interface TrapRecord {
  /** The mode whose handler took the trap: "M" (mtvec) or "S" (stvec). */
  to: "M" | "S";
  interrupt: boolean;
  /** Cause without the interrupt bit. */
  cause: number;
  epc: number;
  tval: number;
  /** mstatus (M handler) or sstatus (S handler) as the handler saw it. */
  status: number;
}

export interface Guest {
  m: Machine;
  r: RunResult;
  image: Image;
  log: TrapRecord[];
  sym(name: string): number;
  /** Register value, unsigned. */
  reg(n: number): number;
}

export interface GuestOptions {
  config?: Partial<MachineConfig>;
  /** Instruction budget (default 100 000). */
  budget?: number;
  /** Runs after the image is loaded, before the run (page tables, pending bits...). */
  setup?: (m: Machine, image: Image) => void;
  /** Do not append the final exit call (the body ends the run itself). */
  noExit?: boolean;
  /** Reason the run must end with (default "exit"; null: do not check). */
  expectReason?: RunResult["reason"] | null;
}

/** Power off through the M handler (works from any mode as long as the trap reaches a handler). */
export function exit(a: Assembler): Assembler {
  return a.li("a7", EXIT_CALL).ecall();
}

/** Leave M-mode for `mode` at `label` with mret (clobbers t0). */
export function enter(a: Assembler, mode: 0 | 1 | 3, label: string): Assembler {
  a.li("t0", 3 << 11).csrc("mstatus", "t0");
  if (mode !== 0) a.li("t0", mode << 11).csrs("mstatus", "t0");
  return a.la("t0", label).csrw("mepc", "t0").mret();
}

/** Emit the boot code and both handlers; `main` follows. */
function prologue(a: Assembler): void {
  a.label("_start");
  a.la("t0", "__mtrap").csrw("mtvec", "t0");
  a.la("t0", "__strap").csrw("stvec", "t0");
  a.li("s11", LOG).li("s10", 0);
  a.j("main");

  handler(a, "m");
  handler(a, "s");
  a.label("main");
}

function handler(a: Assembler, x: "m" | "s"): void {
  const csr = (n: string) => `${x}${n}` as "mcause";
  const p = `__${x}trap`;
  a.align(4).label(p);
  a.li("t6", EXIT_CALL).bne("a7", "t6", `${p}_log`);
  if (x === "m") a.li("t6", TEST_DEVICE).li("t5", 0x5555).sw("t5", 0, "t6").j(0);
  else a.ecall().j(0);
  a.label(`${p}_log`);
  a.li("t6", x === "m" ? 3 : 1).sw("t6", 0, "s11");
  a.csrr("t6", csr("cause")).sw("t6", 4, "s11");
  a.csrr("t6", csr("epc")).sw("t6", 8, "s11");
  a.csrr("t6", csr("tval")).sw("t6", 12, "s11");
  a.csrr("t6", csr("status")).sw("t6", 16, "s11");
  a.addi("s11", "s11", RECORD_WORDS * 4);
  a.csrr("t6", csr("cause")).bltz("t6", `${p}_irq`);
  a.beqz("s10", `${p}_skip`);
  a.csrw(csr("epc"), "s10").li("s10", 0);
  a.insn(`${x}ret`);
  a.label(`${p}_skip`);
  a.csrr("t6", csr("epc")).addi("t6", "t6", 4).csrw(csr("epc"), "t6");
  a.insn(`${x}ret`);
  a.label(`${p}_irq`);
  a.andi("t6", "t6", 31)
    .li("t5", 1)
    .sll("t5", "t5", "t6")
    .csrc(x === "m" ? "mie" : "sie", "t5");
  a.insn(`${x}ret`);
}

/** Assemble `body` after the harness prologue. */
export function assemble(body: (a: Assembler) => void, opts: { noExit?: boolean } = {}): Image {
  const a = new Assembler({ text: RAM });
  prologue(a);
  body(a);
  if (!opts.noExit) exit(a);
  return a.assemble();
}

/** Assemble, load and run a guest; checks the run ends as expected. */
export function runGuest(body: (a: Assembler) => void, opts: GuestOptions = {}): Guest {
  const image = assemble(body, opts);
  const m = new Machine(opts.config ?? { ramSize: 8 * 1024 * 1024 });
  m.load(image);
  opts.setup?.(m, image);
  const r = m.run({ maxInstructions: opts.budget ?? 100_000 });
  const expected = opts.expectReason === undefined ? "exit" : opts.expectReason;
  if (expected !== null) expect(r.reason).toBe(expected);
  return {
    m,
    r,
    image,
    log: readLog(m),
    sym: (name) => {
      const v = image.symbols[name];
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return v;
    },
    reg: (n) => m.hart.x[n] >>> 0,
  };
}

/** The records the handlers wrote so far. */
export function readLog(m: Machine): TrapRecord[] {
  const end = m.hart.x[27] >>> 0;
  const out: TrapRecord[] = [];
  const word = (pa: number) => m.hart.readPhys(pa, 4) ?? 0;
  for (let pa = LOG; pa < end; pa += RECORD_WORDS * 4) {
    const cause = word(pa + 4);
    out.push({
      to: word(pa) === 3 ? "M" : "S",
      interrupt: cause >>> 31 === 1,
      cause: cause & 0x7fff_ffff,
      epc: word(pa + 8),
      tval: word(pa + 12),
      status: word(pa + 16),
    });
  }
  return out;
}

/** MPP field of an mstatus value. */
export const mppOf = (mstatus: number): number => (mstatus >>> 11) & 3;

// ---------------------------------------------------------------- Sv32

export const PTE_V = 1;
export const PTE_R = 2;
export const PTE_W = 4;
export const PTE_X = 8;
export const PTE_U = 16;
export const PTE_A = 64;
export const PTE_D = 128;

/** Root table and second-level tables live here (physical, outside the guest image). */
export const PT_ROOT = 0x8040_0000;

/**
 * Builds Sv32 page tables in guest RAM from TypeScript (before the run).
 * `satp` is the value the guest writes to turn translation on.
 */
export class PageTables {
  private next = PT_ROOT + 0x1000;
  private readonly l0 = new Map<number, number>();
  constructor(private readonly m: Machine) {}

  get satp(): number {
    return (0x8000_0000 | (PT_ROOT >>> 12)) >>> 0;
  }

  /** Map a 4 MiB megapage. */
  mega(va: number, pa: number, flags: number): this {
    this.m.hart.writePhys(PT_ROOT + (va >>> 22) * 4, 4, (((pa >>> 12) << 10) | flags) >>> 0);
    return this;
  }

  /** Map one 4 KiB page. */
  page(va: number, pa: number, flags: number): this {
    const vpn1 = va >>> 22;
    let table = this.l0.get(vpn1);
    if (table === undefined) {
      table = this.next;
      this.next += 0x1000;
      this.l0.set(vpn1, table);
      this.m.hart.writePhys(PT_ROOT + vpn1 * 4, 4, ((table >>> 12) << 10) | PTE_V);
    }
    this.m.hart.writePhys(table + ((va >>> 12) & 0x3ff) * 4, 4, (((pa >>> 12) << 10) | flags) >>> 0);
    return this;
  }
}

// ---------------------------------------------------------------- encodings (written out independently of the ISA table)

export const WORD = {
  ecall: 0x0000_0073,
  ebreak: 0x0010_0073,
  sret: 0x1020_0073,
  mret: 0x3020_0073,
  wfi: 0x1050_0073,
  sfenceAll: 0x1200_0073,
} as const;

/** A Zicsr instruction word: funct3 1..3 = csrrw/csrrs/csrrc, 5..7 the immediate forms. */
export function csrWord(funct3: number, rd: number, csr: number, rs1OrUimm: number): number {
  return ((csr << 20) | (rs1OrUimm << 15) | (funct3 << 12) | (rd << 7) | 0x73) >>> 0;
}
