/**
 * The CSRs of the H extension (privileged spec 1.12, 8.2-8.4) and the rules
 * it adds to every CSR access: which accesses are legal in HS, VS and VU,
 * which raise the virtual-instruction exception instead of an illegal
 * instruction (8.6.1), and the substitution of the VS CSRs for the S CSRs
 * while V=1. csrfile.ts calls in here only for a hart that has the extension.
 */
import {
  COMPARATOR_HIGH_MAX,
  CSR,
  IRQ,
  MEDELEG_WRITABLE,
  MSTATUS,
  SSTATUS_VIEW,
  SSTATUS_WRITABLE,
} from "../csr.ts";
import type { Hart } from "../hart.ts";
import { HSTATUS_WRITABLE, type HState, VS_IRQS } from "./state.ts";

export const ILLEGAL = 2;
export const VIRTUAL = 22;
/** csrRead/csrWrite: "not an H matter, use the base rules". */
export const NOT_MINE = -1;

/** misa.H (bit 7). */
export const MISA_H = 1 << 7;
/** mstatush (RV32): GVA bit 6, MPV bit 7. */
const MSTATUSH_GVA = 1 << 6;
const MSTATUSH_MPV = 1 << 7;
/** hedeleg: causes a hypervisor may hand to VS (8.2.2; 9-11 and 20-23 stay in HS). */
const HEDELEG_WRITABLE = 0xb1ff;
/** medeleg gains ECALL_VS (10) and the guest-page and virtual-instruction causes (20-23). */
export const MEDELEG_WRITABLE_H = MEDELEG_WRITABLE | (1 << 10) | (0xf << 20);
const M_AND_S_IRQS =
  (1 << IRQ.SSI) | (1 << IRQ.STI) | (1 << IRQ.SEI) | (1 << IRQ.MSI) | (1 << IRQ.MTI) | (1 << IRQ.MEI);
const TWO32 = 2 ** 32;
const lo = (v: number): number => (v % TWO32) >>> 0;
const hi = (v: number): number => Math.floor(v / TWO32) >>> 0;

/** S CSRs that name their VS counterpart while V=1 (8.2: "VS CSRs substitute for S CSRs"). */
const SUBSTITUTE = new Map<number, number>([
  [CSR.sstatus, CSR.vsstatus],
  [CSR.sie, CSR.vsie],
  [CSR.stvec, CSR.vstvec],
  [CSR.sscratch, CSR.vsscratch],
  [CSR.sepc, CSR.vsepc],
  [CSR.scause, CSR.vscause],
  [CSR.stval, CSR.vstval],
  [CSR.sip, CSR.vsip],
  [CSR.satp, CSR.vsatp],
  [CSR.stimecmp, CSR.vstimecmp],
  [CSR.stimecmph, CSR.vstimecmph],
]);

/** The CSR an access names once V=1 substitution is applied. */
export function effectiveCsr(h: Hart, csr: number): number {
  return h.virt !== 0 ? (SUBSTITUTE.get(csr) ?? csr) : csr;
}

const isCounter = (csr: number): boolean => (csr & 0xf60) === 0xc00;

/**
 * The exception an access raises: 0 (legal), ILLEGAL or VIRTUAL (8.6.1).
 * `exists` says whether the CSR exists at all (the base csrRead's answer).
 */
export function hCsrFault(h: Hart, hx: HState, csr: number, writes: boolean, exists: boolean): number {
  const level = (csr >>> 8) & 3;
  if (!exists) return ILLEGAL;
  if (writes && csr >>> 10 === 3) return ILLEGAL;
  if (h.priv === 3) return 0;
  if (level === 3) return ILLEGAL;
  if (h.virt === 0) {
    // HS may reach hypervisor-level CSRs (level 2); U reaches only level 0.
    if (h.priv === 0 && level > 0) return ILLEGAL;
    if ((csr === CSR.satp || csr === CSR.hgatp) && h.priv === 1 && (h.mstatus & MSTATUS.TVM) !== 0)
      return ILLEGAL;
    if (isCounter(csr)) return counterFault(h, hx, csr & 31);
    if (isTimecmp(csr) && (!h.stce || (h.mcounteren & 2) === 0)) return ILLEGAL;
    return 0;
  }
  // V=1: hypervisor and VS CSRs are the hypervisor's; VU has no supervisor CSRs either.
  if (level === 2 || (level === 1 && h.priv === 0)) return VIRTUAL;
  if (isCounter(csr)) return counterFault(h, hx, csr & 31);
  if (csr === CSR.satp && (hx.hstatus & (1 << 20)) !== 0) return VIRTUAL; // hstatus.VTVM
  if (csr === CSR.stimecmp || csr === CSR.stimecmph) {
    if (!h.stce || (h.mcounteren & 2) === 0) return ILLEGAL;
    if (!hx.vstce || (hx.hcounteren & 2) === 0) return VIRTUAL;
  }
  return 0;
}

const isTimecmp = (csr: number): boolean =>
  csr === CSR.stimecmp || csr === CSR.stimecmph || csr === CSR.vstimecmp || csr === CSR.vstimecmph;

/** cycle/time/instret/hpmcounterN below M: mcounteren, then hcounteren (V=1), then scounteren (U and VU). */
function counterFault(h: Hart, hx: HState, bit: number): number {
  if (((h.mcounteren >>> bit) & 1) === 0) return ILLEGAL;
  if (h.virt !== 0) {
    if (((hx.hcounteren >>> bit) & 1) === 0) return VIRTUAL;
    if (h.priv === 0 && ((h.scounteren >>> bit) & 1) === 0) return VIRTUAL;
    return 0;
  }
  return h.priv === 0 && ((h.scounteren >>> bit) & 1) === 0 ? ILLEGAL : 0;
}

/** VS interrupt bits pending now: hvip, and VSTIP from vstimecmp when henvcfg.STCE (Sstc for VS). */
export function vsPending(h: Hart, hx: HState, now: number): number {
  let p = hx.hvip & VS_IRQS;
  if (h.stce && hx.vstce && now + hx.timeDelta >= hx.vstimecmp) p |= 1 << IRQ.VSTI;
  return p;
}

/** time as V=1 reads it: mtime + htimedelta modulo 2^64, as exact halves. */
function virtualTime(h: Hart, hx: HState): [number, number] {
  const t = h.mtime;
  const sum = lo(t) + hx.htimedeltaLo;
  return [sum >>> 0, (hi(t) + hx.htimedeltaHi + (sum >= TWO32 ? 1 : 0)) >>> 0];
}

/** The value of an H-related CSR, undefined when it does not exist, NOT_MINE for the base rules. */
export function hCsrRead(h: Hart, hx: HState, csr: number): number | undefined {
  switch (effectiveCsr(h, csr)) {
    case CSR.misa:
      return NOT_MINE; // the base adds MISA_H
    case CSR.mstatush:
      return (hx.gva !== 0 ? MSTATUSH_GVA : 0) | (hx.mpv !== 0 ? MSTATUSH_MPV : 0);
    case CSR.mideleg:
      return (h.mideleg | VS_IRQS) >>> 0; // VS-level bits are read-only one (8.4.1)
    case CSR.mtval2:
      return hx.mtval2 >>> 0;
    case CSR.mtinst:
      return hx.mtinst >>> 0;
    case CSR.hstatus:
      return hx.hstatus >>> 0;
    case CSR.hedeleg:
      return hx.hedeleg >>> 0;
    case CSR.hideleg:
      return hx.hideleg >>> 0;
    case CSR.hie:
      return h.mie & VS_IRQS;
    case CSR.hip:
      return h.mip & VS_IRQS;
    case CSR.hvip:
      return hx.hvip >>> 0;
    case CSR.hcounteren:
      return hx.hcounteren >>> 0;
    case CSR.hgeie:
    case CSR.hgeip:
      return 0; // no guest external interrupts (GEILEN = 0)
    case CSR.htval:
      return hx.htval >>> 0;
    case CSR.htinst:
      return hx.htinst >>> 0;
    case CSR.hgatp:
      return hx.hgatp >>> 0;
    case CSR.henvcfg:
      return hx.henvcfg >>> 0;
    case CSR.henvcfgh:
      return hx.henvcfgh >>> 0;
    case CSR.htimedelta:
      return hx.htimedeltaLo >>> 0;
    case CSR.htimedeltah:
      return hx.htimedeltaHi >>> 0;
    case CSR.vsstatus:
      return (hx.vsstatus & SSTATUS_VIEW) >>> 0;
    case CSR.vsie:
      return (h.mie & hx.hideleg & VS_IRQS) >>> 1;
    case CSR.vsip:
      return (h.mip & hx.hideleg & VS_IRQS) >>> 1;
    case CSR.vstvec:
      return hx.vstvec >>> 0;
    case CSR.vsscratch:
      return hx.vsscratch >>> 0;
    case CSR.vsepc:
      return hx.vsepc >>> 0;
    case CSR.vscause:
      return hx.vscause >>> 0;
    case CSR.vstval:
      return hx.vstval >>> 0;
    case CSR.vsatp:
      return hx.vsatp >>> 0;
    case CSR.vstimecmp:
      return lo(hx.vstimecmp);
    case CSR.vstimecmph:
      return hi(hx.vstimecmp);
    case CSR.time:
      return h.virt !== 0 ? virtualTime(h, hx)[0] : NOT_MINE;
    case CSR.timeh:
      return h.virt !== 0 ? virtualTime(h, hx)[1] : NOT_MINE;
  }
  return NOT_MINE;
}

/** Write an H-related CSR (after the access check); false when the base rules apply. */
export function hCsrWrite(h: Hart, hx: HState, csr: number, v: number): boolean {
  switch (effectiveCsr(h, csr)) {
    case CSR.mstatush:
      hx.gva = v & MSTATUSH_GVA ? 1 : 0;
      hx.mpv = v & MSTATUSH_MPV ? 1 : 0;
      h.invalidateMemos(); // MPRV accesses follow MPV
      return true;
    case CSR.medeleg:
      h.medeleg = v & MEDELEG_WRITABLE_H;
      return true;
    case CSR.mie:
      h.mie = v & (M_AND_S_IRQS | VS_IRQS);
      h.recheck();
      return true;
    case CSR.mip:
      hx.hvip = (hx.hvip & ~(1 << IRQ.VSSI)) | (v & (1 << IRQ.VSSI)); // mip.VSSIP is hvip.VSSIP
      h.recheck();
      return false; // and the base writes SSIP/STIP/SEIP
    case CSR.mtval2:
      hx.mtval2 = v;
      return true;
    case CSR.mtinst:
      hx.mtinst = v;
      return true;
    case CSR.hstatus:
      hx.hstatus = v & HSTATUS_WRITABLE;
      return true;
    case CSR.hedeleg:
      hx.hedeleg = v & HEDELEG_WRITABLE;
      return true;
    case CSR.hideleg:
      hx.hideleg = v & VS_IRQS;
      h.recheck();
      return true;
    case CSR.hie:
      h.mie = (h.mie & ~VS_IRQS) | (v & VS_IRQS);
      h.recheck();
      return true;
    case CSR.hip:
      hx.hvip = (hx.hvip & ~(1 << IRQ.VSSI)) | (v & (1 << IRQ.VSSI));
      h.recheck();
      return true;
    case CSR.hvip:
      hx.hvip = v & VS_IRQS;
      h.recheck();
      return true;
    case CSR.hcounteren:
      hx.hcounteren = v;
      return true;
    case CSR.hgeie:
      return true;
    case CSR.htval:
      hx.htval = v;
      return true;
    case CSR.htinst:
      hx.htinst = v;
      return true;
    case CSR.hgatp:
      // Sv32x4 or Bare; 7 VMID bits; the root is 16 KiB aligned, so PPN[1:0] read as zero.
      hx.hgatp = v & (0x8000_0000 | (0x7f << 22) | 0x3ffffc);
      h.invalidateMemos();
      return true;
    case CSR.henvcfg:
      hx.henvcfg = v & 1;
      return true;
    case CSR.henvcfgh:
      hx.henvcfgh = h.stce ? v & 0x8000_0000 : 0; // STCE is read-only zero without menvcfg.STCE
      h.recheck();
      return true;
    case CSR.htimedelta:
      hx.htimedeltaLo = v >>> 0;
      h.recheck();
      return true;
    case CSR.htimedeltah:
      hx.htimedeltaHi = v >>> 0;
      h.recheck();
      return true;
    case CSR.vsstatus:
      hx.vsstatus = (hx.vsstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE);
      h.invalidateMemos(); // SUM and MXR change what VS-stage pages allow
      h.recheck();
      return true;
    case CSR.vsie: {
      const mask = hx.hideleg & VS_IRQS;
      h.mie = (h.mie & ~mask) | ((v << 1) & mask);
      h.recheck();
      return true;
    }
    case CSR.vsip: {
      const mask = hx.hideleg & (1 << IRQ.VSSI);
      hx.hvip = (hx.hvip & ~mask) | ((v << 1) & mask);
      h.recheck();
      return true;
    }
    case CSR.vstvec:
      hx.vstvec = (v & ~3) | ((v & 3) === 1 ? 1 : 0);
      return true;
    case CSR.vsscratch:
      hx.vsscratch = v;
      return true;
    case CSR.vsepc:
      hx.vsepc = v & ~3;
      return true;
    case CSR.vscause:
      hx.vscause = v;
      return true;
    case CSR.vstval:
      hx.vstval = v;
      return true;
    case CSR.vsatp: {
      const asidBits = h.itlb.config.asidTags && h.dtlb.config.asidTags ? h.config.asidBits : 0;
      hx.vsatp = v & (0x8000_0000 | (((1 << asidBits) - 1) << 22) | 0x3fffff);
      h.invalidateMemos();
      return true;
    }
    case CSR.vstimecmp:
      hx.vstimecmp = Math.floor(hx.vstimecmp / TWO32) * TWO32 + (v >>> 0);
      h.recheck();
      return true;
    case CSR.vstimecmph:
      hx.vstimecmp = Math.min(v >>> 0, COMPARATOR_HIGH_MAX) * TWO32 + lo(hx.vstimecmp);
      h.recheck();
      return true;
  }
  return false;
}
