/**
 * Traps, trap returns and interrupts with the H extension (privileged spec
 * 1.12, 8.4-8.6): where a trap goes (M, HS or VS through medeleg/mideleg and
 * hedeleg/hideleg), what it records there (MPV/SPV/SPVP, GVA, mtval2/htval,
 * mtinst/htinst), mret/sret with V, the interrupt priority across M, HS and
 * VS, the VS timer deadline, and the virtual-instruction cases of sret, wfi
 * and sfence.vma.
 */
import { CAUSE, IRQ, MSTATUS } from "../csr.ts";
import type { Hart, Priv } from "../hart.ts";
import { vsPending } from "./csr.ts";
import { HSTATUS, type HState, VS_IRQS } from "./state.ts";

/** Causes whose tval is a virtual address: GVA records whether it is a guest's (8.6.4). */
const ADDRESS_CAUSES =
  (1 << CAUSE.MISALIGNED_FETCH) |
  (1 << CAUSE.FETCH_ACCESS) |
  (1 << CAUSE.MISALIGNED_LOAD) |
  (1 << CAUSE.LOAD_ACCESS) |
  (1 << CAUSE.MISALIGNED_STORE) |
  (1 << CAUSE.STORE_ACCESS) |
  (1 << CAUSE.FETCH_PAGE_FAULT) |
  (1 << CAUSE.LOAD_PAGE_FAULT) |
  (1 << CAUSE.STORE_PAGE_FAULT) |
  (1 << CAUSE.FETCH_GUEST_PAGE_FAULT) |
  (1 << CAUSE.LOAD_GUEST_PAGE_FAULT) |
  (1 << CAUSE.STORE_GUEST_PAGE_FAULT);

/** Interrupts by priority (3.1.9 and 8.4.1): M, then HS (SGEI below STI), then VS. */
const PRIORITY = [
  IRQ.MEI,
  IRQ.MSI,
  IRQ.MTI,
  IRQ.SEI,
  IRQ.SSI,
  IRQ.STI,
  IRQ.SGEI,
  IRQ.VSEI,
  IRQ.VSSI,
  IRQ.VSTI,
] as const;

/** Enter or leave V=1. Translation and interrupt state change with it. */
export function setVirt(h: Hart, v: 0 | 1): void {
  if (h.virt === v) return;
  h.virt = v;
  h.invalidateMemos();
  h.recheck();
}

function vectorTarget(tvec: number, cause: number, interrupt: boolean): number {
  const base = tvec & ~3;
  return ((tvec & 3) === 1 && interrupt ? base + 4 * cause : base) >>> 0;
}

/** Take a trap on a hart with the H extension. */
export function hTrap(h: Hart, hx: HState, cause: number, tval: number, interrupt: boolean): void {
  const t = h.traps;
  if (interrupt) t.interrupts[cause]++;
  else t.exceptions[cause]++;
  h.reservationAtTrap = h.reservation;
  h.reservation = -1;
  const virt = h.virt;
  const gpa = hx.faultGpa;
  const gva = !interrupt && (virt !== 0 || hx.faultVirt) && ((ADDRESS_CAUSES >>> cause) & 1) !== 0;
  const tinst = gpa >= 0 ? hx.faultTinst : 0;
  hx.faultGpa = -1;
  hx.faultVirt = false;
  hx.faultTinst = 0;
  const bit = 1 << cause;
  const toHS = h.priv !== 3 && ((interrupt ? h.mideleg | VS_IRQS : h.medeleg) & bit) !== 0;
  const toVS = toHS && virt !== 0 && ((interrupt ? hx.hideleg : hx.hedeleg) & bit) !== 0;
  const tval2 = gpa >= 0 ? Math.floor(gpa / 4) >>> 0 : 0;
  if (!toHS && h.handler) {
    // The M-mode handler reads what an M-mode trap would have recorded: mtval2, GVA, and V through hart.virt.
    t.toHandler++;
    hx.mtval2 = tval2;
    hx.mtinst = tinst;
    hx.gva = gva ? 1 : 0;
    h.handler.trap(h, cause, tval >>> 0, interrupt);
    h.invalidateMemos();
    h.recheck();
    return;
  }
  if (toVS) {
    // VS-level interrupts arrive in VS as the S-level ones (VSSI 2 -> 1, VSTI 6 -> 5, VSEI 10 -> 9).
    const vcause = interrupt ? cause - 1 : cause;
    t.toVS++;
    hx.vscause = (interrupt ? 0x8000_0000 | vcause : vcause) >>> 0;
    hx.vsepc = h.pc >>> 0;
    hx.vstval = tval >>> 0;
    hx.vsstatus = enterS(hx.vsstatus, h.priv);
    h.pc = vectorTarget(hx.vstvec, vcause, interrupt);
    h.setPriv(1);
    return;
  }
  const mcause = (interrupt ? 0x8000_0000 | cause : cause) >>> 0;
  if (toHS) {
    t.toS++;
    h.scause = mcause;
    h.sepc = h.pc >>> 0;
    h.stval = tval >>> 0;
    let hs = hx.hstatus & ~(HSTATUS.SPV | HSTATUS.GVA);
    if (virt !== 0) hs = (hs & ~HSTATUS.SPVP) | HSTATUS.SPV | (h.priv === 1 ? HSTATUS.SPVP : 0);
    hx.hstatus = hs | (gva ? HSTATUS.GVA : 0);
    hx.htval = tval2;
    hx.htinst = tinst;
    h.mstatus = enterS(h.mstatus, h.priv);
    setVirt(h, 0);
    h.pc = vectorTarget(h.stvec, cause, interrupt);
    h.setPriv(1);
    return;
  }
  t.toM++;
  h.mcause = mcause;
  h.mepc = h.pc >>> 0;
  h.mtval = tval >>> 0;
  hx.mtval2 = tval2;
  hx.mtinst = tinst;
  hx.mpv = virt;
  hx.gva = gva ? 1 : 0;
  let s = h.mstatus;
  s = (s & ~MSTATUS.MPP) | (h.priv << MSTATUS.MPP_SHIFT);
  s = (s & ~MSTATUS.MPIE) | ((s & MSTATUS.MIE) !== 0 ? MSTATUS.MPIE : 0);
  h.mstatus = s & ~MSTATUS.MIE;
  setVirt(h, 0);
  h.pc = vectorTarget(h.mtvec, cause, interrupt);
  h.setPriv(3);
}

/** sstatus/vsstatus on a trap into S: SPP <- privilege, SPIE <- SIE, SIE <- 0. */
function enterS(s: number, priv: number): number {
  s = (s & ~MSTATUS.SPP) | (priv === 1 ? MSTATUS.SPP : 0);
  s = (s & ~MSTATUS.SPIE) | ((s & MSTATUS.SIE) !== 0 ? MSTATUS.SPIE : 0);
  return s & ~MSTATUS.SIE;
}

/** sstatus/vsstatus on sret: SIE <- SPIE, SPIE <- 1, SPP <- U. */
function leaveS(s: number): number {
  s = (s & ~MSTATUS.SIE) | ((s & MSTATUS.SPIE) !== 0 ? MSTATUS.SIE : 0);
  return (s | MSTATUS.SPIE) & ~MSTATUS.SPP;
}

/** mret: V <- MPV when returning below M, MPV <- 0 (8.6.4). */
export function hMret(h: Hart, hx: HState): void {
  let s = h.mstatus;
  const mpp = ((s & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT) as Priv;
  s = (s & ~MSTATUS.MIE) | ((s & MSTATUS.MPIE) !== 0 ? MSTATUS.MIE : 0);
  s |= MSTATUS.MPIE;
  s &= ~MSTATUS.MPP;
  if (mpp !== 3) s &= ~MSTATUS.MPRV;
  h.mstatus = s;
  h.reservation = -1;
  const mpv = hx.mpv;
  hx.mpv = 0;
  h.pc = h.mepc >>> 0;
  setVirt(h, mpp !== 3 ? (mpv as 0 | 1) : 0);
  h.setPriv(mpp);
}

/** sret: from HS, V <- SPV and SPV <- 0; from VS, the same on vsstatus with V kept. */
export function hSret(h: Hart, hx: HState): void {
  h.reservation = -1;
  if (h.virt !== 0) {
    const spp: Priv = (hx.vsstatus & MSTATUS.SPP) !== 0 ? 1 : 0;
    hx.vsstatus = leaveS(hx.vsstatus);
    h.pc = hx.vsepc >>> 0;
    h.setPriv(spp);
    return;
  }
  const spp: Priv = (h.mstatus & MSTATUS.SPP) !== 0 ? 1 : 0;
  h.mstatus = leaveS(h.mstatus) & ~MSTATUS.MPRV;
  const spv = (hx.hstatus & HSTATUS.SPV) !== 0 ? 1 : 0;
  hx.hstatus &= ~HSTATUS.SPV;
  h.pc = h.sepc >>> 0;
  setVirt(h, spv);
  h.setPriv(spp);
}

/** The highest-priority interrupt that is pending, enabled and takeable now, or -1 (3.1.9, 8.4.1). */
export function hPendingInterrupt(h: Hart, hx: HState): number {
  const pending = h.mip & h.mie;
  if (pending === 0) return -1;
  const mideleg = h.mideleg | VS_IRQS;
  const mOn = h.priv < 3 || (h.mstatus & MSTATUS.MIE) !== 0;
  // HS-level interrupts are always on below HS, i.e. in U and whenever V=1.
  const hsOn = h.priv === 0 || h.virt !== 0 || (h.priv === 1 && (h.mstatus & MSTATUS.SIE) !== 0);
  const vsOn = h.virt !== 0 && (h.priv === 0 || (hx.vsstatus & MSTATUS.SIE) !== 0);
  const toM = mOn ? pending & ~mideleg : 0;
  const toHS = hsOn && h.priv !== 3 ? pending & mideleg & ~hx.hideleg : 0;
  const toVS = vsOn ? pending & mideleg & hx.hideleg : 0;
  const ready = toM | toHS | toVS;
  if (ready === 0) return -1;
  for (const irq of PRIORITY) if ((ready >> irq) & 1) return irq;
  return -1;
}

/** The VS-level pending bits for mip (hvip and the VS timer). */
export function hPendingBits(h: Hart, hx: HState, now: number): number {
  return vsPending(h, hx, now);
}

/** The mtime at which the VS timer starts to fire (vstimecmp - htimedelta), or +Infinity. */
export function hDeadline(h: Hart, hx: HState, onlyEnabled: boolean): number {
  if (!h.stce || !hx.vstce) return Number.POSITIVE_INFINITY;
  if (onlyEnabled && ((h.mie >> IRQ.VSTI) & 1) === 0) return Number.POSITIVE_INFINITY;
  const at = hx.vstimecmp - hx.timeDelta;
  return at > h.mtime ? at : Number.POSITIVE_INFINITY;
}

/**
 * sret, wfi and sfence.vma at V=1 (8.6.1): raise the virtual-instruction
 * exception where the spec says so (VU always; VS when hstatus.VTSR, VTW or
 * VTVM asks), or illegal instruction where mstatus.TW does. Returns true when
 * it raised one; sfence.vma in VS is performed here as a fence of the guest's
 * translations.
 */
export function hVirtualSystem(
  h: Hart,
  hx: HState,
  name: "sret" | "wfi" | "sfence.vma",
  word: number,
  hasAddr: boolean,
  vaddr: number,
  hasAsid: boolean,
  asid: number,
): boolean {
  const vs = h.priv === 1;
  let cause = 0;
  if (name === "wfi" && (h.mstatus & MSTATUS.TW) !== 0) cause = CAUSE.ILLEGAL_INSTRUCTION;
  else if (!vs) cause = CAUSE.VIRTUAL_INSTRUCTION;
  else if (name === "sret" && (hx.hstatus & HSTATUS.VTSR) !== 0) cause = CAUSE.VIRTUAL_INSTRUCTION;
  else if (name === "wfi" && (hx.hstatus & HSTATUS.VTW) !== 0) cause = CAUSE.VIRTUAL_INSTRUCTION;
  else if (name === "sfence.vma" && (hx.hstatus & HSTATUS.VTVM) !== 0) cause = CAUSE.VIRTUAL_INSTRUCTION;
  if (cause !== 0) {
    h.exception(cause, word);
    return true;
  }
  if (name === "sfence.vma") {
    fenceGuest(h, hx, hasAddr, vaddr, hasAsid, asid);
    return true;
  }
  return false;
}

/** sfence.vma in VS / hfence.vvma: the translations of the current VMID. Returns how many entries it dropped. */
export function fenceGuest(
  h: Hart,
  hx: HState,
  hasAddr: boolean,
  vaddr: number,
  hasAsid: boolean,
  asid: number,
): number {
  let dropped = 0;
  for (const tlb of h.itlb === h.dtlb ? [h.itlb] : [h.itlb, h.dtlb]) {
    const before = tlb.counters.entriesFlushed;
    tlb.selectSpace(hx.space);
    tlb.flush(hasAddr, vaddr, hasAsid, asid);
    tlb.selectSpace(0);
    dropped += tlb.counters.entriesFlushed - before;
  }
  h.invalidateMemos();
  return dropped;
}
