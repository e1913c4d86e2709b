/**
 * The state the H extension adds to a hart (privileged spec 1.12 chapter 8,
 * RV32): the hypervisor CSRs, the virtual-supervisor CSRs, the RV32 mstatush
 * bits MPV and GVA, mtval2/mtinst, and what a translation leaves for the
 * trap that may follow it. The virtualization mode V itself is `hart.virt`.
 * A hart built without `hExtension` has none of this (`hart.hx` undefined),
 * so the default machine behaves exactly as before.
 */
import { newWalkCounters, type WalkCounters } from "../walker.ts";

/** hstatus bits (8.2.1; VSBE = 0 and VGEIN = 0 are read-only here). */
export const HSTATUS = {
  GVA: 1 << 6,
  SPV: 1 << 7,
  SPVP: 1 << 8,
  HU: 1 << 9,
  VTVM: 1 << 20,
  VTW: 1 << 21,
  VTSR: 1 << 22,
} as const;
export const HSTATUS_WRITABLE =
  HSTATUS.GVA | HSTATUS.SPV | HSTATUS.SPVP | HSTATUS.HU | HSTATUS.VTVM | HSTATUS.VTW | HSTATUS.VTSR;

/** The VS-level interrupt bits of mip/mie/hip/hie/hvip/hideleg: VSSIP, VSTIP, VSEIP. */
export const VS_IRQS = (1 << 2) | (1 << 6) | (1 << 10);

/** hfence executions by kind (operands x0 or not), for the TLB-flush counters. */
export interface HfenceCounters {
  vvmaAll: number;
  vvmaAddr: number;
  vvmaAsid: number;
  vvmaAddrAsid: number;
  gvmaAll: number;
  gvmaAddr: number;
  gvmaVmid: number;
  gvmaAddrVmid: number;
  /** TLB entries the hfences dropped. */
  entriesFlushed: number;
}

export class HState {
  hstatus = 0;
  hedeleg = 0;
  hideleg = 0;
  /** VSSIP, VSTIP, VSEIP as written by the hypervisor. */
  hvip = 0;
  hcounteren = 0;
  htval = 0;
  htinst = 0;
  hgatp = 0;
  henvcfg = 0;
  henvcfgh = 0;
  /** htimedelta as its two 32-bit halves (time in V=1 is mtime + htimedelta, modulo 2^64). */
  htimedeltaLo = 0;
  htimedeltaHi = 0;

  vsstatus = 0;
  vstvec = 0;
  vsscratch = 0;
  vsepc = 0;
  vscause = 0;
  vstval = 0;
  vsatp = 0;
  vstimecmp = Number.MAX_SAFE_INTEGER;

  /** mstatush.MPV and mstatush.GVA (RV32). */
  mpv = 0;
  gva = 0;
  mtval2 = 0;
  mtinst = 0;

  /** Set by a failed two-stage translation for the trap it raises: the guest-physical address of a guest-page fault (-1: none). */
  faultGpa = -1;
  /** The failed translation was two-stage, so the trap's tval is a guest-virtual address (GVA). */
  faultVirt = false;
  /**
   * What mtinst/htinst get for that guest-page fault: the pseudoinstruction of
   * table 8.12 when the G-stage refused an implicit VS-stage PTE access (the
   * spec allows no zero then, 8.6.3), 0 for a fault of the access itself.
   */
  faultTinst = 0;
  /** The cause of the last failed two-stage translation. */
  cause = 0;
  /** The TLB entry of the last successful two-stage translation. */
  idx = 0;
  /** While an HLV/HSV executes: its effective privilege (hstatus.SPVP); -1 otherwise. */
  hlvPriv = -1;

  /** VS-stage walks (their PTE references) and G-stage walks (of VS PTE addresses and of the final guest-physical address). */
  readonly walkVs: WalkCounters = newWalkCounters();
  readonly walkG: WalkCounters = newWalkCounters();
  /**
   * Successful two-stage walks that found a 4 KiB VS-stage page, and the PTE
   * reads they made in both stages (A/D write-backs excluded): the 2D walk's
   * n·m + n + m = 8 per TLB miss for Sv32 over Sv32x4.
   */
  readonly walk2d = { walks4K: 0, reads4K: 0 };
  readonly hfence: HfenceCounters = {
    vvmaAll: 0,
    vvmaAddr: 0,
    vvmaAsid: 0,
    vvmaAddrAsid: 0,
    gvmaAll: 0,
    gvmaAddr: 0,
    gvmaVmid: 0,
    gvmaAddrVmid: 0,
    entriesFlushed: 0,
  };

  /** The VMID of hgatp (7 bits on RV32). */
  get vmid(): number {
    return (this.hgatp >>> 22) & 0x7f;
  }

  /** The TLB space of the current VMID's guest translations. */
  get space(): number {
    return 1 + this.vmid;
  }

  /** htimedelta as a signed number (exact while |htimedelta| < 2^53). */
  get timeDelta(): number {
    return (this.htimedeltaHi | 0) * 2 ** 32 + (this.htimedeltaLo >>> 0);
  }

  /** henvcfg.STCE (bit 63): the VS timer (vstimecmp) is on. */
  get vstce(): boolean {
    return (this.henvcfgh & 0x8000_0000) !== 0;
  }
}

/** The H counters as a snapshot section. */
export function hextSnapshot(hx: HState): {
  walkVs: WalkCounters;
  walkG: WalkCounters;
  walk2d: { walks4K: number; reads4K: number };
  hfence: HfenceCounters;
} {
  return {
    walkVs: { ...hx.walkVs },
    walkG: { ...hx.walkG },
    walk2d: { ...hx.walk2d },
    hfence: { ...hx.hfence },
  };
}
