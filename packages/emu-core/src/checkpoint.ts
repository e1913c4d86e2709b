/**
 * Checkpoints of a whole machine, restored at the cost of what was written
 * since (gem5's checkpoints, in-process).
 *
 * A checkpoint holds:
 * - the state of every object of the machine (hart registers and CSRs,
 *   counters, TLBs with their replacement state and random generator,
 *   devices with their FIFOs, the console output, HTIF state, pending stop
 *   requests, and any field added to them later) captured by object-state.ts,
 *   which writes it back in place;
 * - a copy of every RAM page ever written before it (the others hold zeros);
 * - the state of each participant (other layers, e.g. a hypervisor).
 *
 * Restoring copies back only the pages written since the checkpoint (the
 * hart's DirtyPages log), drops their decoded instructions, and clears the
 * per-access memos, so a run after a restore is the run after the
 * checkpoint, counter for counter. The saved pages and the dirty log are
 * allocated once; a restore allocates no RAM.
 */
import type { Hart } from "./hart.ts";
import { captureState, type ObjectState, restoreState } from "./object-state.ts";

const PAGE = 4096;
const WORDS = PAGE / 4;

/** A layer above the machine that joins its checkpoints (a hypervisor: vCPU, shadows, allocators, counters). */
export interface CheckpointParticipant {
  checkpoint(): unknown;
  restore(state: unknown): void;
}

export class CheckpointError extends Error {}

/** The saved state of a machine; restore it with `machine.restore(cp)`. */
export class Checkpoint {
  /** Instructions the hart had retired when the checkpoint was taken. */
  readonly instret: number;

  constructor(
    /** The bookkeeping of the machine that took it. */
    readonly owner: object,
    /** The machine's configuration, as JSON, to refuse a restore onto another configuration. */
    readonly config: string,
    readonly objects: ObjectState,
    /** RAM page -> slot in `pages`, -1 for a page that held zeros. */
    readonly slotOf: Int32Array,
    /** The saved pages, one after another. */
    readonly pages: Int32Array,
    readonly participants: readonly unknown[],
    instret: number,
  ) {
    this.instret = instret;
  }
}

/** What the machine keeps for its checkpoints (one per machine, outside the captured state). */
export class Checkpoints {
  readonly participants: CheckpointParticipant[] = [];
  /** The checkpoint the hart's dirty-page log is counted from. */
  private base: Checkpoint | undefined;
  /** Pages copied back by the last restore. */
  restoredPages = 0;

  constructor(
    private readonly hart: Hart,
    private readonly config: object,
    /** Objects whose state a checkpoint captures (the machine itself). */
    private readonly roots: readonly object[],
    /** Objects not to enter (they checkpoint themselves, or are the RAM). */
    private readonly skip: () => object[],
  ) {}

  take(): Checkpoint {
    const h = this.hart;
    const objects = captureState(this.roots, new Set([this, ...this.skip(), ...h.checkpointExclusions()]));
    const { slotOf, pages } = copyWrittenPages(h);
    const states = this.participants.map((p) => p.checkpoint());
    const cp = new Checkpoint(this, JSON.stringify(this.config), objects, slotOf, pages, states, h.instret);
    this.startEpoch(cp);
    return cp;
  }

  restore(cp: Checkpoint): void {
    this.check(cp);
    const h = this.hart;
    this.restoredPages =
      cp === this.base ? this.copyBack(cp, h.dirtyPages.list, h.dirtyPages.count) : this.copyAll(cp);
    restoreState(cp.objects);
    for (let i = 0; i < this.participants.length; i++) this.participants[i].restore(cp.participants[i]);
    this.startEpoch(cp);
  }

  private check(cp: Checkpoint): void {
    if (!(cp instanceof Checkpoint)) throw new CheckpointError("restore: not a checkpoint");
    const mine = JSON.stringify(this.config);
    if (cp.config !== mine) {
      throw new CheckpointError(
        `restore: the checkpoint was taken on a machine configured ${differingField(cp.config, mine)}`,
      );
    }
    if (cp.owner !== this) {
      throw new CheckpointError("restore: a checkpoint can only be restored onto the machine that took it");
    }
    if (cp.participants.length !== this.participants.length) {
      throw new CheckpointError(
        `restore: the checkpoint has ${cp.participants.length} participant states, the machine ${this.participants.length} participants (one joined after the checkpoint)`,
      );
    }
  }

  /** New dirty-page epoch counted from `cp`; the store memo must not outlive the old one. */
  private startEpoch(cp: Checkpoint): void {
    this.base = cp;
    this.hart.dirtyPages.clear();
    this.hart.invalidateMemos();
  }

  /** Put back `count` pages of `list` as they were in `cp`; returns how many. */
  private copyBack(cp: Checkpoint, list: Int32Array, count: number): number {
    const h = this.hart;
    const ram = h.ram32;
    const saved = cp.pages;
    for (let i = 0; i < count; i++) {
      const page = list[i];
      const slot = cp.slotOf[page];
      const at = page * WORDS;
      if (slot < 0) {
        ram.fill(0, at, at + WORDS);
      } else {
        // A word loop rather than set(subarray()): no view object per page.
        const from = slot * WORDS;
        for (let w = 0; w < WORDS; w++) ram[at + w] = saved[from + w];
      }
      h.forgetDecoded(page);
    }
    return count;
  }

  /**
   * Restoring a checkpoint other than the latest: the log does not cover
   * it, so every page ever written is put back (cost: pages ever touched).
   */
  private copyAll(cp: Checkpoint): number {
    const ever = this.hart.dirtyPages.everWritten;
    const list = new Int32Array(ever.length);
    let n = 0;
    for (let p = 0; p < ever.length; p++) if (ever[p] !== 0) list[n++] = p;
    return this.copyBack(cp, list, n);
  }
}

/** Copy every RAM page ever written into one buffer. */
function copyWrittenPages(h: Hart): { slotOf: Int32Array; pages: Int32Array } {
  const ever = h.dirtyPages.everWritten;
  const slotOf = new Int32Array(ever.length).fill(-1);
  let n = 0;
  for (let p = 0; p < ever.length; p++) if (ever[p] !== 0) slotOf[p] = n++;
  const pages = new Int32Array(n * WORDS);
  for (let p = 0; p < ever.length; p++) {
    const slot = slotOf[p];
    if (slot >= 0) pages.set(h.ram32.subarray(p * WORDS, (p + 1) * WORDS), slot * WORDS);
  }
  return { slotOf, pages };
}

/** "ramSize=… (this machine: …)" for the first top-level field that differs. */
function differingField(theirs: string, mine: string): string {
  const a = JSON.parse(theirs) as Record<string, unknown>;
  const b = JSON.parse(mine) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k]);
    const y = JSON.stringify(b[k]);
    if (x !== y) return `${k}=${x}, this machine ${k}=${y}`;
  }
  return "differently";
}
