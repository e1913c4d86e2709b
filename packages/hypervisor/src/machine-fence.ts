/**
 * The monitor's TLB fences. In trap mode guests run at V=0, so a fence is an
 * sfence.vma of the machine; in hw mode they run at V=1 and the fence is the
 * hfence.vvma of the current VMID (the space the shadow in vsatp fills).
 */
import { fenceGuest, type Hart } from "@shadowlab/emu-core";

export function machineFence(hart: Hart, hasAddr: boolean, va: number, hasAsid: boolean, asid: number): void {
  if (hart.hx !== undefined) fenceGuest(hart, hart.hx, hasAddr, va, hasAsid, asid);
  else hart.sfence(hasAddr, va, hasAsid, asid);
}
