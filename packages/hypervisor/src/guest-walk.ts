/**
 * The guest's Sv32 page walk, done in software on guest-physical memory
 * (privileged spec 4.3.2, the same algorithm as the machine's walker), for
 * the view of a pretend privilege. It sets the guest's A and D bits exactly
 * when the hardware walker would, because the guest may read them.
 */
import {
  type Access,
  accessFaultCause,
  newWalkCounters,
  PTE,
  type PteMemory,
  SV32,
  WalkResult,
  walkTable,
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

/** The guest's PTEs, read and written in guest-physical memory. */
class GuestPtes implements PteMemory {
  cause = 0;
  mem: GuestMemory | undefined;

  readPte(gpa: number, access: Access): number {
    const mem = this.mem as GuestMemory;
    if (!mem.isRam(gpa)) {
      this.cause = accessFaultCause(access);
      return -1;
    }
    return mem.read32(gpa) >>> 0;
  }

  writePte(gpa: number, pte: number): void {
    this.mem?.write32(gpa, pte);
  }
}

const ptes = new GuestPtes();
const result = new WalkResult();
/** The hypervisor's software walks are not machine references: their counts stay here, unreported. */
const uncounted = newWalkCounters();

/**
 * Walk guest satp's table for `va` with the one walker (emu-core walker.ts).
 * Returns 0 on success (result in `out`), else the exception cause the guest
 * must see. With `update`, A (and D for a store) are written back into the
 * guest PTE as hardware does.
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
  ptes.mem = mem;
  const cause = walkTable(
    SV32,
    ptes,
    satp & 0x3fffff,
    va,
    access,
    view.priv,
    view.sum,
    view.mxr,
    update,
    uncounted,
    result,
  );
  out.rootPteAddr = result.rootPteAddr;
  if (cause !== 0) return cause;
  out.gppn = result.ppn;
  out.flags = result.flags;
  out.pteAddr = result.pteAddr;
  out.mega = result.mega;
  return 0;
}
