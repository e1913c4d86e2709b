/**
 * The one page-table walker of the lab (privileged spec 1.12, 4.3.2, with the
 * G-stage changes of 8.5.1), parameterised the way KVM's paging_tmpl.h and
 * Spike's walk()/s2xlate are:
 *
 * - the scheme: Sv32 (two levels, 4 KiB root) or Sv32x4 (the G-stage: two
 *   levels, a 16 KiB root whose index takes two more address bits, so guest
 *   physical addresses have 34 bits; its faults are guest-page faults);
 * - the policy of the access: effective privilege (the G-stage checks every
 *   access as a user access, so its leaves need U), SUM, MXR, and whether A
 *   and D are written back (the hardware walker does, software peeks do not);
 * - the PTE memory: a callback reads (and writes back) each PTE. The machine
 *   passes RAM; a two-stage walk passes an accessor that first translates
 *   each VS-stage PTE address through the G-stage; the hypervisor passes the
 *   guest's physical memory.
 *
 * It allocates nothing: the result goes into a caller-owned WalkResult.
 */
import { CAUSE } from "./csr.ts";
import { PTE } from "./tlb.ts";

export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;
export type Access = 0 | 1 | 2;

const PAGE_FAULT = [CAUSE.FETCH_PAGE_FAULT, CAUSE.LOAD_PAGE_FAULT, CAUSE.STORE_PAGE_FAULT] as const;
const ACCESS_FAULT = [CAUSE.FETCH_ACCESS, CAUSE.LOAD_ACCESS, CAUSE.STORE_ACCESS] as const;
/** Guest-page faults (H extension, table 8.7): instruction 20, load 21, store/AMO 23. */
const GUEST_PAGE_FAULT = [20, 21, 23] as const;

export function pageFaultCause(access: Access): number {
  return PAGE_FAULT[access];
}
export function accessFaultCause(access: Access): number {
  return ACCESS_FAULT[access];
}
export function guestPageFaultCause(access: Access): number {
  return GUEST_PAGE_FAULT[access];
}

/** A translation scheme: the shape of its tables and the faults it raises. */
export interface PagingScheme {
  readonly name: string;
  /** Width of the level-1 index: 10 (Sv32, 4 KiB root) or 12 (Sv32x4, 16 KiB root). */
  readonly rootIndexBits: 10 | 12;
  /** The page-fault cause by access type. */
  readonly pageFault: readonly [number, number, number];
}

export const SV32: PagingScheme = { name: "Sv32", rootIndexBits: 10, pageFault: PAGE_FAULT };
export const SV32X4: PagingScheme = { name: "Sv32x4", rootIndexBits: 12, pageFault: GUEST_PAGE_FAULT };

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

/** Result slots of a walk; one instance per user, reused. */
export class WalkResult {
  /** PPN of the 4 KiB page containing the address (in the scheme's output space). */
  ppn = 0;
  /** Leaf PTE bits 7:0 after A/D update. */
  flags = 0;
  mega = false;
  /** Address of the leaf PTE (in the scheme's input physical space). */
  pteAddr = -1;
  /** Address of the level-1 PTE consulted. */
  rootPteAddr = -1;
}

/**
 * Where a walk reads its PTEs. `readPte` returns the PTE as an unsigned
 * 32-bit number, or a negative number when it cannot: -1 when the read
 * reached the bus and failed (an access fault, the reference counts), -2
 * when it stopped before memory (a G-stage fault on the PTE's address).
 * Either way `cause` holds the exception the walk ends with.
 */
export interface PteMemory {
  readPte(addr: number, access: Access): number;
  writePte(addr: number, pte: number): void;
  cause: number;
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

const TWO22 = 4194304;

/**
 * Walk the table rooted at `rootPpn` for `addr` (algorithm of 4.3.2).
 * Returns 0 on success (result in `out`) or the exception cause. With
 * `updateAD`, A and D are set in memory as the hardware walker does (the
 * Svadu behaviour the spec allows), the write-back counted as a reference.
 */
export function walkTable(
  scheme: PagingScheme,
  mem: PteMemory,
  rootPpn: number,
  addr: number,
  access: Access,
  priv: number,
  sum: boolean,
  mxr: boolean,
  updateAD: boolean,
  c: WalkCounters,
  out: WalkResult,
): number {
  c.walks++;
  let table = rootPpn * 4096;
  for (let level = 1; level >= 0; level--) {
    const index =
      level === 0
        ? (addr >>> 12) & 0x3ff
        : scheme.rootIndexBits === 10
          ? addr >>> 22
          : Math.floor(addr / TWO22) & 0xfff;
    const pteAddr = table + index * 4;
    if (level === 1) out.rootPteAddr = pteAddr;
    c.memRefs++;
    let pte = mem.readPte(pteAddr, access);
    if (pte < 0) {
      if (pte === -2) c.memRefs--;
      return endWalk(c, level, mem.cause);
    }
    if ((pte & PTE.V) === 0 || ((pte & PTE.R) === 0 && (pte & PTE.W) !== 0)) {
      return endWalk(c, level, scheme.pageFault[access]);
    }
    const ppn = pte >>> 10;
    if ((pte & (PTE.R | PTE.X)) === 0) {
      table = ppn * 4096; // pointer to the next level
      continue;
    }
    if (!permits(pte, access, priv, sum, mxr)) return endWalk(c, level, scheme.pageFault[access]);
    if (level === 1 && (ppn & 0x3ff) !== 0) return endWalk(c, level, scheme.pageFault[access]); // misaligned megapage
    const want = PTE.A | (access === ACCESS_STORE ? PTE.D : 0);
    if (updateAD && (pte & want) !== want) {
      pte = (pte | want) >>> 0;
      mem.writePte(pteAddr, pte);
      c.memRefs++;
      c.adUpdates++;
    }
    out.ppn = level === 1 ? ppn | ((addr >>> 12) & 0x3ff) : ppn;
    out.flags = pte & 0xff;
    out.mega = level === 1;
    out.pteAddr = pteAddr;
    if (level === 1) {
      c.endedLevel1++;
      c.pages4M++;
    } else {
      c.endedLevel0++;
      c.pages4K++;
    }
    return 0;
  }
  return endWalk(c, 0, scheme.pageFault[access]); // non-leaf at level 0
}

function endWalk(c: WalkCounters, level: number, cause: number): number {
  if (level === 1) c.endedLevel1++;
  else c.endedLevel0++;
  c.faults++;
  return cause;
}

/**
 * PTEs in the machine's RAM, addressed physically: what the Sv32 walk of a
 * hart and the G-stage walk read. PTEs outside RAM give access faults.
 */
export class RamPteMemory implements PteMemory {
  cause = 0;
  constructor(
    private readonly ram32: Int32Array,
    private readonly ramBase: number,
    private readonly ramSize: number,
    /** Told of A/D write-backs (checkpoints restore the pages written since). */
    private readonly dirty: { mark(page: number): void },
  ) {}

  readPte(addr: number, access: Access): number {
    const off = addr - this.ramBase;
    if (off < 0 || off >= this.ramSize) {
      this.cause = ACCESS_FAULT[access];
      return -1;
    }
    return this.ram32[off >>> 2] >>> 0;
  }

  writePte(addr: number, pte: number): void {
    const off = addr - this.ramBase;
    this.ram32[off >>> 2] = pte;
    this.dirty.mark(off >>> 12);
  }
}
