/**
 * Test support for the Sv32 / TLB tests: a page-table builder that writes
 * PTEs into guest RAM with hart.writePhys, a one-instruction driver that runs
 * real instructions in M-mode (with MPRV, data accesses are translated while
 * fetches are not, so the TLB sees only the accesses a test makes), and a
 * boot stub that enters U-mode through mret and powers off on the first trap.
 */
import { Assembler, assembleOne } from "../../src/asm/index.ts";
import { CSR, MSTATUS } from "../../src/csr.ts";
import { csrWrite } from "../../src/csrfile.ts";
import type { Hart } from "../../src/hart.ts";
import { Machine, type MachineConfig } from "../../src/machine.ts";
import { PTE, type TlbConfig } from "../../src/tlb.ts";

export { PTE };
export const RAM = 0x8000_0000;
export const PAGE = 4096;
export const MEGA = 0x40_0000;
export const TEST_DEVICE = 0x0010_0000;
/** Every leaf flag combination the tests use often. */
export const V = PTE.V;
export const R = PTE.R;
export const W = PTE.W;
export const X = PTE.X;
export const U = PTE.U;
export const G = PTE.G;
export const A = PTE.A;
export const D = PTE.D;

/** ABI register names to numbers. */
export const REG: Readonly<Record<string, number>> = Object.fromEntries(
  [
    "zero",
    "ra",
    "sp",
    "gp",
    "tp",
    "t0",
    "t1",
    "t2",
    "s0",
    "s1",
    "a0",
    "a1",
    "a2",
    "a3",
    "a4",
    "a5",
    "a6",
    "a7",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
    "s10",
    "s11",
    "t3",
    "t4",
    "t5",
    "t6",
  ].map((n, i) => [n, i]),
);

/** A Sv32 PTE word for a physical address and flags. */
export function pte(pa: number, flags: number): number {
  const unsigned = pa < 0 ? pa + 2 ** 32 : pa; // accept int32-wrapped addresses too
  return (Math.floor(unsigned / PAGE) * 1024 + flags) >>> 0;
}

/** satp for Sv32 with a root table and an ASID. */
export function satpFor(rootPa: number, asid = 0): number {
  return (0x8000_0000 | (asid << 22) | Math.floor(rootPa / PAGE)) >>> 0;
}

export function newMachine(tlb?: MachineConfig["tlb"], ramSize = 1 << 20): Machine {
  return new Machine(tlb === undefined ? { ramSize } : { ramSize, tlb });
}

export function tlbConfig(entries: number, ways: number, extra: Partial<TlbConfig> = {}): TlbConfig {
  return { entries, ways, replacement: "lru", asidTags: true, seed: 1, ...extra };
}

/**
 * Two-level Sv32 tables in guest RAM. Physical pages for tables come from a
 * bump allocator starting at `firstFree`; every write goes through
 * hart.writePhys, as a kernel's stores would land in RAM.
 */
export class PageTables {
  private next: number;
  readonly root: number;

  constructor(
    readonly hart: Hart,
    firstFree: number,
  ) {
    this.next = firstFree;
    this.root = this.alloc();
  }

  /** A zeroed physical page. */
  alloc(): number {
    const pa = this.next;
    this.next += PAGE;
    for (let o = 0; o < PAGE; o += 4) this.hart.writePhys(pa + o, 4, 0);
    return pa;
  }

  read(pa: number): number {
    const v = this.hart.readPhys(pa, 4);
    if (v === undefined) throw new Error(`nothing at 0x${pa.toString(16)}`);
    return v >>> 0;
  }

  write(pa: number, value: number): void {
    if (!this.hart.writePhys(pa, 4, value >>> 0)) throw new Error(`nothing at 0x${pa.toString(16)}`);
  }

  /** Address of the level-1 PTE for va. */
  l1(va: number): number {
    return this.root + (va >>> 22) * 4;
  }

  /** Address of the level-0 PTE for va (creates the level-0 table when absent). */
  l0(va: number): number {
    const e = this.read(this.l1(va));
    let table: number;
    if ((e & V) === 0) {
      table = this.alloc();
      this.write(this.l1(va), pte(table, V));
    } else {
      if ((e & (R | X)) !== 0) throw new Error("va is in a megapage");
      table = (e >>> 10) * PAGE;
    }
    return table + ((va >>> 12) & 0x3ff) * 4;
  }

  /** Map a 4 KiB page; returns the PTE address. */
  map(va: number, pa: number, flags: number): number {
    const at = this.l0(va);
    this.write(at, pte(pa, flags));
    return at;
  }

  /** Map a 4 MiB megapage (level-1 leaf); returns the PTE address. */
  mapMega(va: number, pa: number, flags: number): number {
    const at = this.l1(va);
    this.write(at, pte(pa, flags));
    return at;
  }

  satp(asid = 0): number {
    return satpFor(this.root, asid);
  }
}

export interface StepResult {
  /** Exception cause taken by this instruction, or -1. */
  cause: number;
}

/**
 * Runs single real instructions from a physical code page in M-mode. With
 * MPRV set, loads and stores are translated with MPP's privilege while the
 * fetches are not, so TLB counters see only the data accesses.
 */
export class Driver {
  constructor(
    readonly m: Machine,
    readonly codePa: number,
  ) {}

  get hart(): Hart {
    return this.m.hart;
  }

  /** Run one instruction (assembler text) with some registers set first. */
  exec(text: string, regs: Record<string, number> = {}): StepResult {
    const h = this.hart;
    if (h.priv !== 3) h.setPriv(3);
    h.writePhys(this.codePa, 4, assembleOne(text, this.codePa));
    for (const [name, v] of Object.entries(regs)) h.x[REG[name]] = v | 0;
    const before = exceptionsTaken(h);
    h.pc = this.codePa;
    h.run(1);
    return { cause: exceptionsTaken(h) > before ? h.mcause : -1 };
  }

  /** lw a0, 0(a1) with a1 = va; returns the value or throws on a trap. */
  load(va: number): number {
    const r = this.exec("lw a0, 0(a1)", { a1: va });
    if (r.cause >= 0) throw new Error(`load 0x${va.toString(16)} trapped, cause ${r.cause}`);
    return this.hart.x[REG.a0] >>> 0;
  }

  store(va: number, value: number): void {
    const r = this.exec("sw a0, 0(a1)", { a0: value, a1: va });
    if (r.cause >= 0) throw new Error(`store 0x${va.toString(16)} trapped, cause ${r.cause}`);
  }

  setSatp(value: number): void {
    const r = this.exec("csrw satp, a0", { a0: value });
    if (r.cause >= 0) throw new Error("csrw satp trapped");
  }

  /** M-mode data accesses as if from `mpp` (MPRV=1), with SUM/MXR. */
  mprv(mpp: 0 | 1 | 3, opts: { sum?: boolean; mxr?: boolean } = {}): void {
    const h = this.hart;
    let s = h.mstatus & ~(MSTATUS.MPP | MSTATUS.SUM | MSTATUS.MXR);
    s |= MSTATUS.MPRV | (mpp << MSTATUS.MPP_SHIFT);
    if (opts.sum) s |= MSTATUS.SUM;
    if (opts.mxr) s |= MSTATUS.MXR;
    csrWrite(h, CSR.mstatus, s);
  }
}

export function exceptionsTaken(h: Hart): number {
  let n = 0;
  for (const c of h.traps.exceptions) n += c;
  return n;
}

/**
 * A machine with a boot stub at the RAM base: it loads satp, sets mepc to
 * `entry`, mrets into U-mode (or S-mode), and its M-mode trap handler powers
 * off, passing when the trap was an ecall and failing with code
 * mcause + 1 otherwise. Page tables are built from TypeScript before run().
 */
export interface BootOptions {
  satp: number;
  entry: number;
  mode?: 0 | 1;
  /** Physical address of the boot stub (default: RAM base). */
  at?: number;
}

export function bootStub(m: Machine, o: BootOptions): void {
  const a = new Assembler({ text: o.at ?? RAM });
  a.label("_start");
  a.la("t0", "mtrap").csrw("mtvec", "t0");
  a.li("t0", o.satp | 0).csrw("satp", "t0");
  a.sfence_vma();
  a.li("t0", o.entry | 0).csrw("mepc", "t0");
  a.li("t0", MSTATUS.MPP).csrc("mstatus", "t0");
  if (o.mode === 1) a.li("t0", 1 << MSTATUS.MPP_SHIFT).csrs("mstatus", "t0");
  a.mret();
  a.align(4);
  a.label("mtrap");
  a.csrr("t0", "mcause").li("t1", o.mode === 1 ? 9 : 8);
  a.li("t2", TEST_DEVICE);
  a.bne("t0", "t1", "fail");
  a.li("t1", 0x5555).sw("t1", 0, "t2");
  a.label("fail");
  a.addi("t0", "t0", 1).slli("t0", "t0", 16).li("t1", 0x3333).or("t1", "t1", "t0").sw("t1", 0, "t2");
  a.j("fail");
  m.load(a.assemble());
}

/** Load assembled code at a physical address without changing pc. */
export function loadCodeAt(m: Machine, pa: number, build: (a: Assembler) => void): void {
  const pc = m.hart.pc;
  const a = new Assembler({ text: pa });
  build(a);
  m.load(a.assemble());
  m.hart.pc = pc;
}
