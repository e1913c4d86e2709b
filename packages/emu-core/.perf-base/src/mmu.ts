/**
 * Sv32 page walker and permission check (privileged spec 1.12, section 4.3).
 * The TLB fast path lives inline in hart.ts; this is the slow path taken on a
 * miss, written as a plain function over RAM so it allocates nothing.
 */
import { CAUSE } from "./csr.ts";
import { PTE } from "./tlb.ts";

export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;
export type Access = 0 | 1 | 2;

const PAGE_FAULT = [CAUSE.FETCH_PAGE_FAULT, CAUSE.LOAD_PAGE_FAULT, CAUSE.STORE_PAGE_FAULT] as const;
const ACCESS_FAULT = [CAUSE.FETCH_ACCESS, CAUSE.LOAD_ACCESS, CAUSE.STORE_ACCESS] as const;

export function pageFaultCause(access: Access): number {
  return PAGE_FAULT[access];
}
export function accessFaultCause(access: Access): number {
  return ACCESS_FAULT[access];
}

export interface WalkCounters {
  walks: number;
  /** Walks that ended (leaf or fault) at level 1 / level 0. */
  endedLevel1: number;
  endedLevel0: number;
  /** Successful walks by the size of the page they found. */
  pages4K: number;
  pages4M: number;
  faults: number;
  /** PTE reads and A/D write-backs made by walks. */
  memRefs: number;
  /** PTE write-backs that set A and/or D. */
  adUpdates: number;
}

export function newWalkCounters(): WalkCounters {
  return {
    walks: 0,
    endedLevel1: 0,
    endedLevel0: 0,
    pages4K: 0,
    pages4M: 0,
    faults: 0,
    memRefs: 0,
    adUpdates: 0,
  };
}

/**
 * Whether leaf PTE flags permit an access at an effective privilege
 * (0 = U, 1 = S). SUM lets S-mode load/store U pages (never fetch); MXR makes
 * executable pages readable (4.3.1).
 */
export function permits(flags: number, access: Access, priv: number, sum: boolean, mxr: boolean): boolean {
  if ((flags & PTE.U) !== 0) {
    if (priv === 1 && (access === ACCESS_FETCH || !sum)) return false;
  } else if (priv === 0) {
    return false;
  }
  if (access === ACCESS_FETCH) return (flags & PTE.X) !== 0;
  if (access === ACCESS_LOAD) return (flags & PTE.R) !== 0 || (mxr && (flags & PTE.X) !== 0);
  return (flags & PTE.W) !== 0;
}

/** Result slots of a walk; one instance per hart, reused. */
export class WalkResult {
  /** PPN of the 4 KiB page containing the address. */
  ppn = 0;
  /** Leaf PTE bits 7:0 after A/D update. */
  flags = 0;
  mega = false;
}

/** Physical memory the walker may read: RAM only (PTEs elsewhere give access faults). */
export interface WalkMemory {
  readonly ram32: Int32Array;
  readonly ramBase: number;
  readonly ramSize: number;
}

/**
 * Walk the Sv32 table rooted at `rootPpn` for `vaddr` (algorithm of 4.3.2).
 * Returns 0 on success (result in `out`) or the exception cause. A and D are
 * set in memory as the hardware walker does (the Svadu behaviour the spec
 * allows), with the write-back counted as a memory reference.
 */
export function walk(
  mem: WalkMemory,
  rootPpn: number,
  vaddr: number,
  access: Access,
  priv: number,
  sum: boolean,
  mxr: boolean,
  c: WalkCounters,
  out: WalkResult,
): number {
  c.walks++;
  let table = rootPpn * 4096;
  for (let level = 1; level >= 0; level--) {
    const vpnPart = level === 1 ? vaddr >>> 22 : (vaddr >>> 12) & 0x3ff;
    const pteAddr = table + vpnPart * 4;
    const off = pteAddr - mem.ramBase;
    c.memRefs++;
    if (off < 0 || off >= mem.ramSize) return endWalk(c, level, ACCESS_FAULT[access]);
    let pte = mem.ram32[off >>> 2];
    if ((pte & PTE.V) === 0 || ((pte & PTE.R) === 0 && (pte & PTE.W) !== 0)) {
      return endWalk(c, level, PAGE_FAULT[access]);
    }
    const ppn = pte >>> 10;
    if ((pte & (PTE.R | PTE.X)) === 0) {
      table = ppn * 4096; // pointer to the next level
      continue;
    }
    if (!permits(pte, access, priv, sum, mxr)) return endWalk(c, level, PAGE_FAULT[access]);
    if (level === 1 && (ppn & 0x3ff) !== 0) return endWalk(c, level, PAGE_FAULT[access]); // misaligned megapage
    const want = PTE.A | (access === ACCESS_STORE ? PTE.D : 0);
    if ((pte & want) !== want) {
      pte |= want;
      mem.ram32[off >>> 2] = pte;
      c.memRefs++;
      c.adUpdates++;
    }
    out.ppn = level === 1 ? ppn | ((vaddr >>> 12) & 0x3ff) : ppn;
    out.flags = pte & 0xff;
    out.mega = level === 1;
    if (level === 1) {
      c.endedLevel1++;
      c.pages4M++;
    } else {
      c.endedLevel0++;
      c.pages4K++;
    }
    return 0;
  }
  return endWalk(c, 0, PAGE_FAULT[access]); // non-leaf at level 0
}

function endWalk(c: WalkCounters, level: number, cause: number): number {
  if (level === 1) c.endedLevel1++;
  else c.endedLevel0++;
  c.faults++;
  return cause;
}

/**
 * Translate without side effects (no counters, no A/D update, no permission
 * check): for debuggers, traces and tools. Returns the physical address or -1.
 */
export function peekWalk(mem: WalkMemory, rootPpn: number, vaddr: number): number {
  let table = rootPpn * 4096;
  for (let level = 1; level >= 0; level--) {
    const vpnPart = level === 1 ? vaddr >>> 22 : (vaddr >>> 12) & 0x3ff;
    const off = table + vpnPart * 4 - mem.ramBase;
    if (off < 0 || off >= mem.ramSize) return -1;
    const pte = mem.ram32[off >>> 2];
    if ((pte & PTE.V) === 0) return -1;
    const ppn = pte >>> 10;
    if ((pte & (PTE.R | PTE.X)) !== 0) {
      const page = level === 1 ? (ppn & ~0x3ff) | ((vaddr >>> 12) & 0x3ff) : ppn;
      return page * 4096 + (vaddr & 0xfff);
    }
    table = ppn * 4096;
  }
  return -1;
}
