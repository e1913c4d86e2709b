/**
 * The CSR file: access rules, architectural read views and WARL write
 * legalisation (privileged spec 1.12, chapters 2-4; Sstc for stimecmp).
 * State lives on the hart; these functions are the only way instructions
 * reach it, and the hypervisor socket may use them too.
 */
import {
  CAUSE,
  COMPARATOR_HIGH_MAX,
  CSR,
  IRQ,
  MEDELEG_WRITABLE,
  MSTATUS,
  SSTATUS_VIEW,
  SSTATUS_WRITABLE,
} from "./csr.ts";
import type { Hart } from "./hart.ts";
import { hCsrFault, hCsrRead, hCsrWrite, MISA_H, NOT_MINE } from "./hext/csr.ts";
import { TINFO, TSELECT } from "./triggers.ts";

/** MXL=1 (RV32) | A | I | M | S | U. */
export const MISA = (1 << 30) | (1 << 0) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

const MSTATUS_WRITABLE =
  MSTATUS.SIE |
  MSTATUS.MIE |
  MSTATUS.SPIE |
  MSTATUS.MPIE |
  MSTATUS.SPP |
  MSTATUS.MPP |
  MSTATUS.MPRV |
  MSTATUS.SUM |
  MSTATUS.MXR |
  MSTATUS.TVM |
  MSTATUS.TW |
  MSTATUS.TSR;

/** Only supervisor-level interrupts can be delegated; M-level bits read as zero. */
const S_INTERRUPTS = (1 << IRQ.SSI) | (1 << IRQ.STI) | (1 << IRQ.SEI);
const ALL_INTERRUPTS = S_INTERRUPTS | (1 << IRQ.MSI) | (1 << IRQ.MTI) | (1 << IRQ.MEI);
const TWO32 = 2 ** 32;

const lo = (v: number): number => (v % TWO32) >>> 0;
const hi = (v: number): number => Math.floor(v / TWO32) >>> 0;
const withLo = (v: number, l: number): number => Math.floor(v / TWO32) * TWO32 + (l >>> 0);
const withHi = (v: number, h: number): number => (h >>> 0) * TWO32 + lo(v);

/**
 * The 64-bit mcycle/minstret are an internal count (below 2^53) plus a software-written offset kept
 * as a low part in [0, 2^32) and a high word, so both halves read exactly and wrap modulo 2^64
 * (privileged spec 1.12, 3.1.11: the counters have 64-bit precision on RV32).
 */
const counterLo = (base: number, adj: number): number => (base + adj) >>> 0;
const counterHi = (base: number, adj: number, adjHi: number): number =>
  (Math.floor((base + adj) / TWO32) + adjHi) >>> 0;
/** The offset pair that makes the counter read `vLo`:`vHi` at internal count `base`. */
function counterOffset(base: number, vLo: number, vHi: number): [number, number] {
  const adj = (vLo - base) >>> 0;
  return [adj, (vHi - Math.floor((base + adj) / TWO32)) >>> 0];
}

const isHpm = (csr: number, base: number): boolean => csr >= base + 3 && csr <= base + 31;

/** Whether an unprivileged counter (cycle/time/instret/hpmcounterN and their h halves) may be read at this privilege. */
function counterAllowed(h: Hart, bit: number): boolean {
  if (h.priv === 3) return true;
  if (((h.mcounteren >>> bit) & 1) === 0) return false;
  return h.priv === 1 || ((h.scounteren >>> bit) & 1) !== 0;
}

/**
 * The exception a CSR access raises at the hart's privilege: 0 when it is
 * legal, 2 (illegal instruction) or, with the H extension, 22 (virtual
 * instruction).
 */
export function csrFault(h: Hart, csr: number, writes: boolean): number {
  if (h.hx !== undefined) return hCsrFault(h, h.hx, csr, writes, csrRead(h, csr) !== undefined);
  return csrCheck(h, csr, writes) ? 0 : CAUSE.ILLEGAL_INSTRUCTION;
}

/** True when a CSR exists and this access is legal at the hart's privilege; false means illegal instruction. */
export function csrCheck(h: Hart, csr: number, writes: boolean): boolean {
  if (h.hx !== undefined) return csrFault(h, csr, writes) === 0;
  if (h.priv < ((csr >>> 8) & 3)) return false;
  if (writes && csr >>> 10 === 3) return false;
  if (csrRead(h, csr) === undefined) return false;
  if (csr === CSR.satp && h.priv === 1 && (h.mstatus & MSTATUS.TVM) !== 0) return false;
  if ((csr & 0xf60) === 0xc00) return counterAllowed(h, csr & 31);
  if (csr === CSR.stimecmp || csr === CSR.stimecmph) {
    // Sstc: below M, access needs menvcfg.STCE and mcounteren.TM.
    if (h.priv < 3 && (!h.stce || (h.mcounteren & 2) === 0)) return false;
  }
  return true;
}

/** The architectural value of a CSR (unsigned 32-bit), or undefined when it does not exist. */
export function csrRead(h: Hart, csr: number): number | undefined {
  if (h.hx !== undefined) {
    const v = hCsrRead(h, h.hx, csr);
    if (v !== NOT_MINE) return v;
    if (csr === CSR.misa) return (MISA | MISA_H) >>> 0;
  }
  switch (csr) {
    case CSR.mstatus:
      return h.mstatus >>> 0;
    case CSR.mstatush:
      return 0; // little-endian M and S (MBE = SBE = 0)
    case CSR.sstatus:
      return (h.mstatus & SSTATUS_VIEW) >>> 0;
    case CSR.misa:
      return MISA >>> 0;
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mhartid:
    case CSR.mconfigptr:
      return 0;
    case CSR.medeleg:
      return h.medeleg >>> 0;
    case CSR.mideleg:
      return h.mideleg >>> 0;
    case CSR.mie:
      return h.mie >>> 0;
    case CSR.mip:
      return h.mip >>> 0;
    case CSR.sie:
      return (h.mie & h.mideleg) >>> 0;
    case CSR.sip:
      return (h.mip & h.mideleg) >>> 0;
    case CSR.mtvec:
      return h.mtvec >>> 0;
    case CSR.stvec:
      return h.stvec >>> 0;
    case CSR.mcounteren:
      return h.mcounteren >>> 0;
    case CSR.scounteren:
      return h.scounteren >>> 0;
    case CSR.mscratch:
      return h.mscratch >>> 0;
    case CSR.sscratch:
      return h.sscratch >>> 0;
    case CSR.mepc:
      return h.mepc >>> 0;
    case CSR.sepc:
      return h.sepc >>> 0;
    case CSR.mcause:
      return h.mcause >>> 0;
    case CSR.scause:
      return h.scause >>> 0;
    case CSR.mtval:
      return h.mtval >>> 0;
    case CSR.stval:
      return h.stval >>> 0;
    case CSR.menvcfg:
      return h.menvcfg >>> 0;
    case CSR.menvcfgh:
      return h.menvcfgh >>> 0;
    case CSR.senvcfg:
      return h.senvcfg >>> 0;
    case CSR.satp:
      return h.satp >>> 0;
    case CSR.mcountinhibit:
      return h.mcountinhibit >>> 0;
    case CSR.stimecmp:
      return lo(h.stimecmp);
    case CSR.stimecmph:
      return hi(h.stimecmp);
    case CSR.mcycle:
    case CSR.cycle:
      return counterLo(h.instret + h.idleCycles, h.cycleAdjust);
    case CSR.mcycleh:
    case CSR.cycleh:
      return counterHi(h.instret + h.idleCycles, h.cycleAdjust, h.cycleAdjustHi);
    case CSR.minstret:
    case CSR.instret:
      return counterLo(h.instret, h.instretAdjust);
    case CSR.minstreth:
    case CSR.instreth:
      return counterHi(h.instret, h.instretAdjust, h.instretAdjustHi);
    case CSR.time:
      return lo(h.mtime);
    case CSR.timeh:
      return hi(h.mtime);
  }
  const trigger = h.triggers.read(csr);
  if (trigger !== undefined) return trigger;
  if (csr >= 0x3a0 && csr <= 0x3af) return h.pmpcfg[csr - 0x3a0] >>> 0;
  if (csr >= 0x3b0 && csr <= 0x3ef) return h.pmpaddr[csr - 0x3b0] >>> 0;
  // Hardware performance monitors are hard-wired to zero (a legal WARL choice).
  if (isHpm(csr, 0xb00) || isHpm(csr, 0xb80) || isHpm(csr, 0xc00) || isHpm(csr, 0xc80) || isHpm(csr, 0x320))
    return 0;
  return undefined;
}

/**
 * ASIDLEN, the satp.ASID bits the hart implements: none without ASID tags (a
 * TLB that cannot keep address spaces apart), else the configured width.
 */
export function asidLen(h: Hart): number {
  return h.itlb.config.asidTags && h.dtlb.config.asidTags ? h.config.asidBits : 0;
}

/** Write a CSR with WARL legalisation; the caller has done csrCheck. */
export function csrWrite(h: Hart, csr: number, v: number): void {
  if (h.hx !== undefined && hCsrWrite(h, h.hx, csr, v)) return;
  if (csr >= TSELECT && csr <= TINFO) {
    if (h.triggers.write(csr, v)) h.invalidateMemos(); // a watched page must lose its memos
    return;
  }
  switch (csr) {
    case CSR.mstatus:
      writeMstatus(h, (h.mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE));
      return;
    case CSR.sstatus:
      writeMstatus(h, (h.mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE));
      return;
    case CSR.medeleg:
      h.medeleg = v & MEDELEG_WRITABLE;
      return;
    case CSR.mideleg:
      h.mideleg = v & S_INTERRUPTS;
      h.recheck();
      return;
    case CSR.mie:
      h.mie = v & ALL_INTERRUPTS;
      h.recheck();
      return;
    case CSR.sie:
      h.mie = (h.mie & ~h.mideleg) | (v & h.mideleg);
      h.recheck();
      return;
    case CSR.mip: {
      // M may set SSIP, SEIP, and STIP unless Sstc drives it from stimecmp.
      const mask = h.stce ? (1 << IRQ.SSI) | (1 << IRQ.SEI) : S_INTERRUPTS;
      h.mipSw = (h.mipSw & ~mask) | (v & mask);
      h.recheck();
      return;
    }
    case CSR.sip: {
      const mask = h.mideleg & (1 << IRQ.SSI);
      h.mipSw = (h.mipSw & ~mask) | (v & mask);
      h.recheck();
      return;
    }
    case CSR.mtvec:
      h.mtvec = legalTvec(v);
      return;
    case CSR.stvec:
      h.stvec = legalTvec(v);
      return;
    case CSR.mcounteren:
      h.mcounteren = v;
      return;
    case CSR.scounteren:
      h.scounteren = v;
      return;
    case CSR.mscratch:
      h.mscratch = v;
      return;
    case CSR.sscratch:
      h.sscratch = v;
      return;
    case CSR.mepc:
      h.mepc = v & ~3; // IALIGN = 32: the low two bits are always zero
      return;
    case CSR.sepc:
      h.sepc = v & ~3;
      return;
    case CSR.mcause:
      h.mcause = v;
      return;
    case CSR.scause:
      h.scause = v;
      return;
    case CSR.mtval:
      h.mtval = v;
      return;
    case CSR.stval:
      h.stval = v;
      return;
    case CSR.menvcfg:
      h.menvcfg = v & 1; // FIOM; no cache-block or Svpbmt extensions
      return;
    case CSR.menvcfgh:
      h.menvcfgh = v & 0x8000_0000; // STCE (menvcfg bit 63)
      h.recheck();
      return;
    case CSR.senvcfg:
      h.senvcfg = v & 1;
      return;
    case CSR.satp: {
      // A TLB without ASID tags cannot keep address spaces apart, so the hart
      // implements no ASID bits (ASIDLEN = 0): satp.ASID reads as zero and
      // software must flush on every switch, as the spec requires then.
      const asidMask = ((1 << asidLen(h)) - 1) << 22;
      h.satp = v & (0x8000_0000 | asidMask | 0x3fffff);
      h.invalidateMemos();
      return;
    }
    case CSR.mcountinhibit:
      // The model's counters always count, so CY and IR are read-only zero (3.1.13: a set bit must stop
      // its counter); the HPM bits are kept, inhibiting a hard-wired-zero counter changes nothing.
      h.mcountinhibit = v & ~7;
      return;
    case CSR.stimecmp:
      h.stimecmp = withLo(h.stimecmp, v);
      h.recheck();
      return;
    case CSR.stimecmph:
      // The high half saturates (COMPARATOR_HIGH_MAX, csr.ts) so the low half stays exact.
      h.stimecmp = withHi(h.stimecmp, Math.min(v >>> 0, COMPARATOR_HIGH_MAX));
      h.recheck();
      return;
    case CSR.mcycle:
    case CSR.mcycleh: {
      const base = h.instret + h.idleCycles;
      // The other half as it was before this instruction: writing either half replaces its increment.
      const cLo = counterLo(base - 1, h.cycleAdjust);
      const cHi = counterHi(base - 1, h.cycleAdjust, h.cycleAdjustHi);
      [h.cycleAdjust, h.cycleAdjustHi] =
        csr === CSR.mcycle ? counterOffset(base, v, cHi) : counterOffset(base, cLo, v);
      return;
    }
    case CSR.minstret:
    case CSR.minstreth: {
      const base = h.instret;
      // The other half as it was before this instruction: writing either half replaces its increment.
      const cLo = counterLo(base - 1, h.instretAdjust);
      const cHi = counterHi(base - 1, h.instretAdjust, h.instretAdjustHi);
      [h.instretAdjust, h.instretAdjustHi] =
        csr === CSR.minstret ? counterOffset(base, v, cHi) : counterOffset(base, cLo, v);
      return;
    }
  }
  if (csr >= 0x3a0 && csr <= 0x3af) h.pmpcfg[csr - 0x3a0] = v;
  else if (csr >= 0x3b0 && csr <= 0x3ef) h.pmpaddr[csr - 0x3b0] = v;
  // Remaining writable CSRs (hpm counters and events) are hard-wired to zero.
}

function writeMstatus(h: Hart, v: number): void {
  // MPP is WARL over {U, S, M}: the reserved value 2 keeps the old field.
  if ((v & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT === 2) v = (v & ~MSTATUS.MPP) | (h.mstatus & MSTATUS.MPP);
  h.mstatus = v;
  h.invalidateMemos();
  h.recheck();
}

/** Direct (0) and vectored (1) modes; reserved modes fall back to direct. */
function legalTvec(v: number): number {
  return (v & ~3) | ((v & 3) === 1 ? 1 : 0);
}
