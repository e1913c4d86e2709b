/**
 * A guest stuck faulting: the same exception (cause, pc and tval) raised
 * again and again with no instruction retired in between, e.g. an entry
 * point or trap vector that maps nothing (the fetch fault's handler is
 * itself unfetchable). Such a guest makes no progress and would spend any
 * budget; after FAULT_LOOP_LIMIT identical faults in a row the run stops
 * with reason "stuck". Any retired instruction, or a different fault,
 * starts the count again, so a handler that fixes the fault (demand paging,
 * a hypervisor filling a shadow) never trips it.
 */

/** Identical faults in a row, with no instruction retired between them, that stop a run as "stuck". */
export const FAULT_LOOP_LIMIT = 1000;

export class FaultLoop {
  /** The fault being repeated, and how many times in a row. */
  pc = -1;
  cause = -1;
  tval = -1;
  count = 0;
  private instret = -1;

  /** Record an exception about to be taken; true when it makes FAULT_LOOP_LIMIT identical ones in a row. */
  stuck(pc: number, cause: number, tval: number, instret: number): boolean {
    if (pc === this.pc && cause === this.cause && tval === this.tval && instret === this.instret) {
      return ++this.count >= FAULT_LOOP_LIMIT;
    }
    this.pc = pc;
    this.cause = cause;
    this.tval = tval;
    this.instret = instret;
    this.count = 1;
    return false;
  }

  /** One line saying which fault repeats, for the CLIs. */
  describe(causeName: (cause: number) => string): string {
    const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
    return `${this.count} identical faults in a row without progress: ${causeName(this.cause)} at pc ${hex(this.pc)} (tval ${hex(this.tval)})`;
  }
}
