/**
 * A rig for H-extension tests: a machine with the extension, helpers that
 * build G-stage (Sv32x4) and VS-stage (Sv32) tables directly in RAM, and a
 * TypeScript M-mode handler that records every trap reaching M and stops.
 */
import { Assembler } from "../../src/asm/index.ts";
import type { CsrName } from "../../src/csr.ts";
import type { Hart, MachineTrapHandler } from "../../src/hart.ts";
import { Machine, type MachineConfig } from "../../src/machine.ts";
import { PTE } from "../../src/tlb.ts";

export const LEAF = PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D;
/** Machine address of the G-stage root (16 KiB aligned); level-0 tables follow it. */
const G_ROOT = 0x8010_0000;

export interface MTrap {
  cause: number;
  tval: number;
  interrupt: boolean;
  virt: number;
  priv: number;
  mtval2: number;
  gva: number;
  pc: number;
}

export class HRig implements MachineTrapHandler {
  readonly m: Machine;
  readonly h: Hart;
  readonly traps: MTrap[] = [];
  private next = 0x8014_0000;
  /** Guest-physical page -> machine page (the G-stage map as the tests built it). */
  private readonly gmapped = new Map<number, number>();

  constructor(config: Partial<MachineConfig> = {}) {
    this.m = new Machine({ hExtension: true, ramSize: 16 * 2 ** 20, ...config });
    this.h = this.m.hart;
    this.m.setTrapHandler(this);
  }

  trap(h: Hart, cause: number, tval: number, interrupt: boolean): void {
    const hx = h.hx;
    this.traps.push({
      cause,
      tval,
      interrupt,
      virt: h.virt,
      priv: h.priv,
      mtval2: hx?.mtval2 ?? 0,
      gva: hx?.gva ?? 0,
      pc: h.pc,
    });
    h.requestStop("stop");
  }

  private page(): number {
    const p = this.next;
    this.next += 4096;
    return p;
  }

  /** Map guest-physical page `gpa` to machine page `ma` in the G-stage (U set, as the G-stage requires). */
  gmap(gpa: number, ma: number, flags = LEAF | PTE.U): void {
    const rootAt = G_ROOT + (Math.floor(gpa / 2 ** 22) & 0xfff) * 4;
    let l0 = this.h.readPhys(rootAt, 4) ?? 0;
    if ((l0 & PTE.V) === 0) {
      l0 = ((this.page() / 4096) << 10) | PTE.V;
      this.h.writePhys(rootAt, 4, l0 >>> 0);
    }
    const at = (l0 >>> 10) * 4096 + ((gpa >>> 12) & 0x3ff) * 4;
    this.h.writePhys(at, 4, (((ma / 4096) << 10) | flags) >>> 0);
    this.gmapped.set(Math.floor(gpa / 4096), Math.floor(ma / 4096));
  }

  /** The machine address of a guest-physical address mapped with gmap. */
  ma(gpa: number): number {
    const page = this.gmapped.get(Math.floor(gpa / 4096));
    if (page === undefined) throw new Error(`gpa 0x${gpa.toString(16)} is not mapped`);
    return page * 4096 + (gpa & 0xfff);
  }

  /** Map va -> gpa in the VS table rooted at guest-physical `root`, level-0 table at `l0` (both gmapped). */
  vmap(root: number, l0: number, va: number, gpa: number, flags = LEAF): void {
    this.h.writePhys(this.ma(root + (va >>> 22) * 4), 4, (((l0 / 4096) << 10) | PTE.V) >>> 0);
    this.h.writePhys(this.ma(l0 + ((va >>> 12) & 0x3ff) * 4), 4, (((gpa / 4096) << 10) | flags) >>> 0);
  }

  /** hgatp for the G root with a VMID. */
  hgatp(vmid = 1): number {
    return (0x8000_0000 | (vmid << 22) | (G_ROOT / 4096)) >>> 0;
  }

  /** Copy an assembled program to machine address `ma`. */
  place(a: Assembler, ma: number): void {
    for (const s of a.assemble().sections) this.h.loadBytes(ma + (s.addr - a.assemble().entry), s.bytes);
  }
}

/** Code at 0x8000_0000 (M, bare) that enters the guest at `entry` in VS (or VU) with the CSRs given. */
export function enterGuest(csrs: Partial<Record<CsrName, number>>, entry: number, vu = false): Assembler {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  for (const [name, v] of Object.entries(csrs)) a.li("t0", v as number).csrw(name as CsrName, "t0");
  a.li("t0", entry).csrw("mepc", "t0");
  // MPP = S (or U), MPV = 1 (mstatush bit 7)
  a.li("t0", 3 << 11).csrc("mstatus", "t0");
  if (!vu) a.li("t0", 1 << 11).csrs("mstatus", "t0");
  a.li("t0", 1 << 7).csrs("mstatush", "t0");
  a.mret();
  return a;
}
