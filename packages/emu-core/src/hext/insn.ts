/**
 * The H extension's instructions (privileged spec 1.12, 8.3): hfence.vvma,
 * hfence.gvma, and the hypervisor virtual-machine loads and stores
 * (hlv, hlvx, hsv), which access memory as the guest would at privilege
 * hstatus.SPVP through vsatp and hgatp.
 */
import { CAUSE, MSTATUS } from "../csr.ts";
import type { Hart } from "../hart.ts";
import { specByOp } from "../isa/table.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, type Access } from "../walker.ts";
import { HSTATUS, HState } from "./state.ts";
import { translateTwoStage } from "./translate.ts";
import { fenceGuest } from "./trap.ts";

/** width, signed, access kind (hlvx checks execute permission) by mnemonic. */
const ACCESSES: Readonly<Record<string, readonly [1 | 2 | 4, boolean, "load" | "exec" | "store"]>> = {
  "hlv.b": [1, true, "load"],
  "hlv.bu": [1, false, "load"],
  "hlv.h": [2, true, "load"],
  "hlv.hu": [2, false, "load"],
  "hlvx.hu": [2, false, "exec"],
  "hlv.w": [4, true, "load"],
  "hlvx.wu": [4, false, "exec"],
  "hsv.b": [1, false, "store"],
  "hsv.h": [2, false, "store"],
  "hsv.w": [4, false, "store"],
};

/** hlvx checks execute permission but faults as a load. */
const AS_LOAD: Readonly<Record<number, number>> = {
  [CAUSE.FETCH_ACCESS]: CAUSE.LOAD_ACCESS,
  [CAUSE.FETCH_PAGE_FAULT]: CAUSE.LOAD_PAGE_FAULT,
  [CAUSE.FETCH_GUEST_PAGE_FAULT]: CAUSE.LOAD_GUEST_PAGE_FAULT,
};

/**
 * Execute an H instruction (op id of the ISA table) at the hart's pc; raises
 * its exception itself. `word` is the instruction, for tval.
 */
export function hInstruction(
  h: Hart,
  hx: HState,
  op: number,
  rd: number,
  rs1: number,
  rs2: number,
  word: number,
): void {
  const name = specByOp(op)?.name ?? "";
  // From V=1 every H instruction is the hypervisor's: virtual instruction. From U, only
  // hlv/hsv with hstatus.HU; hfence.gvma from HS obeys mstatus.TVM.
  if (h.virt !== 0) {
    h.exception(CAUSE.VIRTUAL_INSTRUCTION, word);
    return;
  }
  const isFence = name.startsWith("hfence");
  if (h.priv === 0 && (isFence || (hx.hstatus & HSTATUS.HU) === 0)) {
    h.exception(CAUSE.ILLEGAL_INSTRUCTION, word);
    return;
  }
  const x = h.x;
  if (name === "hfence.vvma") {
    const c = hx.hfence;
    if (rs1 !== 0 && rs2 !== 0) c.vvmaAddrAsid++;
    else if (rs1 !== 0) c.vvmaAddr++;
    else if (rs2 !== 0) c.vvmaAsid++;
    else c.vvmaAll++;
    c.entriesFlushed += fenceGuest(
      h,
      hx,
      rs1 !== 0,
      x[rs1],
      rs2 !== 0,
      x[rs2] & ((1 << h.config.asidBits) - 1),
    );
    return;
  }
  if (name === "hfence.gvma") {
    if (h.priv === 1 && (h.mstatus & MSTATUS.TVM) !== 0) {
      h.exception(CAUSE.ILLEGAL_INSTRUCTION, word);
      return;
    }
    fenceGstage(h, hx, rs1 !== 0, rs2 !== 0 ? x[rs2] & 0x7f : undefined);
    return;
  }
  const a = ACCESSES[name];
  if (a === undefined) return;
  const [width, signed, kind] = a;
  const va = x[rs1] >>> 0;
  if ((va & (width - 1)) !== 0) {
    hx.faultVirt = true; // tval is a guest-virtual address
    h.exception(kind === "store" ? CAUSE.MISALIGNED_STORE : CAUSE.MISALIGNED_LOAD, va);
    return;
  }
  const access: Access = kind === "store" ? ACCESS_STORE : kind === "exec" ? ACCESS_FETCH : ACCESS_LOAD;
  hx.hlvPriv = (hx.hstatus & HSTATUS.SPVP) !== 0 ? 1 : 0;
  const ppn = translateTwoStage(h, hx, h.dtlb, va, access);
  hx.hlvPriv = -1;
  if (ppn < 0) {
    // hlvx faults are load faults (8.3: "as though a load").
    h.exception(access === ACCESS_FETCH ? (AS_LOAD[hx.cause] ?? hx.cause) : hx.cause, va);
    return;
  }
  const pa = ppn * 4096 + (va & 0xfff);
  if (kind === "store") {
    const v = x[rs2];
    if (!h.writePhys(pa, width, width === 4 ? v >>> 0 : v & (width === 2 ? 0xffff : 0xff))) {
      hx.faultVirt = true;
      h.exception(CAUSE.STORE_ACCESS, va);
    }
    return;
  }
  const raw = h.readPhys(pa, width);
  if (raw === undefined) {
    hx.faultVirt = true;
    h.exception(CAUSE.LOAD_ACCESS, va);
    return;
  }
  const shift = 32 - width * 8;
  x[rd] = width === 4 ? raw | 0 : signed ? (raw << shift) >> shift : raw;
}

/** hfence.gvma: the TLB holds combined translations, so any G-stage fence drops the VMID's (or every guest's) entries. */
function fenceGstage(h: Hart, hx: HState, hasAddr: boolean, vmid: number | undefined): void {
  const c = hx.hfence;
  if (hasAddr && vmid !== undefined) c.gvmaAddrVmid++;
  else if (hasAddr) c.gvmaAddr++;
  else if (vmid !== undefined) c.gvmaVmid++;
  else c.gvmaAll++;
  // Both the VMID's VS-stage translations and its G-stage-only ones (vsatp Bare) hold G-stage results.
  for (const space of vmid === undefined ? [undefined] : HState.spacesOf(vmid)) {
    c.entriesFlushed += h.itlb.flushGuest(space);
    if (h.dtlb !== h.itlb) c.entriesFlushed += h.dtlb.flushGuest(space);
  }
  h.invalidateMemos();
}
