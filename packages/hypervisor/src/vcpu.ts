/**
 * What the guest believes about its own hart: the supervisor-level state a
 * real S-mode would have. The guest runs in real U-mode; this object is the
 * truth about its pretend mode and CSRs, kept by trap-and-emulate.
 */
import { IRQ, MSTATUS, SSTATUS_WRITABLE } from "@shadowlab/emu-core";
import type { GuestView } from "./guest-walk.ts";

/** sstatus bits the guest can hold: those the hart's sstatus implements (emu-core csr.ts). */
export const VSSTATUS_WRITABLE = SSTATUS_WRITABLE;
/** Supervisor interrupts the guest sees (the boot stub delegates exactly these). */
export const VS_INTERRUPTS = (1 << IRQ.SSI) | (1 << IRQ.STI) | (1 << IRQ.SEI);

export class VCpu {
  /** Pretend privilege: 1 = S, 0 = U. */
  mode: 0 | 1 = 1;
  sstatus = 0;
  stvec = 0;
  sscratch = 0;
  sepc = 0;
  scause = 0;
  stval = 0;
  satp = 0;
  sie = 0;
  /** Software-set pending bits (SSIP, SEIP); STIP comes from stimecmp (Sstc). */
  sipSw = 0;
  stimecmp = Number.MAX_SAFE_INTEGER;
  scounteren = 0;
  senvcfg = 0;
  /** ASIDLEN of the guest's satp: the monitor sets it to what the machine implements (transparency). */
  asidBits = 9;

  get sum(): boolean {
    return (this.sstatus & MSTATUS.SUM) !== 0;
  }
  get mxr(): boolean {
    return (this.sstatus & MSTATUS.MXR) !== 0;
  }
  get sieOn(): boolean {
    return (this.sstatus & MSTATUS.SIE) !== 0;
  }

  /** sip as the guest reads it at time `now`. */
  sip(now: number): number {
    return this.sipSw | (now >= this.stimecmp ? 1 << IRQ.STI : 0);
  }

  /** The translation view of the current pretend mode (SUM only matters to S). */
  view(): GuestView {
    return { priv: this.mode, sum: this.mode === 1 && this.sum, mxr: this.mxr };
  }

  /** hw mode: the machine checks the guest's views itself, so one shadow serves them all. */
  hw = false;

  /** A small integer naming the view, for strategies that keep one shadow per view. */
  viewKey(): number {
    if (this.hw) return 0;
    return this.mode | (this.mode === 1 && this.sum ? 2 : 0) | (this.mxr ? 4 : 0);
  }
}
