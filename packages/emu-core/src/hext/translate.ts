/**
 * Two-stage address translation (privileged spec 1.12, 8.5): guest-virtual
 * to guest-physical through vsatp (the VS-stage, Sv32), then guest-physical
 * to machine-physical through hgatp (the G-stage, Sv32x4). Every VS-stage PTE
 * address is itself translated by the G-stage before it is read, so a full
 * 4 KiB walk with both stages on makes n·m + n + m = 8 references (n = m = 2).
 *
 * The TLB caches the combined translation in the guest space of the VMID
 * (Tlb.selectSpace), tagged with the VS ASID; an entry keeps the VS leaf's
 * flags and the G leaf's (Tlb.gflags), and both are checked on every hit.
 */
import { MSTATUS } from "../csr.ts";
import type { Hart } from "../hart.ts";
import { PTE, type Tlb } from "../tlb.ts";
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  type Access,
  accessFaultCause,
  guestPageFaultCause,
  newWalkCounters,
  type PteMemory,
  permits,
  SV32,
  SV32X4,
  WalkResult,
  walkTable,
} from "../walker.ts";
import type { HState } from "./state.ts";

/** Leaf flags of a stage that is Bare: everything allowed, A and D set. */
const BARE = PTE.V | PTE.R | PTE.W | PTE.X | PTE.U | PTE.A | PTE.D;
const TWO32 = 2 ** 32;
/** mtinst/htinst for a guest-page fault on an RV32 VS-stage PTE read (privileged spec 1.12, table 8.12). */
export const TINST_PTE_READ = 0x0000_2000;

/** Whether a data access (or fetch) of the hart right now goes through both stages. */
export function isTwoStage(h: Hart, hx: HState, access: Access): boolean {
  if (h.virt !== 0) return true;
  if (access === ACCESS_FETCH) return false;
  if (hx.hlvPriv >= 0) return true;
  // MPRV with MPV: M-mode loads and stores as the guest would make them (8.4.1).
  return (
    h.priv === 3 &&
    (h.mstatus & MSTATUS.MPRV) !== 0 &&
    hx.mpv !== 0 &&
    (h.mstatus & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT !== 3
  );
}

/** The privilege a two-stage access is checked at by the VS-stage. */
function vsPrivilege(h: Hart, hx: HState): number {
  if (hx.hlvPriv >= 0) return hx.hlvPriv;
  if (h.virt !== 0) return h.priv;
  return (h.mstatus & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT;
}

/**
 * VS-stage PTEs as the walker reads them: each guest-physical PTE address
 * goes through the G-stage first (as an implicit load, 8.5.1), faults
 * reported for the original access type.
 */
class GuestPtes implements PteMemory {
  cause = 0;
  /** Side-effect-free peeks count nowhere and write no A/D bits. */
  peek = false;
  private lastMa = 0;
  private readonly peekCounters = newWalkCounters();
  private readonly g = new WalkResult();

  constructor(
    private readonly h: Hart,
    private readonly hx: HState,
  ) {}

  readPte(gpa: number, access: Access): number {
    const h = this.h;
    const hx = this.hx;
    let ma = gpa;
    if (hx.hgatp < 0) {
      const mxr = (h.mstatus & MSTATUS.MXR) !== 0;
      const counters = this.peek ? this.peekCounters : hx.walkG;
      const c = walkTable(
        SV32X4,
        h.ptes,
        hx.hgatp & 0x3ffffc,
        gpa,
        ACCESS_LOAD,
        0,
        false,
        mxr,
        !this.peek,
        counters,
        this.g,
      );
      if (c !== 0) {
        const guestFault = c === guestPageFaultCause(ACCESS_LOAD);
        this.cause = guestFault ? guestPageFaultCause(access) : accessFaultCause(access);
        if (guestFault && !this.peek) {
          hx.faultGpa = gpa;
          hx.faultTinst = TINST_PTE_READ; // the hypervisor must not take it for the access itself
        }
        return -2;
      }
      ma = this.g.ppn * 4096 + (gpa & 0xfff);
    }
    const off = ma - h.ramBase;
    if (off < 0 || off >= h.ramSize) {
      this.cause = accessFaultCause(access);
      return -1;
    }
    this.lastMa = ma;
    return h.ram32[off >>> 2] >>> 0;
  }

  writePte(_gpa: number, pte: number): void {
    const off = this.lastMa - this.h.ramBase;
    this.h.ram32[off >>> 2] = pte;
    this.h.dirtyPages.mark(off >>> 12);
  }
}

const guestPtes = new WeakMap<HState, GuestPtes>();
const vsOut = new WalkResult();
const gOut = new WalkResult();

function ptesOf(h: Hart, hx: HState): GuestPtes {
  let p = guestPtes.get(hx);
  if (p === undefined) {
    p = new GuestPtes(h, hx);
    guestPtes.set(hx, p);
  }
  return p;
}

/** Whether a TLB entry of a guest space serves this access (both stages' permissions, D where a store needs it). */
function entryServes(h: Hart, hx: HState, tlb: Tlb, i: number, access: Access, priv: number): boolean {
  const hsMxr = (h.mstatus & MSTATUS.MXR) !== 0;
  const store = access === ACCESS_STORE;
  if (hx.vsatp < 0) {
    const f = tlb.flags[i];
    const sum = (hx.vsstatus & MSTATUS.SUM) !== 0;
    const mxr = hsMxr || (hx.vsstatus & MSTATUS.MXR) !== 0;
    if (!permits(f, access, priv, sum, mxr) || (store && (f & PTE.D) === 0)) return false;
  }
  const g = tlb.gflags[i];
  return permits(g, access, 0, false, hsMxr) && (!store || (g & PTE.D) !== 0);
}

/**
 * Translate `va` through both stages. Returns the machine page number, or -1
 * with the cause in hx.cause (and hx.faultGpa for guest-page faults). The
 * TLB entry used is left in hx.idx.
 */
export function translateTwoStage(h: Hart, hx: HState, tlb: Tlb, va: number, access: Access): number {
  const priv = vsPrivilege(h, hx);
  const vpn = va >>> 12;
  const asid = (hx.vsatp >>> 22) & 0x1ff;
  tlb.selectSpace(hx.space);
  try {
    let i = tlb.lookup(vpn, asid);
    if (i >= 0) {
      if (entryServes(h, hx, tlb, i, access, priv)) {
        hx.idx = i;
        return tlb.ppn[i];
      }
      tlb.counters.hits--; // the entry cannot serve this access: the hardware re-walks
      tlb.counters.misses++;
    }
    const reads = ptesRead(hx);
    const ppn = walkBoth(h, hx, va, access, priv);
    if (ppn < 0) return -1;
    if (hx.vsatp < 0 && !vsOut.mega) {
      hx.walk2d.walks4K++;
      hx.walk2d.reads4K += ptesRead(hx) - reads;
    }
    i = tlb.fill(vpn, asid, ppn, vsOut.flags, false);
    tlb.gflags[i] = gOut.flags;
    hx.idx = i;
    return ppn;
  } finally {
    tlb.selectSpace(0);
  }
}

/** PTE reads of both stages so far (references minus A/D write-backs). */
function ptesRead(hx: HState): number {
  return hx.walkVs.memRefs - hx.walkVs.adUpdates + hx.walkG.memRefs - hx.walkG.adUpdates;
}

/** Walk the VS-stage then the G-stage for `va`; leaf flags in vsOut/gOut. Returns the machine page number or -1. */
function walkBoth(h: Hart, hx: HState, va: number, access: Access, priv: number): number {
  const hsMxr = (h.mstatus & MSTATUS.MXR) !== 0;
  let gpa = va >>> 0;
  if (hx.vsatp < 0) {
    const sum = (hx.vsstatus & MSTATUS.SUM) !== 0;
    const mxr = hsMxr || (hx.vsstatus & MSTATUS.MXR) !== 0;
    const p = ptesOf(h, hx);
    const c = walkTable(SV32, p, hx.vsatp & 0x3fffff, va, access, priv, sum, mxr, true, hx.walkVs, vsOut);
    if (c !== 0) return fail(hx, c);
    gpa = vsOut.ppn * 4096 + (va & 0xfff);
  } else {
    vsOut.flags = BARE;
  }
  if (hx.hgatp >= 0) {
    gOut.flags = BARE;
    if (gpa >= TWO32) return fail(hx, accessFaultCause(access));
    return Math.floor(gpa / 4096);
  }
  const c = walkTable(
    SV32X4,
    h.ptes,
    hx.hgatp & 0x3ffffc,
    gpa,
    access,
    0,
    false,
    hsMxr,
    true,
    hx.walkG,
    gOut,
  );
  if (c !== 0) {
    if (c === guestPageFaultCause(access)) {
      hx.faultGpa = gpa;
      hx.faultTinst = 0; // the access itself: its transformed instruction may be 0 (8.6.3)
    }
    return fail(hx, c);
  }
  return gOut.ppn;
}

function fail(hx: HState, cause: number): number {
  hx.cause = cause;
  hx.faultVirt = true;
  return -1;
}

const peekCounters = newWalkCounters();
const peekOut = new WalkResult();

/** The machine address of a guest-virtual address in the current guest context, without side effects; -1 when unmapped. */
export function peekTwoStage(h: Hart, hx: HState, va: number): number {
  let gpa = va >>> 0;
  const p = ptesOf(h, hx);
  if (hx.vsatp < 0) {
    p.peek = true;
    const c = walkTable(
      SV32,
      p,
      hx.vsatp & 0x3fffff,
      va,
      ACCESS_LOAD,
      1,
      true,
      true,
      false,
      peekCounters,
      peekOut,
    );
    p.peek = false;
    if (c !== 0) return -1;
    gpa = peekOut.ppn * 4096 + (va & 0xfff);
  }
  if (hx.hgatp >= 0) return gpa;
  if (
    walkTable(
      SV32X4,
      h.ptes,
      hx.hgatp & 0x3ffffc,
      gpa,
      ACCESS_LOAD,
      0,
      false,
      true,
      false,
      peekCounters,
      peekOut,
    ) !== 0
  )
    return -1;
  return peekOut.ppn * 4096 + (va & 0xfff);
}
