/**
 * The machine's Sv32 translation (privileged spec 1.12, section 4.3) over the
 * one walker of walker.ts. The TLB fast path lives inline in hart.ts; this is
 * the slow path taken on a miss.
 */

import { PTE } from "./tlb.ts";
import { type Access, RamPteMemory, SV32, type WalkCounters, type WalkResult, walkTable } from "./walker.ts";

export {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  type Access,
  accessFaultCause,
  guestPageFaultCause,
  newWalkCounters,
  type PagingScheme,
  type PteMemory,
  pageFaultCause,
  permits,
  RamPteMemory,
  SV32,
  SV32X4,
  type WalkCounters,
  WalkResult,
  walkTable,
} from "./walker.ts";

/** Physical memory the walker may read: RAM only (PTEs elsewhere give access faults). */
export interface WalkMemory {
  readonly ram32: Int32Array;
  readonly ramBase: number;
  readonly ramSize: number;
  /** Told of the walker's A/D write-backs (checkpoints restore written pages). */
  readonly dirtyPages: { mark(page: number): void };
}

/**
 * The machine's Sv32 walk of the table rooted at `rootPpn` for `vaddr`: the
 * one walker (walker.ts) over RAM, updating A and D. Returns 0 on success
 * (result in `out`) or the exception cause.
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
  return walkTable(SV32, ramPtes(mem), rootPpn, vaddr, access, priv, sum, mxr, true, c, out);
}

const ptesOf = new WeakMap<WalkMemory, RamPteMemory>();
/** The PTE accessor of a RAM, made once per RAM. */
export function ramPtes(mem: WalkMemory): RamPteMemory {
  let p = ptesOf.get(mem);
  if (p === undefined) {
    p = new RamPteMemory(mem.ram32, mem.ramBase, mem.ramSize, mem.dirtyPages);
    ptesOf.set(mem, p);
  }
  return p;
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
