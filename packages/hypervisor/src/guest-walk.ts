/**
 * The guest's Sv32 page walk, done in software on guest-physical memory
 * (privileged spec 4.3.2, the same algorithm as the machine's walker), for
 * the view of a pretend privilege. It sets the guest's A and D bits exactly
 * when the hardware walker would, because the guest may read them.
 */
import {
  ACCESS_STORE,
  type Access,
  accessFaultCause,
  PTE,
  pageFaultCause,
  permits,
} from "@shadowlab/emu-core";
import type { GuestMemory } from "./guest-memory.ts";

/** What the guest believes about translation when it makes an access. */
export interface GuestView {
  /** Pretend privilege: 1 = S, 0 = U. */
  readonly priv: 0 | 1;
  readonly sum: boolean;
  readonly mxr: boolean;
}

export class GuestWalkResult {
  /** Guest-physical page number of the 4 KiB page containing the address. */
  gppn = 0;
  /** Leaf PTE bits 7:0 after the A/D update (V/R/W/X/A/D when translation is bare). */
  flags = 0;
  /** Guest-physical address of the leaf PTE, -1 when translation is bare. */
  pteAddr = -1;
  /** Guest-physical address of the level-1 PTE consulted (the root table entry), -1 when bare. */
  rootPteAddr = -1;
  mega = false;
}

const BARE_FLAGS = PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D;

/**
 * Walk guest satp's table for `va`. Returns 0 on success (result in `out`),
 * else the exception cause the guest must see. With `update`, A (and D for a
 * store) are written back into the guest PTE as hardware does.
 */
export function guestWalk(
  mem: GuestMemory,
  satp: number,
  va: number,
  access: Access,
  view: GuestView,
  update: boolean,
  out: GuestWalkResult,
): number {
  if (satp >= 0) {
    out.gppn = va >>> 12;
    out.flags = BARE_FLAGS;
    out.pteAddr = -1;
    out.rootPteAddr = -1;
    out.mega = false;
    return 0;
  }
  let table = (satp & 0x3fffff) * 4096;
  for (let level = 1; level >= 0; level--) {
    const index = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const pteAddr = table + index * 4;
    if (level === 1) out.rootPteAddr = pteAddr;
    if (!mem.isRam(pteAddr)) return accessFaultCause(access);
    let pte = mem.read32(pteAddr);
    if ((pte & PTE.V) === 0 || ((pte & PTE.R) === 0 && (pte & PTE.W) !== 0)) return pageFaultCause(access);
    const ppn = pte >>> 10;
    if ((pte & (PTE.R | PTE.X)) === 0) {
      table = ppn * 4096;
      continue;
    }
    if (!permits(pte, access, view.priv, view.sum, view.mxr)) return pageFaultCause(access);
    if (level === 1 && (ppn & 0x3ff) !== 0) return pageFaultCause(access);
    const want = PTE.A | (access === ACCESS_STORE ? PTE.D : 0);
    if (update && (pte & want) !== want) {
      pte |= want;
      mem.write32(pteAddr, pte);
    }
    out.gppn = level === 1 ? ppn | ((va >>> 12) & 0x3ff) : ppn;
    out.flags = pte & 0xff;
    out.pteAddr = pteAddr;
    out.mega = level === 1;
    return 0;
  }
  return pageFaultCause(access);
}
