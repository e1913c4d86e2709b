/**
 * A kit for hand-written guests that manage several address spaces the way a
 * kernel does: they build Sv32 tables at run time in guest RAM (so the
 * stores that fill, edit, tear down and recycle tables are real guest stores
 * that a strategy may have to trap), switch satp between them, edit tables
 * of inactive address spaces, and sfence.vma as the privileged spec 1.12
 * requires (never relying on a stale translation, which the architecture
 * allows but does not promise). Values are read through translations and
 * printed as `name=xxxxxxxx`, so the native run states what the guest saw.
 *
 * Every address space maps the first 16 MiB of RAM (image, tables, data
 * pages) by identity megapages (S-mode, RWX) and the UART and test device by
 * megapages, so the code runs and can edit any table under any root.
 */
import type { Assembler, Image, Reg } from "@shadowlab/emu-core";
import { emitPowerOff, guestImage, TEST_DEVICE, UART } from "./guests.ts";

export const V = 1;
export const R = 2;
export const W = 4;
export const X = 8;
export const A = 0x40;
export const D = 0x80;
/** A kernel leaf: read, write, execute, accessed, dirty (so no walker writes A/D during the tests). */
export const RWX_AD = V | R | W | X | A | D;
export const RW_AD = V | R | W | A | D;

/** Guest-physical pages the programs use for tables and data (past the image, inside the identity map). */
export const PAGES_BASE = 0x8010_0000;
/** The n-th free page. */
export const pg = (n: number): number => PAGES_BASE + n * 4096;
/** 4 MiB-aligned RAM regions for megapage tests (inside the identity map too). */
export const MEGA_PA = [0x8040_0000, 0x8080_0000, 0x80c0_0000] as const;

/** Test virtual addresses, outside the identity map: a 4 KiB-page region and a megapage region. */
export const VA = 0x4000_0000;
export const VA2 = 0x4000_1000;
export const VMEGA = 0x4400_0000;

/** A leaf PTE for physical address `pa`. */
export const leaf = (pa: number, flags = RW_AD): number => (((pa >>> 12) << 10) | flags) >>> 0;
/** A pointer PTE to the table at `pa`. */
export const ptr = (pa: number): number => (((pa >>> 12) << 10) | V) >>> 0;
/** The root-table entry address for `va` in the root at `root`. */
export const rootSlot = (root: number, va: number): number => root + (va >>> 22) * 4;
/** The level-0 entry address for `va` in the table at `l0`. */
export const l0Slot = (l0: number, va: number): number => l0 + ((va >>> 12) & 0x3ff) * 4;
export const satpOf = (root: number, asid: number): number =>
  (0x8000_0000 | (asid << 22) | (root >>> 12)) >>> 0;
export const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");

/** The program being written; registers s0-s11 are free for the test's own use. */
export class PtProgram {
  private n = 0;
  constructor(readonly a: Assembler) {}

  private label(stem: string): string {
    return `${stem}_${this.n++}`;
  }

  /** mem32[addr] = value (clobbers t0, t1). */
  store(addr: number, value: number): this {
    this.a
      .li("t0", addr >>> 0)
      .li("t1", value >>> 0)
      .sw("t1", 0, "t0");
    return this;
  }

  /** Zero the 4 KiB page at `pa` with word stores (clobbers t0, t1). */
  zeroPage(pa: number): this {
    const loop = this.label("zero");
    this.a.li("t0", pa >>> 0).li("t1", (pa + 4096) >>> 0);
    this.a.label(loop).sw("zero", 0, "t0").addi("t0", "t0", 4).bne("t0", "t1", loop);
    return this;
  }

  /** A root table at `root` that maps the identity region, the UART and the test device. */
  kernelRoot(root: number): this {
    this.zeroPage(root);
    for (let i = 0; i < 4; i++)
      this.store(rootSlot(root, 0x8000_0000 + i * 0x40_0000), leaf(0x8000_0000 + i * 0x40_0000, RWX_AD));
    this.store(rootSlot(root, UART), leaf(UART & ~0x3f_ffff, RW_AD));
    this.store(rootSlot(root, TEST_DEVICE), leaf(TEST_DEVICE & ~0x3f_ffff, RW_AD));
    return this;
  }

  /** Write satp (clobbers t0). */
  satp(root: number, asid: number): this {
    this.a.li("t0", satpOf(root, asid)).csrw("satp", "t0");
    return this;
  }

  /** sfence.vma with rs1 = `va` (x0 when undefined) and rs2 = `asid` (x0 when undefined); clobbers t2, t3. */
  sfence(va?: number, asid?: number): this {
    if (va !== undefined) this.a.li("t2", va >>> 0);
    if (asid !== undefined) this.a.li("t3", asid);
    this.a.sfence_vma(va === undefined ? "zero" : "t2", asid === undefined ? "zero" : "t3");
    return this;
  }

  /**
   * Switch to an address space. With ASIDs the switch itself needs no fence;
   * without (every space is ASID 0) the old translations must go, as the
   * guest kernel does: satp, then sfence.vma x0, x0.
   */
  switchTo(root: number, asid: number): this {
    this.satp(root, asid);
    if (asid === 0) this.sfence();
    return this;
  }

  /** Print `name=` and the word at virtual address `va` (clobbers a0, t0-t3, ra). */
  show(name: string, va: number): this {
    this.a.li("t0", va >>> 0).lw("a0", 0, "t0");
    return this.showReg(name, "a0");
  }

  /** Print `name=` and the value of `reg` in hex (clobbers a0, t0-t3, ra). */
  showReg(name: string, reg: Reg): this {
    if (reg !== "a0") this.a.mv("a0", reg);
    this.print(`${name}=`);
    this.a.call("st_puthex");
    return this;
  }

  /** Print a string (clobbers t0, t1). */
  print(s: string): this {
    this.a.li("t0", UART);
    for (const c of Buffer.from(s, "utf8")) this.a.li("t1", c).sb("t1", 0, "t0");
    return this;
  }

  /** Emit a loop: `body` runs `count` times with the counter in `reg` (count down to 1). */
  repeat(reg: Reg, count: number, body: () => void): this {
    const loop = this.label("repeat");
    this.a.li(reg, count).label(loop);
    body();
    this.a.addi(reg, reg, -1).bnez(reg, loop);
    return this;
  }

  powerOff(code = 0): this {
    emitPowerOff(this.a, code);
    return this;
  }
}

/** The subroutine st_puthex: print a0 as 8 hex digits and a newline (clobbers t0-t3). */
function emitPutHex(a: Assembler): void {
  a.label("st_puthex").li("t0", UART).li("t3", 28);
  a.label("st_puthex_loop").srl("t1", "a0", "t3").andi("t1", "t1", 15).addi("t2", "t1", -10);
  a.bltz("t2", "st_puthex_digit").addi("t1", "t1", 87).j("st_puthex_out");
  a.label("st_puthex_digit").addi("t1", "t1", 48);
  a.label("st_puthex_out").sb("t1", 0, "t0").addi("t3", "t3", -4).bgez("t3", "st_puthex_loop");
  a.li("t1", 10).sb("t1", 0, "t0").ret();
}

/** A guest image whose S-mode body is written with a PtProgram; it powers off (pass) after the body. */
export function ptGuest(body: (p: PtProgram) => void): Image {
  return guestImage((a) => {
    const p = new PtProgram(a);
    body(p);
    p.powerOff();
    emitPutHex(a);
  });
}
