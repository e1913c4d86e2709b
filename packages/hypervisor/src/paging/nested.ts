/**
 * nested: two-dimensional paging with the hardware's G-stage (H extension,
 * hw mode only). The guest owns vsatp and edits its own page tables with no
 * exits; its satp writes, sfence.vma and page faults never leave the guest.
 * The hypervisor keeps one G-stage table per guest (guest-physical to
 * machine), filled one page at a time on guest-page faults, under one VMID
 * per guest. A TLB miss costs the 2D walk instead: 8 references for Sv32
 * over Sv32x4 where a native walk makes 2.
 */
import { ACCESS_FETCH, accessFaultCause, type ObjectState, restoreState } from "@shadowlab/emu-core";
import { counterId } from "../counters.ts";
import { GStageTable } from "../gstage-table.ts";
import type { ShadowCore } from "../shadow-core.ts";
import {
  type ExecutionMode,
  FAULT,
  type Fault,
  type FaultOutcome,
  type NestedStrategy,
  strategyCheckpoint,
} from "./strategy.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const NESTED_FILL = counterId("nested.fill");

export class Nested implements NestedStrategy {
  readonly name = "nested";
  readonly kind = "nested";
  /** The G-stage is hardware's: hw mode only. */
  static readonly modes: readonly ExecutionMode[] = ["hw"];
  readonly modes = Nested.modes;
  private table: GStageTable | undefined;

  constructor(private readonly core: ShadowCore) {}

  private gstage(): GStageTable {
    this.table ??= new GStageTable(this.core.hart, this.core.pages, this.core.gstageRoot());
    return this.table;
  }

  hgatp(): number {
    return (0x8000_0000 | (this.core.vmid << 22) | this.gstage().rootPpn) >>> 0;
  }

  onFault(fault: Fault): FaultOutcome {
    const { gpa, access } = fault;
    const core = this.core;
    if (core.memory.isRam(gpa)) {
      this.gstage().map(gpa, core.memory.machinePpn(gpa));
      core.counters.bump(NESTED_FILL);
      return FAULT.FILLED;
    }
    // A page-table walk reads RAM only: a PTE elsewhere, even on a device, is an access fault natively.
    if (!fault.implicit && access !== ACCESS_FETCH && core.device(gpa)) {
      core.lastGpa = gpa;
      return FAULT.MMIO;
    }
    core.lastCause = accessFaultCause(access); // nothing at that guest-physical address, as natively
    return FAULT.REFLECT;
  }

  checkpoint(): ObjectState {
    return strategyCheckpoint(this, this.core);
  }

  restore(state: ObjectState): void {
    restoreState(state);
  }

  dispose(): void {
    this.table?.destroy();
  }
}
