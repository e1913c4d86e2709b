/**
 * The guest's CSRs as a supervisor sees them (privileged spec 1.12 chapter 4
 * and Sstc), emulated on the vCPU. Only what an S-mode may touch exists here;
 * machine-level CSRs are illegal for the guest, as on a real hart.
 */
import { COMPARATOR_HIGH_MAX, CSR, type Hart, IRQ, MSTATUS } from "@shadowlab/emu-core";
import { type VCpu, VS_INTERRUPTS, VSSTATUS_WRITABLE } from "./vcpu.ts";

const SSTATUS_READABLE = VSSTATUS_WRITABLE; // UBE, FS, XS and SD read as zero
const TWO32 = 2 ** 32;
const lo = (v: number): number => (v % TWO32) >>> 0;
const hi = (v: number): number => Math.floor(v / TWO32) >>> 0;

/** Whether the guest, in its pretend mode, may access `csr` (writing when `writes`). */
export function vcsrAllowed(v: VCpu, csr: number, writes: boolean): boolean {
  if (((csr >>> 8) & 3) > v.mode) return false;
  if (writes && csr >>> 10 === 3) return false;
  // hpmcounter3..31(h): the boot stub's mcounteren is CY|TM|IR, so below M they are illegal (3.1.11).
  if ((csr & 0xf60) === 0xc00 && (csr & 31) > 2) return false;
  if ((csr & 0xf60) === 0xc00 && v.mode === 0) {
    // Counters from pretend-U need the guest's scounteren bit (mcounteren.CY/TM/IR are set: the boot stub's part).
    if (((v.scounteren >>> (csr & 31)) & 1) === 0) return false;
  }
  return true;
}

/** The value the guest reads, or undefined when the CSR does not exist for a supervisor. */
export function vcsrRead(v: VCpu, hart: Hart, csr: number): number | undefined {
  switch (csr) {
    case CSR.sstatus:
      return (v.sstatus & SSTATUS_READABLE) >>> 0;
    case CSR.sie:
      return v.sie & VS_INTERRUPTS;
    case CSR.sip:
      return v.sip(hart.mtime) & VS_INTERRUPTS;
    case CSR.stvec:
      return v.stvec >>> 0;
    case CSR.sscratch:
      return v.sscratch >>> 0;
    case CSR.sepc:
      return v.sepc >>> 0;
    case CSR.scause:
      return v.scause >>> 0;
    case CSR.stval:
      return v.stval >>> 0;
    case CSR.satp:
      return v.satp >>> 0;
    case CSR.scounteren:
      return v.scounteren >>> 0;
    case CSR.senvcfg:
      return v.senvcfg >>> 0;
    case CSR.stimecmp:
      return lo(v.stimecmp);
    case CSR.stimecmph:
      return hi(v.stimecmp);
    case CSR.cycle:
      return lo(hart.mcycle);
    case CSR.cycleh:
      return hi(hart.mcycle);
    case CSR.time:
      return lo(hart.mtime);
    case CSR.timeh:
      return hi(hart.mtime);
    case CSR.instret:
      return lo(hart.minstret);
    case CSR.instreth:
      return hi(hart.minstret);
  }
  if ((csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0xc83 && csr <= 0xc9f)) return 0; // hpmcounters read zero
  return undefined;
}

/** What a write changed, so the monitor can tell the paging strategy. */
export const VCSR_EFFECT = { NONE: 0, VIEW: 1, SATP: 2, TIMER: 3 } as const;

/** Write a CSR with the same WARL rules as the machine; returns what the write affects. */
export function vcsrWrite(v: VCpu, csr: number, value: number): number {
  switch (csr) {
    case CSR.sstatus: {
      const before = v.viewKey();
      v.sstatus = (v.sstatus & ~VSSTATUS_WRITABLE) | (value & VSSTATUS_WRITABLE);
      return v.viewKey() === before ? VCSR_EFFECT.NONE : VCSR_EFFECT.VIEW;
    }
    case CSR.sie:
      v.sie = value & VS_INTERRUPTS;
      return VCSR_EFFECT.NONE;
    case CSR.sip:
      v.sipSw = (v.sipSw & ~(1 << IRQ.SSI)) | (value & (1 << IRQ.SSI));
      return VCSR_EFFECT.NONE;
    case CSR.stvec:
      v.stvec = (value & ~3) | ((value & 3) === 1 ? 1 : 0);
      return VCSR_EFFECT.NONE;
    case CSR.sscratch:
      v.sscratch = value;
      return VCSR_EFFECT.NONE;
    case CSR.sepc:
      v.sepc = value & ~3;
      return VCSR_EFFECT.NONE;
    case CSR.scause:
      v.scause = value;
      return VCSR_EFFECT.NONE;
    case CSR.stval:
      v.stval = value;
      return VCSR_EFFECT.NONE;
    case CSR.satp:
      // The guest's ASIDLEN is the one it has natively (HypervisorConfig.guestAsidBits).
      v.satp = value & (0x8000_0000 | (((1 << v.asidBits) - 1) << 22) | 0x3fffff);
      return VCSR_EFFECT.SATP;
    case CSR.scounteren:
      v.scounteren = value;
      return VCSR_EFFECT.NONE;
    case CSR.senvcfg:
      v.senvcfg = value & 1;
      return VCSR_EFFECT.NONE;
    case CSR.stimecmp:
      v.stimecmp = Math.floor(v.stimecmp / TWO32) * TWO32 + (value >>> 0);
      return VCSR_EFFECT.TIMER;
    case CSR.stimecmph:
      // The high half saturates as on the machine (COMPARATOR_HIGH_MAX).
      v.stimecmp = Math.min(value >>> 0, COMPARATOR_HIGH_MAX) * TWO32 + lo(v.stimecmp);
      return VCSR_EFFECT.TIMER;
  }
  return VCSR_EFFECT.NONE;
}

/** sstatus bits for a trap entry into the guest (4.1.1): SPP, SPIE <- SIE, SIE <- 0. */
export function enterSupervisor(v: VCpu): void {
  let s = v.sstatus;
  s = (s & ~MSTATUS.SPP) | (v.mode === 1 ? MSTATUS.SPP : 0);
  s = (s & ~MSTATUS.SPIE) | ((s & MSTATUS.SIE) !== 0 ? MSTATUS.SPIE : 0);
  v.sstatus = s & ~MSTATUS.SIE;
  v.mode = 1;
}

/** sret on the vCPU: mode <- SPP, SIE <- SPIE, SPIE <- 1, SPP <- U. */
export function returnFromSupervisor(v: VCpu): void {
  let s = v.sstatus;
  v.mode = (s & MSTATUS.SPP) !== 0 ? 1 : 0;
  s = (s & ~MSTATUS.SIE) | ((s & MSTATUS.SPIE) !== 0 ? MSTATUS.SIE : 0);
  v.sstatus = (s | MSTATUS.SPIE) & ~MSTATUS.SPP;
}
