/**
 * The hypervisor's part of a machine checkpoint: the whole monitor — vCPUs,
 * guest memory maps, the machine-page allocator, the ASID allocator, guest
 * devices, counters, guests' registers and state — captured from the
 * objects the Hypervisor reaches (object-state.ts of emu-core), and each
 * guest's paging strategy through its own `checkpoint()`/`restore()`.
 *
 * Shadow page tables live in machine RAM, which the machine's checkpoint
 * restores page by page; what is restored here is the TypeScript side that
 * must agree with them (which tables exist, reverse maps, write-protect
 * sets, caches in LRU order).
 */
import {
  type CheckpointParticipant,
  captureState,
  type ObjectState,
  restoreState,
} from "@shadowlab/emu-core";
import type { Guest } from "./guest.ts";
import type { Hypervisor } from "./monitor.ts";
import type { PagingStrategy } from "./paging/strategy.ts";

interface MonitorState {
  readonly monitor: ObjectState;
  /** The strategies of the guests at the checkpoint, and their states. */
  readonly strategies: readonly PagingStrategy[];
  readonly strategyStates: readonly unknown[];
}

export class MonitorCheckpoint implements CheckpointParticipant {
  constructor(private readonly hv: Hypervisor) {}

  checkpoint(): MonitorState {
    const hv = this.hv;
    const strategies = hv.guests.map((g: Guest) => g.strategy);
    // The machine and its hart checkpoint themselves; each strategy checkpoints itself.
    const skip = new Set<object>([hv.machine, hv.hart, ...strategies]);
    return {
      monitor: captureState([hv], skip),
      strategies,
      strategyStates: strategies.map((s) => s.checkpoint()),
    };
  }

  restore(state: unknown): void {
    const s = state as MonitorState;
    restoreState(s.monitor);
    for (let i = 0; i < s.strategies.length; i++) s.strategies[i].restore(s.strategyStates[i]);
  }
}
