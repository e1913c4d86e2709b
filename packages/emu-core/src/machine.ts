/**
 * The board: one hart, RAM and the devices of QEMU's `virt` machine at their
 * addresses, plus the HTIF tohost convention of the official RISC-V test
 * suites for images that define `tohost`. The run API lives here.
 */
import { type Checkpoint, type CheckpointParticipant, Checkpoints } from "./checkpoint.ts";
import { Clint } from "./devices/clint.ts";
import { SifiveTest } from "./devices/sifive-test.ts";
import { Uart16550 } from "./devices/uart16550.ts";
import { DEFAULT_HART, Hart, type HartConfig, type MachineTrapHandler, type StopReason } from "./hart.ts";
import { hextSnapshot } from "./hext/state.ts";
import type { Image } from "./image.ts";
import { type BusRegion, placeImage } from "./image-placement.ts";
import { measuredRoi, type Roi, type RoiKind, type RoiMark, roiRegions } from "./roi.ts";
import { diffStats, type StatsSnapshot, trapSnapshot } from "./stats.ts";
import type { TlbCounters } from "./tlb.ts";

export type MachineConfig = HartConfig;
export const DEFAULT_MACHINE: MachineConfig = DEFAULT_HART;

export interface RunOptions {
  /** Stop after this many instructions (faulting ones included). Default: unlimited. */
  maxInstructions?: number;
  /** Checked between slices of `slice` instructions; true stops the run with reason "stop". */
  until?: (m: Machine) => boolean;
  /** Instructions per slice between `until` checks (default 65536). */
  slice?: number;
  /**
   * Keep the last N instructions (pc, privilege, word) in the result. Runs
   * one instruction at a time, so it is for debugging, not for measuring.
   */
  trace?: number;
  /** Stop right after the next region-of-interest mark of this kind retires (reason "mark"). */
  stopAtMark?: RoiKind;
}

export interface TraceEntry {
  pc: number;
  /** 0 = U, 1 = S, 3 = M */
  priv: number;
  /** The instruction word, or undefined when the pc did not map to memory. */
  word: number | undefined;
}

export interface RunResult {
  /** exit: the guest powered off (test device or HTIF); budget: maxInstructions spent; wfi: waiting with no interrupt that can ever arrive; stop: `until` said so; mark: the `stopAtMark` mark retired. */
  reason: StopReason;
  /** The guest's exit code when reason is "exit". */
  exitCode: number;
  /** Instructions retired during this run. */
  instructions: number;
  /** Counters accumulated during this run. */
  stats: StatsSnapshot;
  /** The last instructions attempted, oldest first (only with the trace option). */
  trace?: TraceEntry[];
}

export class Machine {
  readonly hart: Hart;
  readonly uart: Uart16550;
  readonly test: SifiveTest;
  readonly clint: Clint;
  /** Everything the guest wrote to the console (UART or HTIF), as bytes. */
  private readonly out: number[] = [];
  /** Extra counters from other layers (merged into snapshots). */
  readonly extraCounters: Array<() => Record<string, number>> = [];
  /** Every region-of-interest mark retired so far, each with a full counter snapshot (roi.ts). */
  readonly roiMarks: RoiMark[] = [];
  private tohost = -1;
  /** The last tohost write was an odd low half still waiting for its high half. */
  private htifLowPending = false;
  private readonly checkpoints: Checkpoints;

  constructor(config: Partial<MachineConfig> = {}, onOutput?: (byte: number) => void) {
    this.hart = new Hart(config);
    const sink = (b: number) => {
      this.out.push(b);
      onOutput?.(b);
    };
    this.uart = new Uart16550(sink);
    this.test = new SifiveTest((code) => this.hart.requestStop("exit", code));
    this.clint = new Clint(this.hart);
    this.hart.addDevice(this.uart);
    this.hart.addDevice(this.test);
    this.hart.addDevice(this.clint);
    this.hart.onWatchedStore = (pa) => this.htif(pa, sink);
    // device register accesses by the hart itself (a hypervisor's emulated accesses are its own counters)
    this.extraCounters.push(() => ({
      "device.loads": this.hart.deviceLoads,
      "device.stores": this.hart.deviceStores,
    }));
    this.hart.onMark = (kind, ops) => this.roiMarks.push({ kind, ops, stats: this.snapshot() });
    // Every field of the machine and its hart is captured; the trap handler
    // (a layer above, which joins as a participant) and the list of counter
    // sources (wiring, not state) are not.
    this.checkpoints = new Checkpoints(this.hart, this.hart.config, [this], () => [
      ...(this.hart.handler ? [this.hart.handler] : []),
      this.extraCounters,
    ]);
  }

  /**
   * Save the whole machine (hart, CSRs, counters, TLBs and their replacement
   * state, devices, console output, RAM) and every participant's state, and
   * start counting written pages from here. See checkpoint.ts.
   */
  checkpoint(): Checkpoint {
    return this.checkpoints.take();
  }

  /**
   * Bring the machine back to `cp`, which this machine took. Costs the RAM
   * pages written since the latest checkpoint (since `cp` itself when it is
   * the latest; restoring an older one copies every page ever written).
   */
  restore(cp: Checkpoint): void {
    this.checkpoints.restore(cp);
  }

  /** Pages of RAM copied back by the last restore. */
  get restoredPages(): number {
    return this.checkpoints.restoredPages;
  }

  /** RAM pages written since the latest checkpoint or restore. */
  get pagesWrittenSinceCheckpoint(): number {
    return this.hart.dirtyPages.count;
  }

  /** A layer above the machine (a hypervisor) joins every later checkpoint and restore. */
  addCheckpointParticipant(p: CheckpointParticipant): void {
    this.checkpoints.participants.push(p);
  }

  /** The complete regions of interest so far, in order. */
  roiRegions(): Roi[] {
    return roiRegions(this.roiMarks);
  }

  /** The measured region: the last complete one, or the one at `index` (negative counts from the end). */
  roi(index = -1): Roi | undefined {
    return measuredRoi(this.roiMarks, index);
  }

  /** Install (or remove) the TypeScript machine-mode trap handler. */
  setTrapHandler(handler: MachineTrapHandler | undefined): void {
    this.hart.handler = handler;
  }

  /** RAM and every device on the bus, as images are placed against them. */
  regions(): BusRegion[] {
    const h = this.hart;
    return [
      { name: "RAM", base: h.ramBase, size: h.ramSize, kind: "ram" },
      ...h.devices.map((d) => ({ name: d.name, base: d.base, size: d.size, kind: "device" as const })),
    ];
  }

  /**
   * Copy an image into RAM, set pc to its entry, and enable HTIF when it
   * defines `tohost`. Bytes that land on no memory or device are dropped
   * (as QEMU's loader drops them): one warning per such section is returned
   * (and passed to `onWarning`) for the caller to show. Throws ImageError
   * when a section overlaps a device or the entry point is not in RAM.
   */
  load(image: Image, opts: { source?: string; onWarning?: (line: string) => void } = {}): readonly string[] {
    const placed = placeImage(image, this.regions(), { source: opts.source });
    for (const w of placed.warnings) opts.onWarning?.(w);
    for (const s of placed.image.sections) {
      this.hart.loadBytes(s.addr, s.bytes);
      const extra = (s.memSize ?? s.bytes.length) - s.bytes.length;
      if (extra > 0) this.hart.loadBytes(s.addr + s.bytes.length, new Uint8Array(extra));
    }
    this.hart.pc = image.entry >>> 0;
    const tohost = image.symbols.tohost;
    if (tohost !== undefined) {
      this.tohost = tohost >>> 0;
      this.hart.watch(this.tohost);
    }
    return placed.warnings;
  }

  /** Console output so far, as the bytes the guest wrote. */
  get outputBytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  /** Console output so far, decoded as UTF-8. */
  get output(): string {
    return Buffer.from(this.out).toString("utf8");
  }

  run(opts: RunOptions = {}): RunResult {
    const h = this.hart;
    const before = this.snapshot();
    const startInstret = h.instret;
    const slice = opts.slice ?? 65536;
    let left = opts.maxInstructions ?? Number.POSITIVE_INFINITY;
    let reason: StopReason = "budget";
    const ring: TraceEntry[] = [];
    h.stopAtMark = opts.stopAtMark;
    if (opts.trace !== undefined && opts.trace > 0) {
      reason = this.runTraced(left, opts.trace, ring);
      left = 0;
    }
    while (left > 0) {
      const n = Math.min(left, opts.until ? slice : 1 << 30);
      reason = h.run(n);
      left -= n;
      if (reason !== "budget") break;
      if (opts.until?.(this)) {
        reason = "stop";
        break;
      }
    }
    h.stopAtMark = undefined;
    return {
      reason,
      exitCode: reason === "exit" ? h.exitCode : 0,
      instructions: h.instret - startInstret,
      stats: diffStats(this.snapshot(), before),
      ...(opts.trace ? { trace: ring } : {}),
    };
  }

  private runTraced(budget: number, keep: number, ring: TraceEntry[]): StopReason {
    const h = this.hart;
    for (let n = 0; n < budget; n++) {
      const pa = h.peekPhys(h.pc, true);
      ring.push({ pc: h.pc, priv: h.priv, word: pa < 0 ? undefined : h.readPhys(pa, 4) });
      if (ring.length > keep) ring.shift();
      const reason = h.run(1);
      if (reason !== "budget") return reason;
    }
    return "budget";
  }

  /** All counters now (cumulative since the machine was made). */
  snapshot(): StatsSnapshot {
    const h = this.hart;
    const tlb: Record<string, TlbCounters> =
      h.itlb === h.dtlb
        ? { tlb: { ...h.itlb.counters } }
        : { itlb: { ...h.itlb.counters }, dtlb: { ...h.dtlb.counters } };
    const extra: Record<string, number> = {};
    for (const f of this.extraCounters) Object.assign(extra, f());
    return {
      instructions: {
        total: h.instret,
        user: h.retiredBy(0),
        supervisor: h.retiredBy(1),
        machine: h.retiredBy(3),
      },
      cycles: h.mcycle,
      time: h.mtime,
      traps: trapSnapshot(h.traps, h.hx !== undefined),
      tlb,
      walk: { ...h.walkCounters },
      memory: { misaligned: h.misalignedAccesses },
      ...(h.hx !== undefined ? { hext: hextSnapshot(h.hx) } : {}),
      extra,
    };
  }

  /**
   * HTIF (riscv-tests / Spike convention): tohost is a 64-bit word; on RV32
   * the guest writes the low half, then the high half. A command is acted on
   * when the high half is written (the low half alone cannot tell an exit
   * from an odd console byte), or when an odd low half is written twice with
   * no high half between (device 0 "exit" from tests that only write the
   * low half, in their write_tohost loop).
   * Exit: (code << 1) | 1. Console: device 1, command 1, the byte in bits 7:0.
   */
  private htif(pa: number, sink: (b: number) => void): void {
    const h = this.hart;
    if (pa !== this.tohost && pa !== this.tohost + 4) return;
    const low = h.readPhys(this.tohost, 4) ?? 0;
    const high = h.readPhys(this.tohost + 4, 4) ?? 0;
    if (pa === this.tohost) {
      const again = this.htifLowPending;
      this.htifLowPending = (low & 1) === 1;
      if (!again || !this.htifLowPending) return;
    }
    this.htifLowPending = false;
    if (low === 0 && high === 0) return;
    const device = high >>> 24;
    const command = (high >>> 16) & 0xff;
    if (device === 0 && (low & 1) === 1) {
      h.requestStop("exit", low >>> 1);
    } else if (device === 1 && command === 1) {
      sink(low & 0xff);
    }
    h.writePhys(this.tohost, 4, 0);
    h.writePhys(this.tohost + 4, 4, 0);
  }
}
