/**
 * One RV32IMA hart with M, S and U modes, Sv32 translation through the TLB
 * model, and the Sstc timer.
 *
 * Speed without losing exact counters:
 * - Instructions are decoded once per physical RAM word into a per-page cache
 *   (two int32 per word: packed op/rd/rs1/rs2 and whether the instruction ends
 *   a translated block, and the immediate). A store to a
 *   RAM word clears that word's cache slot, so code written at run time (also
 *   into recycled pages) runs as written.
 * - Fetch, load and store each keep a memo of the last page they translated:
 *   its VPN, its RAM offset and the TLB entry that served it. A repeat access
 *   to that page only bumps the TLB's lookup/hit counters and, when the entry
 *   is not already the most recent of its set, moves it to the front: exactly
 *   what a full lookup that hit would have done. Every
 *   change of translation state (satp, privilege, mstatus, sfence.vma, an
 *   entry leaving the TLB) clears the memos.
 * - The dispatch switch uses literal op ids (see isa/table.ts) so V8 compiles
 *   it to a jump table; test/isa-table.test.ts checks the case comments.
 * - Interrupts and timers are checked only when `instret` reaches `eventAt`,
 *   which every state change that could make an interrupt takeable resets.
 */
import { CAUSE, COMPARATOR_NEVER, IRQ, MSTATUS, PRIV } from "./csr.ts";
import { csrFault, csrRead, csrWrite } from "./csrfile.ts";
import type { Device } from "./devices/device.ts";
import { DirtyPages } from "./dirty-pages.ts";
import { FaultLoop } from "./fault-loop.ts";
import { hInstruction } from "./hext/insn.ts";
import { HState } from "./hext/state.ts";
import { isTwoStage, peekTwoStage, translateTwoStage } from "./hext/translate.ts";
import {
  hDeadline,
  hMret,
  hPendingBits,
  hPendingInterrupt,
  hSret,
  hTrap,
  hVirtualSystem,
} from "./hext/trap.ts";
import { div, divu, mulh, mulhsu, mulhu, rem, remu } from "./isa/arith.ts";
import { decode } from "./isa/decode.ts";
import { immediateOf } from "./isa/fields.ts";
import { OP_ILLEGAL } from "./isa/table.ts";
import { BlockCache, type EngineStats, noEngineStats } from "./jit/blocks.ts";
import { ENDS_BLOCK } from "./jit/translate.ts";
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  type Access,
  accessFaultCause,
  newWalkCounters,
  peekWalk,
  permits,
  RamPteMemory,
  SV32,
  WalkResult,
  walkTable,
} from "./mmu.ts";
import type { RoiKind } from "./roi.ts";
import { TrapCounters } from "./stats.ts";
import { DEFAULT_TLB, PTE, Tlb, type TlbConfig } from "./tlb.ts";
import { TRIGGER_EXECUTE, TRIGGER_LOAD, TRIGGER_STORE, Triggers } from "./triggers.ts";

export const RAM_BASE = 0x8000_0000;

/**
 * The machine-mode handler socket: when installed, every trap that would
 * enter M-mode is handed to it instead of jumping to mtvec. On entry
 * `hart.pc` is the trapping pc (what mepc would get); the handler leaves the
 * hart as it wants it to continue (pc, privilege, registers, CSRs).
 */
export interface MachineTrapHandler {
  trap(hart: Hart, cause: number, tval: number, interrupt: boolean): void;
}

export interface HartConfig {
  /** RAM size in bytes (multiple of 4 KiB). */
  ramSize: number;
  /** One TLB config (unified) or a pair (split instruction / data TLBs). */
  tlb: TlbConfig | { itlb: TlbConfig; dtlb: TlbConfig };
  /** Retired instructions per mtime tick (deterministic time). */
  instructionsPerTick: number;
  /** Implemented ASID bits in satp (0..9). */
  asidBits: number;
  /**
   * Misaligned loads and stores: "perform" them (as hardware may, byte by
   * byte on the slow path, each counted in `misalignedAccesses`) or "trap"
   * with an address-misaligned exception. LR/SC and AMOs always trap (spec:
   * Zaamo/Zalrsc misaligned atomics raise address-misaligned or access faults).
   */
  misaligned: "perform" | "trap";
  /**
   * The H extension (hypervisor, privileged spec 1.12 chapter 8): misa.H, V
   * mode, the hypervisor and VS CSRs, two-stage translation. Off by default,
   * so guests written for RV32IMA see the machine they always saw.
   */
  hExtension: boolean;
  /**
   * How guest code runs: "jit" compiles hot straight-line code into host
   * functions (jit/), "interp" decodes and dispatches one instruction at a
   * time. Both give the guest, and every counter, exactly the same; the
   * interpreter is the reference the translator is tested against.
   */
  engine: Engine;
}

/** The execution engines (HartConfig.engine). */
export const ENGINES = ["jit", "interp"] as const;
export type Engine = (typeof ENGINES)[number];

export const DEFAULT_HART: HartConfig = {
  ramSize: 128 * 1024 * 1024,
  tlb: DEFAULT_TLB,
  // QEMU virt's timebase is 10 MHz; at one instruction per cycle and 100 MHz
  // that is 10 instructions per tick (an assumption of the model, not a measurement).
  instructionsPerTick: 10,
  asidBits: 9,
  // The official rv32ui ma_data test expects misaligned accesses to work, as on QEMU.
  misaligned: "perform",
  hExtension: false,
  engine: "jit",
};

/** exit: powered off; budget: instructions spent; wfi: no interrupt can ever arrive; stop: asked to; mark: an ROI mark retired; stuck: see FaultLoop. */
export type StopReason = "exit" | "budget" | "wfi" | "stop" | "mark" | "stuck";

/** Privilege level: 0 = U, 1 = S, 3 = M. */
export type Priv = 0 | 1 | 3;

const NO_EVENT = Number.POSITIVE_INFINITY;
/** Bit of a decoded-cache word set when the instruction ends a translated block (jit/translate.ts ENDS_BLOCK), above op, rd, rs1 and rs2. */
const ENDS_BLOCK_BIT = 24;
/** The longest countdown between event checks: stays a small integer (V8 Smi). */
const QUIET_MAX = 1 << 30;
/** Interrupts in the order the privileged spec (3.1.9) gives them priority. */
const IRQ_PRIORITY = [IRQ.MEI, IRQ.MSI, IRQ.MTI, IRQ.SEI, IRQ.SSI, IRQ.STI] as const;

export class Hart {
  readonly config: HartConfig;
  /** x0..x31; index 32 is the sink for writes to x0 (the decoder maps rd=0 to it). */
  readonly x = new Int32Array(33);
  /** Current pc (unsigned). */
  pc = RAM_BASE;
  priv: Priv = 3;
  /** Virtualization mode (H extension): 1 while a guest runs in VS or VU. */
  virt: 0 | 1 = 0;
  /** The H extension's state, present only when the hart has it. */
  readonly hx: HState | undefined;

  // RAM views (little-endian host).
  readonly ram: Uint8Array;
  readonly ram8: Int8Array;
  readonly ram16: Int16Array;
  readonly ramU16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramBase = RAM_BASE;
  readonly ramSize: number;
  /** RAM pages written, for checkpoint restores (dirty-pages.ts). */
  readonly dirtyPages: DirtyPages;
  readonly devices: Device[] = [];

  // CSR state (csrfile.ts gives the architectural views).
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-writable pending bits (SSIP, STIP without Sstc, SEIP) and MSIP from the CLINT. */
  mipSw = 0;
  mtvec = 0;
  stvec = 0;
  mscratch = 0;
  sscratch = 0;
  mepc = 0;
  sepc = 0;
  mcause = 0;
  scause = 0;
  mtval = 0;
  stval = 0;
  mcounteren = 0;
  scounteren = 0;
  menvcfg = 0;
  menvcfgh = 0;
  senvcfg = 0;
  satp = 0;
  mcountinhibit = 0;
  readonly pmpcfg = new Int32Array(16);
  readonly pmpaddr = new Int32Array(64);

  // Time and counters. mtime = floor(instret / instructionsPerTick) + timeOffset.
  instret = 0;
  timeOffset = 0;
  idleCycles = 0;
  /** Loads and stores the hart's own accesses made to device registers (a device access has a latency of its own). */
  deviceLoads = 0;
  deviceStores = 0;
  /**
   * minstret/mcycle as written by software minus the internal counts, modulo 2^64, as a low part in
   * [0, 2^32) and a high word: a single double cannot hold a 64-bit offset exactly (see csrfile.ts).
   */
  instretAdjust = 0;
  instretAdjustHi = 0;
  cycleAdjust = 0;
  cycleAdjustHi = 0;
  mtimecmp = Number.MAX_SAFE_INTEGER;
  stimecmp = Number.MAX_SAFE_INTEGER;
  /** instret value at which the loop must look at interrupts/timers/stop again. */
  eventAt = 0;
  /**
   * Loop iterations that may pass before the loop compares instret with eventAt again: a small
   * integer counted down in place of a double comparison per instruction. Every change of eventAt
   * resets it; each iteration retires at most one instruction, so counting down checks no later.
   */
  quiet = 0;
  /** Instructions retired per privilege (attributed on each privilege change). */
  readonly instretByPriv = new Float64Array(4);
  private privSince = 0;

  // Translation state derived from satp/mstatus/priv.
  itlb: Tlb;
  dtlb: Tlb;
  readonly walkCounters = newWalkCounters();
  private readonly walkOut = new WalkResult();
  /** The walker's view of RAM (PTE reads and A/D write-backs). */
  readonly ptes: RamPteMemory;
  readonly traps = new TrapCounters();
  /** Misaligned loads and stores performed (config.misaligned "perform"). */
  misalignedAccesses = 0;
  /** Identical faults in a row without an instruction retired: a stuck guest stops with reason "stuck". */
  readonly faultLoop = new FaultLoop();
  /** Sdtrig address-match triggers (tselect/tdata1-3/tinfo), looked at on slow paths only. */
  readonly triggers = new Triggers();

  // Memos: page-number tag (-1 = empty), RAM byte offset of the page, TLB entry, hit increment
  // (0 when untranslated). Translated blocks (jit/) use them as the interpreter does.
  fVpn = -1;
  fOff = 0;
  fIdx = 0;
  fHit = 0;
  private fDec: Int32Array = new Int32Array(0);
  lVpn = -1;
  lOff = 0;
  lIdx = 0;
  lHit = 0;
  sVpn = -1;
  sOff = 0;
  sIdx = 0;
  sHit = 0;
  /** Result of the last translate(): TLB entry and hit increment. */
  private tIdx = 0;
  private tHit = 0;
  /** Cause of the last failed translate(). */
  private tCause = 0;

  /** Decoded-instruction cache, one per RAM page, created on first fetch. */
  private readonly decoded: (Int32Array | null)[];
  /** Translated code (engine "jit"), or undefined for the interpreter alone. */
  readonly jit: BlockCache | undefined;
  /** LR reservation (RAM byte offset of the reserved word), -1 when none. */
  reservation = -1;
  /**
   * The reservation the last trap into the machine-mode handler cleared, so a
   * handler that hides the trap from the software that made it (a monitor's
   * hidden page fault) can give it back, as if no trap had happened.
   */
  reservationAtTrap = -1;

  /** Set when a slow path took a trap; the loop (or a translated block) reloads pc and clears it. */
  trapped = false;
  stopReason: StopReason | undefined;
  exitCode = 0;
  handler: MachineTrapHandler | undefined;
  /** A physical address whose stores are reported to `onWatchedStore` (HTIF tohost). */
  private watchPage = -1;
  onWatchedStore: (paddr: number) => void = () => {};
  /** Region-of-interest marks (roi.ts): each retired mark is reported; the run stops after `stopAtMark`. */
  onMark: (kind: RoiKind, ops: number | undefined) => void = () => {};
  stopAtMark: RoiKind | undefined;

  constructor(config: Partial<HartConfig> = {}) {
    this.config = { ...DEFAULT_HART, ...config };
    const size = this.config.ramSize;
    if (!Number.isInteger(size) || size <= 0 || size % 4096 !== 0 || size > 0x8000_0000) {
      throw new RangeError(`ramSize must be a positive multiple of 4096 up to 2 GiB (got ${size})`);
    }
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1)
      throw new Error("shadowlab needs a little-endian host");
    const buf = new ArrayBuffer(size);
    this.ram = new Uint8Array(buf);
    this.ram8 = new Int8Array(buf);
    this.ram16 = new Int16Array(buf);
    this.ramU16 = new Uint16Array(buf);
    this.ram32 = new Int32Array(buf);
    this.ramSize = size;
    this.decoded = new Array(size / 4096).fill(null);
    this.dirtyPages = new DirtyPages(size / 4096);
    this.ptes = new RamPteMemory(this.ram32, RAM_BASE, size, this.dirtyPages);
    this.hx = this.config.hExtension ? new HState() : undefined;
    const t = this.config.tlb;
    if ("itlb" in t) {
      this.itlb = new Tlb(t.itlb);
      this.dtlb = new Tlb(t.dtlb);
    } else {
      this.itlb = this.dtlb = new Tlb(t);
    }
    this.itlb.onDrop = (i) => {
      if (i === this.fIdx) this.fVpn = -1;
      if (this.itlb === this.dtlb) this.dropDataMemo(i);
    };
    if (this.dtlb !== this.itlb) this.dtlb.onDrop = (i) => this.dropDataMemo(i);
    this.fIdx = this.itlb.scratch;
    this.lIdx = this.sIdx = this.dtlb.scratch;
    if (!ENGINES.includes(this.config.engine))
      throw new RangeError(`engine must be one of ${ENGINES.join(", ")} (got ${String(this.config.engine)})`);
    this.jit = this.config.engine === "jit" ? new BlockCache(this) : undefined;
  }

  /** The decoded-instruction cache by RAM page (translated stores keep it coherent as the interpreter's do). */
  get decodedPages(): (Int32Array | null)[] {
    return this.decoded;
  }

  /** What the block translator did (zeros for the interpreter); not a machine counter. */
  get engineStats(): EngineStats {
    return this.jit?.stats ?? noEngineStats();
  }

  private dropDataMemo(i: number): void {
    if (i === this.lIdx) this.lVpn = -1;
    if (i === this.sIdx) this.sVpn = -1;
  }

  addDevice(d: Device): void {
    this.devices.push(d);
  }

  /** Report stores to this physical address (and the next word) to onWatchedStore. */
  watch(paddr: number): void {
    this.watchPage = Math.floor(paddr / 4096);
    this.invalidateMemos();
  }

  // ---------------------------------------------------------------- time

  get mtime(): number {
    return Math.floor(this.instret / this.config.instructionsPerTick) + this.timeOffset;
  }
  set mtime(v: number) {
    this.timeOffset = v - Math.floor(this.instret / this.config.instructionsPerTick);
    this.recheck();
  }
  /** The 64-bit values as numbers, rounded above 2^53 (statistics); the CSRs read exact halves (csrfile.ts). */
  get mcycle(): number {
    return counter64(this.instret + this.idleCycles, this.cycleAdjust, this.cycleAdjustHi);
  }
  get minstret(): number {
    return counter64(this.instret, this.instretAdjust, this.instretAdjustHi);
  }

  /** mip as software reads it: timer bits computed from the comparators. */
  get mip(): number {
    let mip = this.mipSw;
    const now = this.mtime;
    if (now >= this.mtimecmp) mip |= 1 << IRQ.MTI;
    if (this.stce) {
      mip &= ~(1 << IRQ.STI);
      if (now >= this.stimecmp) mip |= 1 << IRQ.STI;
    }
    if (this.hx !== undefined) mip |= hPendingBits(this, this.hx, now);
    return mip;
  }

  get stce(): boolean {
    return (this.menvcfgh & 0x8000_0000) !== 0;
  }

  /** Make the loop re-examine interrupts and timers before the next instruction. */
  recheck(): void {
    this.eventAt = 0;
    this.quiet = 0;
  }

  /** Ask the run loop to return before the next instruction. */
  requestStop(reason: StopReason, exitCode = 0): void {
    this.stopReason = reason;
    this.exitCode = exitCode;
    this.eventAt = 0;
    this.quiet = 0;
  }

  // ---------------------------------------------------------------- state changes

  /** Change privilege level; attributes retired instructions and drops the memos. */
  setPriv(p: Priv): void {
    this.instretByPriv[this.priv] += this.instret - this.privSince;
    this.privSince = this.instret;
    this.priv = p;
    this.invalidateMemos();
    this.recheck();
  }

  /** Instructions retired by privilege, including the current stretch. */
  retiredBy(p: Priv): number {
    return this.instretByPriv[p] + (p === this.priv ? this.instret - this.privSince : 0);
  }

  invalidateMemos(): void {
    this.fVpn = this.lVpn = this.sVpn = -1;
  }

  /** sfence.vma on every TLB of the hart (privilege checks are the caller's). */
  sfence(hasAddr: boolean, vaddr: number, hasAsid: boolean, asid: number): void {
    this.itlb.flush(hasAddr, vaddr, hasAsid, asid);
    if (this.dtlb !== this.itlb) this.dtlb.flush(hasAddr, vaddr, hasAsid, asid);
    this.invalidateMemos();
  }

  /** Clear the decoded-instruction cache (e.g. after loading an image). */
  flushDecoded(): void {
    this.decoded.fill(null);
    this.jit?.dropAll();
    this.fVpn = -1;
  }

  /** Forget the decoded instructions of one RAM page (byte offset >>> 12), keeping its cache buffer. */
  forgetDecoded(page: number): void {
    const dec = this.decoded[page];
    if (dec !== null) dec.fill(0);
    this.jit?.dropPage(page);
  }

  /**
   * For code that writes `ram` directly (a hypervisor zeroing or filling
   * machine pages): marks RAM bytes [off, off + len) written, for
   * checkpoints, and drops their decoded instructions.
   */
  noteRamWrite(off: number, len: number): void {
    this.dirtyPages.markRange(off, len);
    if (len > 0) for (let p = off >>> 12; p <= (off + len - 1) >>> 12; p++) this.forgetDecoded(p);
  }

  /** What a checkpoint of the hart's fields must not copy: RAM (restored by dirty pages), the decoded cache (dropped per restored page), the dirty-page log. */
  checkpointExclusions(): object[] {
    return [
      this.ram,
      this.ram8,
      this.ram16,
      this.ramU16,
      this.ram32,
      this.decoded,
      this.fDec,
      ...(this.jit ? [this.jit] : []),
      this.dirtyPages,
    ];
  }

  // ---------------------------------------------------------------- traps

  /** Take a trap (exception or interrupt) from the current pc, with delegation (3.1.8). */
  trap(cause: number, tval: number, interrupt: boolean): void {
    if (!interrupt && this.faultLoop.stuck(this.pc >>> 0, cause, tval >>> 0, this.instret))
      this.requestStop("stuck");
    if (this.hx !== undefined) {
      hTrap(this, this.hx, cause, tval, interrupt);
      return;
    }
    const t = this.traps;
    if (interrupt) t.interrupts[cause]++;
    else t.exceptions[cause]++;
    this.reservationAtTrap = this.reservation;
    this.reservation = -1;
    const bit = 1 << cause;
    const delegated = this.priv !== 3 && ((interrupt ? this.mideleg : this.medeleg) & bit) !== 0;
    if (!delegated && this.handler) {
      t.toHandler++;
      this.handler.trap(this, cause, tval >>> 0, interrupt); // unsigned, as mtval would hold it
      this.invalidateMemos();
      this.recheck();
      return;
    }
    const mcause = (interrupt ? 0x8000_0000 | cause : cause) >>> 0;
    let s = this.mstatus;
    if (delegated) {
      t.toS++;
      this.scause = mcause;
      this.sepc = this.pc >>> 0;
      this.stval = tval >>> 0;
      s = (s & ~MSTATUS.SPP) | (this.priv === 1 ? MSTATUS.SPP : 0);
      s = (s & ~MSTATUS.SPIE) | ((s & MSTATUS.SIE) !== 0 ? MSTATUS.SPIE : 0);
      s &= ~MSTATUS.SIE;
      this.mstatus = s;
      this.pc = vectorTarget(this.stvec, cause, interrupt);
      this.setPriv(1);
    } else {
      t.toM++;
      this.mcause = mcause;
      this.mepc = this.pc >>> 0;
      this.mtval = tval >>> 0;
      s = (s & ~MSTATUS.MPP) | (this.priv << MSTATUS.MPP_SHIFT);
      s = (s & ~MSTATUS.MPIE) | ((s & MSTATUS.MIE) !== 0 ? MSTATUS.MPIE : 0);
      s &= ~MSTATUS.MIE;
      this.mstatus = s;
      this.pc = vectorTarget(this.mtvec, cause, interrupt);
      this.setPriv(3);
    }
  }

  /** An exception raised by the instruction at this.pc: it does not retire. */
  exception(cause: number, tval: number): void {
    this.instret--;
    this.trap(cause, tval, false);
    this.trapped = true;
  }

  /** mret (3.3.2): back to MPP with MIE restored; MPRV cleared when leaving M. */
  mret(): void {
    if (this.hx !== undefined) {
      hMret(this, this.hx);
      return;
    }
    let s = this.mstatus;
    const mpp = ((s & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT) as Priv;
    s = (s & ~MSTATUS.MIE) | ((s & MSTATUS.MPIE) !== 0 ? MSTATUS.MIE : 0);
    s |= MSTATUS.MPIE;
    s &= ~MSTATUS.MPP; // MPP := U, the least-privileged mode
    if (mpp !== 3) s &= ~MSTATUS.MPRV;
    this.mstatus = s;
    this.reservation = -1;
    this.pc = this.mepc >>> 0;
    this.setPriv(mpp);
  }

  /** sret (3.3.2 / 4.1.1): back to SPP with SIE restored. */
  sret(): void {
    if (this.hx !== undefined) {
      hSret(this, this.hx);
      return;
    }
    let s = this.mstatus;
    const spp: Priv = (s & MSTATUS.SPP) !== 0 ? 1 : 0;
    s = (s & ~MSTATUS.SIE) | ((s & MSTATUS.SPIE) !== 0 ? MSTATUS.SIE : 0);
    s |= MSTATUS.SPIE;
    s &= ~MSTATUS.SPP;
    s &= ~MSTATUS.MPRV;
    this.mstatus = s;
    this.reservation = -1;
    this.pc = this.sepc >>> 0;
    this.setPriv(spp);
  }

  /** The highest-priority interrupt that is pending, enabled and takeable now, or -1. */
  pendingInterrupt(): number {
    if (this.hx !== undefined) return hPendingInterrupt(this, this.hx);
    const pending = this.mip & this.mie;
    if (pending === 0) return -1;
    const mOn = this.priv < 3 || (this.mstatus & MSTATUS.MIE) !== 0;
    const sOn = this.priv < 1 || (this.priv === 1 && (this.mstatus & MSTATUS.SIE) !== 0);
    const toM = mOn ? pending & ~this.mideleg : 0;
    const toS = sOn ? pending & this.mideleg : 0;
    // M-level interrupts are never delegated below a hart already in M (3.1.9).
    const ready = toM | (this.priv === 3 ? 0 : toS);
    if (ready === 0) return -1;
    if (toM !== 0) {
      for (const irq of IRQ_PRIORITY) if ((toM >> irq) & 1) return irq;
    }
    for (const irq of IRQ_PRIORITY) if ((ready >> irq) & 1) return irq;
    return -1;
  }

  /**
   * The earliest mtime value at which a comparator that is not yet firing
   * starts to (only those whose interrupt is enabled in mie, when asked),
   * or NO_EVENT.
   */
  private nextDeadline(onlyEnabled: boolean): number {
    const now = this.mtime;
    let next = NO_EVENT;
    if (this.mtimecmp > now && (!onlyEnabled || ((this.mie >> IRQ.MTI) & 1) !== 0)) next = this.mtimecmp;
    if (this.stce && this.stimecmp > now && (!onlyEnabled || ((this.mie >> IRQ.STI) & 1) !== 0)) {
      next = Math.min(next, this.stimecmp);
    }
    if (this.hx !== undefined) next = Math.min(next, hDeadline(this, this.hx, onlyEnabled));
    // Comparators whose high half saturated (Clint, csrWrite: 2^21 = past 2^53 ticks) never fire.
    return next >= COMPARATOR_NEVER ? NO_EVENT : next;
  }

  /**
   * Runs when instret reaches eventAt: stop requests, then one interrupt,
   * then the next deadline. A trap handler that changes interrupt state
   * calls recheck(), which wins over the deadline set here.
   */
  /** The loop's event check: service events when instret reached eventAt, then count down again. */
  private pollEvents(): boolean {
    if (this.instret >= this.eventAt && !this.serviceEvents()) return false;
    this.quiet = Math.max(0, Math.min(this.eventAt - this.instret - 1, QUIET_MAX));
    return true;
  }

  private serviceEvents(): boolean {
    if (this.stopReason !== undefined) return false;
    const deadline = this.nextDeadline(false);
    this.eventAt =
      deadline === NO_EVENT
        ? NO_EVENT
        : Math.max(this.instret + 1, (deadline - this.timeOffset) * this.config.instructionsPerTick);
    const irq = this.pendingInterrupt();
    if (irq >= 0) this.trap(irq, 0, true);
    return this.stopReason === undefined;
  }

  /**
   * WFI (3.3.3): resume when any interrupt is pending and locally enabled
   * (global enables do not matter). Time jumps to the next enabled timer
   * deadline; with none, the run stops with reason "wfi".
   */
  private waitForInterrupt(): void {
    if ((this.mip & this.mie) !== 0) return;
    const deadline = this.nextDeadline(true);
    if (deadline === NO_EVENT) {
      this.requestStop("wfi");
      return;
    }
    const ticks = deadline - this.mtime;
    this.timeOffset += ticks;
    this.idleCycles += ticks * this.config.instructionsPerTick;
    this.recheck();
  }

  // ---------------------------------------------------------------- translation

  /** Effective privilege for loads and stores (MPRV, 3.1.6.3). */
  private get dataPriv(): number {
    return this.priv === 3 && (this.mstatus & MSTATUS.MPRV) !== 0
      ? (this.mstatus & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT
      : this.priv;
  }

  get asid(): number {
    return (this.satp >>> 22) & 0x1ff;
  }

  /**
   * Translate a virtual address; returns the physical page number (Sv32 has
   * 22-bit PPNs: a 34-bit physical space) or -1 with the fault's cause in
   * tCause (the caller raises it). Sets tIdx/tHit for the caller's memo.
   * Returning the page number keeps the result a small integer, so the miss
   * path boxes no doubles.
   */
  translate(va: number, access: Access): number {
    const priv = access === ACCESS_FETCH ? this.priv : this.dataPriv;
    const tlb = access === ACCESS_FETCH ? this.itlb : this.dtlb;
    if (this.hx !== undefined && isTwoStage(this, this.hx, access))
      return this.translateGuest(tlb, va, access);
    if (this.satp >= 0 || priv === 3) {
      this.tIdx = tlb.scratch;
      this.tHit = 0;
      return va >>> 12;
    }
    const vpn = va >>> 12;
    const asid = this.asid;
    const sum = (this.mstatus & MSTATUS.SUM) !== 0;
    const mxr = (this.mstatus & MSTATUS.MXR) !== 0;
    let i = tlb.lookup(vpn, asid);
    if (i >= 0) {
      const f = tlb.flags[i];
      if (permits(f, access, priv, sum, mxr) && (access !== ACCESS_STORE || (f & PTE.D) !== 0)) {
        return this.translated(tlb, i, vpn);
      }
      // The entry cannot serve this access (permission, or D still clear):
      // real walkers re-walk, so this lookup counts as a miss.
      tlb.counters.hits--;
      tlb.counters.misses++;
    }
    const out = this.walkOut;
    const cause = walkTable(
      SV32,
      this.ptes,
      this.satp & 0x3fffff,
      va,
      access,
      priv,
      sum,
      mxr,
      true,
      this.walkCounters,
      out,
    );
    if (cause !== 0) {
      this.tCause = cause;
      return -1;
    }
    i = tlb.fill(vpn, asid, out.ppn, out.flags, out.mega);
    return this.translated(tlb, i, vpn);
  }

  /** Two-stage translation (hext/translate.ts) with the same result slots as translate(). */
  private translateGuest(tlb: Tlb, va: number, access: Access): number {
    const hx = this.hx as HState;
    const ppn = translateTwoStage(this, hx, tlb, va, access);
    if (ppn < 0) {
      this.tCause = hx.cause;
      return -1;
    }
    this.tIdx = hx.idx;
    this.tHit = 1;
    return ppn;
  }

  private translated(tlb: Tlb, i: number, vpn: number): number {
    this.tIdx = i;
    this.tHit = 1;
    return tlb.kind[i] === 2 ? tlb.ppn[i] | (vpn & 0x3ff) : tlb.ppn[i];
  }

  // ---------------------------------------------------------------- memory slow paths

  /** RAM byte offset of a physical address, or -1 when it is not RAM. */
  private ramOffset(pa: number): number {
    const off = pa - RAM_BASE;
    return off >= 0 && off < this.ramSize ? off : -1;
  }

  /** RAM byte offset of a physical page, or -1 when the page is not RAM. */
  private ramPage(ppn: number): number {
    const off = (ppn - RAM_BASE / 4096) * 4096;
    return off >= 0 && off < this.ramSize ? off : -1;
  }

  private device(pa: number): Device | undefined {
    for (const d of this.devices) if (pa >= d.base && pa < d.base + d.size) return d;
    return undefined;
  }

  /** Fill the fetch memo for this.pc; false after raising a fault. */
  private refillFetch(): boolean {
    const pc = this.pc;
    if (this.triggers.armed && this.triggerFires(TRIGGER_EXECUTE, pc)) {
      this.trap(CAUSE.BREAKPOINT, pc, false);
      return false;
    }
    const ppn = this.translate(pc, ACCESS_FETCH);
    if (ppn < 0) {
      this.trap(this.tCause, pc, false);
      return false;
    }
    const off = this.ramPage(ppn);
    if (off < 0) {
      this.trap(CAUSE.FETCH_ACCESS, pc, false);
      return false;
    }
    const page = off >>> 12;
    let dec = this.decoded[page];
    if (dec === null) {
      dec = new Int32Array(2048);
      this.decoded[page] = dec;
    }
    this.fDec = dec;
    // A page a trigger watches keeps no memo: each of its fetches comes back here.
    this.fVpn = this.triggers.armed && this.triggers.watches(pc >>> 12) ? -1 : pc >>> 12;
    this.fOff = off;
    this.fIdx = this.tIdx;
    this.fHit = this.tHit;
    return true;
  }

  /** Whether an Sdtrig trigger fires for this access now (priority above faults: priv. spec 3.1.15). */
  private triggerFires(kind: number, addr: number): boolean {
    return this.triggers.fires(kind, addr >>> 0, this.priv, (this.mstatus & MSTATUS.MIE) !== 0);
  }

  /** Decode the word at the fetch memo's page slot into the cache. */
  private predecode(dec: Int32Array, slot: number, pc: number): number {
    const word = this.ram32[(this.fOff + (pc & 0xfff)) >>> 2];
    const spec = decode(word);
    let packed: number;
    if (spec === undefined) {
      packed = OP_ILLEGAL;
      dec[slot + 1] = word;
    } else {
      const rd = (word >>> 7) & 31;
      packed =
        spec.op | ((rd === 0 ? 32 : rd) << 8) | (((word >>> 15) & 31) << 14) | (((word >>> 20) & 31) << 19);
      dec[slot + 1] = immediateOf(spec.args, word);
    }
    packed |= ENDS_BLOCK[packed & 0xff] << ENDS_BLOCK_BIT;
    dec[slot] = packed;
    return packed;
  }

  /** Loads that miss the memo or are misaligned. Returns the value (sign-extended as asked). */
  loadSlow(va: number, width: 1 | 2 | 4, signed: boolean): number {
    if (this.triggers.armed && this.triggerFires(TRIGGER_LOAD, va)) {
      this.exception(CAUSE.BREAKPOINT, va);
      return 0;
    }
    if ((va & (width - 1)) !== 0) {
      if (this.config.misaligned === "perform") return this.loadMisaligned(va, width, signed);
      this.exception(CAUSE.MISALIGNED_LOAD, va);
      return 0;
    }
    const ppn = this.translate(va, ACCESS_LOAD);
    if (ppn < 0) {
      this.exception(this.tCause, va);
      return 0;
    }
    const page = this.ramPage(ppn);
    if (page >= 0) {
      const off = page + (va & 0xfff);
      this.lVpn = this.triggers.armed && this.triggers.watches(va >>> 12) ? -1 : va >>> 12;
      this.lOff = page;
      this.lIdx = this.tIdx;
      this.lHit = this.tHit;
      if (width === 4) return this.ram32[off >>> 2];
      if (width === 2) return signed ? this.ram16[off >>> 1] : this.ramU16[off >>> 1];
      return signed ? this.ram8[off] : this.ram[off];
    }
    const pa = ppn * 4096 + (va & 0xfff);
    const d = this.device(pa);
    if (d === undefined) {
      this.exception(CAUSE.LOAD_ACCESS, va);
      return 0;
    }
    this.deviceLoads++;
    const v = d.load(pa - d.base, width);
    if (width === 4) return v | 0;
    if (width === 2) return signed ? (v << 16) >> 16 : v & 0xffff;
    return signed ? (v << 24) >> 24 : v & 0xff;
  }

  /** Stores that miss the memo or are misaligned; false after a fault. */
  storeSlow(va: number, width: 1 | 2 | 4, value: number): boolean {
    if (this.triggers.armed && this.triggerFires(TRIGGER_STORE, va)) {
      this.exception(CAUSE.BREAKPOINT, va);
      return false;
    }
    if ((va & (width - 1)) !== 0) {
      if (this.config.misaligned === "perform") return this.storeMisaligned(va, width, value);
      this.exception(CAUSE.MISALIGNED_STORE, va);
      return false;
    }
    const ppn = this.translate(va, ACCESS_STORE);
    if (ppn < 0) {
      this.exception(this.tCause, va);
      return false;
    }
    const page = this.ramPage(ppn);
    const pa = ppn * 4096 + (va & 0xfff);
    if (page >= 0) {
      const off = page + (va & 0xfff);
      const watched = ppn === this.watchPage || (this.triggers.armed && this.triggers.watches(va >>> 12));
      if (!watched) {
        this.sVpn = va >>> 12;
        this.sOff = page;
        this.sIdx = this.tIdx;
        this.sHit = this.tHit;
      }
      this.writeRam(off, width, value);
      if (ppn === this.watchPage) this.onWatchedStore(pa);
      return true;
    }
    const d = this.device(pa);
    if (d === undefined) {
      this.exception(CAUSE.STORE_ACCESS, va);
      return false;
    }
    this.deviceStores++;
    d.store(pa - d.base, width, width === 4 ? value >>> 0 : value & (width === 2 ? 0xffff : 0xff));
    return true;
  }

  /**
   * Misaligned loads and stores (config.misaligned "perform"), on the slow
   * path only. Each page the access touches is translated once, before any
   * byte moves, so a fault leaves registers and memory as they were; the
   * fault names the address of the portion that faulted (priv. spec 3.1.16).
   * Only RAM is accessed this way: a misaligned access to a device, or
   * beyond RAM, is an access fault (which the spec allows for any
   * misaligned access). Stores to the HTIF tohost word must be aligned.
   */
  private loadMisaligned(va: number, width: 1 | 2 | 4, signed: boolean): number {
    if (!this.misalignedSpan(va, width, ACCESS_LOAD)) return 0;
    let v = 0;
    for (let i = 0; i < width; i++) v |= this.ram[this.misalignedByte(va, i)] << (8 * i);
    if (width === 4) return v | 0;
    return signed ? (v << 16) >> 16 : v;
  }

  private storeMisaligned(va: number, width: 1 | 2 | 4, value: number): boolean {
    if (!this.misalignedSpan(va, width, ACCESS_STORE)) return false;
    for (let i = 0; i < width; i++) this.writeRam(this.misalignedByte(va, i), 1, (value >>> (8 * i)) & 0xff);
    return true;
  }

  /** RAM offsets of the pages under a misaligned access (first page, and the next one when it crosses). */
  private maPage0 = 0;
  private maPage1 = 0;

  /** Translates the pages of a misaligned access to RAM; false after raising the fault. */
  private misalignedSpan(va: number, width: number, access: Access): boolean {
    this.misalignedAccesses++;
    this.maPage0 = this.ramPageFor(va, access);
    if (this.maPage0 < 0) return false;
    const last = (va + width - 1) | 0;
    if (last >>> 12 === va >>> 12) return true;
    this.maPage1 = this.ramPageFor(last & ~0xfff, access);
    return this.maPage1 >= 0;
  }

  /** RAM offset of byte i of the misaligned access at va (after misalignedSpan). */
  private misalignedByte(va: number, i: number): number {
    const a = (va + i) | 0;
    return (a >>> 12 === va >>> 12 ? this.maPage0 : this.maPage1) + (a & 0xfff);
  }

  /** RAM offset of the page a data address maps to, or -1 after raising the page or access fault at va. */
  private ramPageFor(va: number, access: Access): number {
    const ppn = this.translate(va, access);
    if (ppn < 0) {
      this.exception(this.tCause, va);
      return -1;
    }
    const page = this.ramPage(ppn);
    if (page < 0) this.exception(access === ACCESS_LOAD ? CAUSE.LOAD_ACCESS : CAUSE.STORE_ACCESS, va);
    return page;
  }

  /** Write RAM and drop the decoded-instruction slot it overlaps. */
  private writeRam(off: number, width: 1 | 2 | 4, value: number): void {
    if (width === 4) this.ram32[off >>> 2] = value;
    else if (width === 2) this.ramU16[off >>> 1] = value;
    else this.ram[off] = value;
    this.dirtyPages.mark(off >>> 12);
    const dec = this.decoded[off >>> 12];
    if (dec !== null) {
      dec[(off & 0xffc) >>> 1] = 0;
      this.jit?.written(off);
    }
  }

  /** LR, SC and AMOs: word-aligned RAM only (devices give access faults). */
  private atomic(op: number, rd: number, va: number, src: number): boolean {
    const isLr = op === 60;
    if (this.triggers.armed && this.triggerFires(isLr ? TRIGGER_LOAD : TRIGGER_STORE | TRIGGER_LOAD, va)) {
      this.exception(CAUSE.BREAKPOINT, va);
      return false;
    }
    if ((va & 3) !== 0) {
      this.exception(isLr ? CAUSE.MISALIGNED_LOAD : CAUSE.MISALIGNED_STORE, va);
      return false;
    }
    const ppn = this.translate(va, isLr ? ACCESS_LOAD : ACCESS_STORE);
    if (ppn < 0) {
      this.exception(this.tCause, va);
      return false;
    }
    const page = this.ramPage(ppn);
    const off = page + (va & 0xfff);
    if (page < 0) {
      this.exception(isLr ? CAUSE.LOAD_ACCESS : CAUSE.STORE_ACCESS, va);
      return false;
    }
    const x = this.x;
    const old = this.ram32[off >>> 2];
    if (isLr) {
      this.reservation = off;
      x[rd] = old;
      return true;
    }
    if (op === 61) {
      const ok = this.reservation === off;
      this.reservation = -1;
      if (ok) this.writeRam(off, 4, src);
      if (ok && ppn === this.watchPage) this.onWatchedStore(ppn * 4096 + (va & 0xfff));
      x[rd] = ok ? 0 : 1;
      return true;
    }
    this.writeRam(off, 4, amoResult(op, old, src));
    x[rd] = old;
    if (ppn === this.watchPage) this.onWatchedStore(ppn * 4096 + (va & 0xfff));
    return true;
  }

  // ---------------------------------------------------------------- physical access for tools and handlers

  /** Read physical memory (RAM or device) without side effects on the TLB. Returns undefined when nothing decodes it. */
  readPhys(pa: number, width: 1 | 2 | 4): number | undefined {
    const off = this.ramOffset(pa);
    if (off >= 0) {
      if (width === 4) return this.ram32[off >>> 2] >>> 0;
      if (width === 2) return this.ramU16[off >>> 1];
      return this.ram[off];
    }
    const d = this.device(pa);
    return d?.load(pa - d.base, width);
  }

  /** Write physical memory (RAM or device). Returns false when nothing decodes it. */
  writePhys(pa: number, width: 1 | 2 | 4, value: number): boolean {
    const off = this.ramOffset(pa);
    if (off >= 0) {
      this.writeRam(off, width, value);
      return true;
    }
    const d = this.device(pa);
    if (!d) return false;
    d.store(pa - d.base, width, value >>> 0);
    return true;
  }

  /**
   * The physical address a virtual address maps to for this hart right now
   * (fetch view when `fetch`, else the data view with MPRV), without touching
   * the TLB, counters or A/D bits. -1 when unmapped.
   */
  peekPhys(va: number, fetch = false): number {
    const priv = fetch ? this.priv : this.dataPriv;
    if (this.hx !== undefined && isTwoStage(this, this.hx, fetch ? ACCESS_FETCH : ACCESS_LOAD))
      return peekTwoStage(this, this.hx, va >>> 0);
    if (this.satp >= 0 || priv === 3) return va >>> 0;
    return peekWalk(this, this.satp & 0x3fffff, va >>> 0);
  }

  /** Copy bytes into RAM at a physical address (image loading); drops decoded code. */
  loadBytes(pa: number, bytes: Uint8Array): void {
    const off = this.ramOffset(pa);
    if (off < 0 || off + bytes.length > this.ramSize) {
      throw new RangeError(
        `0x${(pa >>> 0).toString(16)}+${bytes.length} is outside RAM (0x${RAM_BASE.toString(16)}, ${this.ramSize} bytes)`,
      );
    }
    this.ram.set(bytes, off);
    this.dirtyPages.markRange(off, bytes.length);
    this.flushDecoded();
  }

  // ---------------------------------------------------------------- the interpreter

  /**
   * Run at most `budget` instructions (faulting ones included, so a guest
   * stuck in a fault loop still ends). Returns when the budget is spent or a
   * stop was requested (stopReason says which).
   */
  run(budget: number): StopReason {
    this.stopReason = undefined;
    const x = this.x;
    const ram32 = this.ram32;
    const ram16 = this.ram16;
    const ramU16 = this.ramU16;
    const ram8 = this.ram8;
    const ramU8 = this.ram;
    const decoded = this.decoded;
    const jit = this.jit;
    const dtlb = this.dtlb;
    const dc = dtlb.counters;
    let pc = this.pc | 0;
    let left = budget;
    // Whether pc starts a basic block (after a jump, a branch, an instruction only the interpreter
    // runs, a trap, or at a page start): only there is translated code looked for.
    let boundary = true;
    this.quiet = 0;

    while (left > 0) {
      left--;
      if (--this.quiet < 0) {
        this.pc = pc >>> 0;
        if (!this.pollEvents()) break;
        pc = this.pc | 0;
      }
      // Fetch through the memo, else the slow path (which may trap). Untranslated: no TLB, no counts.
      if (pc >>> 12 === this.fVpn) {
        this.fetchHit();
      } else {
        this.pc = pc >>> 0;
        if ((pc & 3) !== 0) {
          this.trap(CAUSE.MISALIGNED_FETCH, pc, false);
          pc = this.pc | 0;
          boundary = true;
          continue;
        }
        if (!this.refillFetch()) {
          pc = this.pc | 0;
          boundary = true;
          continue;
        }
      }
      const slot = (pc & 0xffc) >>> 1;
      // Translated code for this address runs here instead, from this instruction on (jit/blocks.ts).
      if (jit !== undefined && (boundary || slot === 0) && pc >>> 12 === this.fVpn) {
        const n = jit.run(pc, this.fOff >>> 12, slot >>> 1, Math.min(left, this.quiet));
        if (n !== 0) {
          left -= n - 1;
          this.quiet -= n - 1;
          pc = this.pc | 0;
          continue;
        }
      }
      const dec = this.fDec;
      let d = dec[slot];
      if (d === 0) d = this.predecode(dec, slot, pc);
      boundary = d >= 1 << ENDS_BLOCK_BIT;
      const imm = dec[slot + 1];
      const rd = (d >>> 8) & 63;
      const rs1 = (d >>> 14) & 31;
      const rs2 = (d >>> 19) & 31;
      this.instret++;

      switch (d & 0xff) {
        case 1: // lui
          x[rd] = imm;
          break;
        case 2: // auipc
          x[rd] = pc + imm;
          break;
        case 3: {
          // jal
          const target = (pc + imm) | 0;
          if ((target & 3) !== 0) {
            this.pc = pc >>> 0;
            this.exception(CAUSE.MISALIGNED_FETCH, target);
            break;
          }
          x[rd] = pc + 4;
          pc = target;
          continue;
        }
        case 4: {
          // jalr
          const target = (x[rs1] + imm) & ~1;
          if ((target & 3) !== 0) {
            this.pc = pc >>> 0;
            this.exception(CAUSE.MISALIGNED_FETCH, target);
            break;
          }
          x[rd] = pc + 4;
          pc = target;
          continue;
        }
        case 5: // beq
          if (x[rs1] === x[rs2]) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 6: // bne
          if (x[rs1] !== x[rs2]) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 7: // blt
          if (x[rs1] < x[rs2]) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 8: // bge
          if (x[rs1] >= x[rs2]) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 9: // bltu
          if (x[rs1] >>> 0 < x[rs2] >>> 0) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 10: // bgeu
          if (x[rs1] >>> 0 >= x[rs2] >>> 0) {
            if (this.branch(pc, imm)) break;
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 11: // lb
        case 12: // lh
        case 13: // lw
        case 14: // lbu
        case 15: {
          // lhu
          const op = d & 0xff;
          const width = LOAD_WIDTH[op];
          const va = (x[rs1] + imm) | 0;
          if (va >>> 12 === this.lVpn && (va & (width - 1)) === 0) {
            this.memoHit(dc, dtlb, this.lHit, this.lIdx);
            const off = this.lOff + (va & 0xfff);
            if (op === 13) x[rd] = ram32[off >>> 2];
            else if (op === 11) x[rd] = ram8[off];
            else if (op === 14) x[rd] = ramU8[off];
            else if (op === 12) x[rd] = ram16[off >>> 1];
            else x[rd] = ramU16[off >>> 1];
          } else {
            this.pc = pc >>> 0;
            const v = this.loadSlow(va, width, op === 11 || op === 12);
            if (this.trapped) break;
            x[rd] = v;
          }
          break;
        }
        case 16: // sb
        case 17: // sh
        case 18: {
          // sw
          const width = (1 << ((d & 0xff) - 16)) as 1 | 2 | 4;
          const va = (x[rs1] + imm) | 0;
          if (va >>> 12 === this.sVpn && (va & (width - 1)) === 0) {
            this.memoHit(dc, dtlb, this.sHit, this.sIdx);
            const off = this.sOff + (va & 0xfff);
            if (width === 4) ram32[off >>> 2] = x[rs2];
            else if (width === 2) ramU16[off >>> 1] = x[rs2];
            else ramU8[off] = x[rs2];
            const cached = decoded[off >>> 12];
            if (cached !== null) {
              cached[(off & 0xffc) >>> 1] = 0;
              if (jit !== undefined) jit.written(off);
            }
          } else {
            this.pc = pc >>> 0;
            this.storeSlow(va, width, x[rs2]);
          }
          break;
        }
        case 19: // addi
          x[rd] = x[rs1] + imm;
          break;
        case 20: // slti
          x[rd] = x[rs1] < imm ? 1 : 0;
          break;
        case 21: // sltiu
          x[rd] = x[rs1] >>> 0 < imm >>> 0 ? 1 : 0;
          break;
        case 22: // xori
          x[rd] = x[rs1] ^ imm;
          break;
        case 23: // ori
          x[rd] = x[rs1] | imm;
          break;
        case 24: // andi
          x[rd] = x[rs1] & imm;
          break;
        case 25: // slli
          x[rd] = x[rs1] << imm;
          break;
        case 26: // srli
          x[rd] = x[rs1] >>> imm;
          break;
        case 27: // srai
          x[rd] = x[rs1] >> imm;
          break;
        case 28: // add
          x[rd] = x[rs1] + x[rs2];
          break;
        case 29: // sub
          x[rd] = x[rs1] - x[rs2];
          break;
        case 30: // sll
          x[rd] = x[rs1] << (x[rs2] & 31);
          break;
        case 31: // slt
          x[rd] = x[rs1] < x[rs2] ? 1 : 0;
          break;
        case 32: // sltu
          x[rd] = x[rs1] >>> 0 < x[rs2] >>> 0 ? 1 : 0;
          break;
        case 33: // xor
          x[rd] = x[rs1] ^ x[rs2];
          break;
        case 34: // srl
          x[rd] = x[rs1] >>> (x[rs2] & 31);
          break;
        case 35: // sra
          x[rd] = x[rs1] >> (x[rs2] & 31);
          break;
        case 36: // or
          x[rd] = x[rs1] | x[rs2];
          break;
        case 37: // and
          x[rd] = x[rs1] & x[rs2];
          break;
        case 38: // fence
        case 39: // fence.i
          // One hart, in-order memory, and a decoded cache kept coherent with stores.
          break;
        case 40: // ecall
          this.pc = pc >>> 0;
          this.exception(CAUSE.ECALL_U + this.priv + (this.virt & this.priv), 0); // VS: 10
          break;
        case 41: // ebreak
          this.pc = pc >>> 0;
          this.exception(CAUSE.BREAKPOINT, pc);
          break;
        case 42: // sret
          this.pc = pc >>> 0;
          if (this.virt !== 0 && this.virtualSystem("sret", pc, 0, 0)) break;
          if (this.priv === 0 || (this.priv === 1 && (this.mstatus & MSTATUS.TSR) !== 0)) {
            this.exception(CAUSE.ILLEGAL_INSTRUCTION, this.wordAt(pc));
            break;
          }
          this.sret();
          pc = this.pc | 0;
          continue;
        case 43: // mret
          this.pc = pc >>> 0;
          if (this.priv !== 3) {
            this.exception(CAUSE.ILLEGAL_INSTRUCTION, this.wordAt(pc));
            break;
          }
          this.mret();
          pc = this.pc | 0;
          continue;
        case 44: // wfi
          this.pc = pc >>> 0;
          if (this.virt !== 0 && this.virtualSystem("wfi", pc, 0, 0)) break;
          // TW traps WFI below M; WFI in U-mode is illegal when S-mode exists (3.1.6.5).
          if (this.priv === 0 || (this.priv === 1 && (this.mstatus & MSTATUS.TW) !== 0)) {
            this.exception(CAUSE.ILLEGAL_INSTRUCTION, this.wordAt(pc));
            break;
          }
          this.waitForInterrupt();
          break;
        case 45: // sfence.vma
          this.pc = pc >>> 0;
          if (this.virt !== 0 && this.virtualSystem("sfence.vma", pc, rs1, rs2)) break;
          if (this.priv === 0 || (this.priv === 1 && (this.mstatus & MSTATUS.TVM) !== 0)) {
            this.exception(CAUSE.ILLEGAL_INSTRUCTION, this.wordAt(pc));
            break;
          }
          // Bits of rs2 above ASIDLEN are ignored (4.2.1).
          this.sfence(rs1 !== 0, x[rs1], rs2 !== 0, x[rs2] & ((1 << this.config.asidBits) - 1));
          break;
        case 46: // csrrw
        case 47: // csrrs
        case 48: // csrrc
        case 49: // csrrwi
        case 50: // csrrsi
        case 51: // csrrci
          this.pc = pc >>> 0;
          this.csrInstruction(d & 0xff, rd, rs1, imm);
          break;
        case 52: // mul
          x[rd] = Math.imul(x[rs1], x[rs2]);
          break;
        case 53: // mulh
          x[rd] = mulh(x[rs1], x[rs2]);
          break;
        case 54: // mulhsu
          x[rd] = mulhsu(x[rs1], x[rs2]);
          break;
        case 55: // mulhu
          x[rd] = mulhu(x[rs1], x[rs2]);
          break;
        case 56: // div
          x[rd] = div(x[rs1], x[rs2]);
          break;
        case 57: // divu
          x[rd] = divu(x[rs1], x[rs2]);
          break;
        case 58: // rem
          x[rd] = rem(x[rs1], x[rs2]);
          break;
        case 59: // remu
          x[rd] = remu(x[rs1], x[rs2]);
          break;
        case 60: // lr.w
        case 61: // sc.w
        case 62: // amoswap.w
        case 63: // amoadd.w
        case 64: // amoxor.w
        case 65: // amoand.w
        case 66: // amoor.w
        case 67: // amomin.w
        case 68: // amomax.w
        case 69: // amominu.w
        case 70: // amomaxu.w
          this.pc = pc >>> 0;
          this.atomic(d & 0xff, rd, x[rs1], x[rs2]);
          break;
        case 71: // roi.begin
          this.mark("begin", undefined);
          break;
        case 72: // roi.end
          this.mark("end", rs1 === 0 ? undefined : x[rs1] >>> 0);
          break;
        case 73: // hfence.vvma
        case 74: // hfence.gvma
        case 75: // hlv.b
        case 76: // hlv.bu
        case 77: // hlv.h
        case 78: // hlv.hu
        case 79: // hlvx.hu
        case 80: // hlv.w
        case 81: // hlvx.wu
        case 82: // hsv.b
        case 83: // hsv.h
        case 84: // hsv.w
          this.pc = pc >>> 0;
          if (this.hx === undefined) this.exception(CAUSE.ILLEGAL_INSTRUCTION, this.wordAt(pc));
          else hInstruction(this, this.hx, d & 0xff, rd, rs1, rs2, this.wordAt(pc));
          break;
        default:
          // OP_ILLEGAL: the immediate slot holds the instruction bits for mtval.
          this.pc = pc >>> 0;
          this.exception(CAUSE.ILLEGAL_INSTRUCTION, imm);
          break;
      }
      if (this.trapped) {
        this.trapped = false;
        boundary = true;
        pc = this.pc | 0;
      } else {
        pc = (pc + 4) | 0;
      }
    }
    this.pc = pc >>> 0;
    this.instretByPriv[this.priv] += this.instret - this.privSince;
    this.privSince = this.instret;
    if (this.stopReason === undefined && left <= 0) this.stopReason = "budget";
    return this.stopReason ?? "budget";
  }

  /** A retired ROI mark: report it, and stop right after it when asked to. */
  private mark(kind: RoiKind, ops: number | undefined): void {
    this.onMark(kind, ops);
    if (this.stopAtMark === kind) this.requestStop("mark");
  }

  /**
   * A fetch the fetch memo serves: the I-TLB lookup and hit it stands for
   * (none with translation off) and its entry made the most recent, as a
   * full lookup that hit would. Translated blocks chain through this too.
   */
  fetchHit(): void {
    if (this.fHit === 0) return;
    const itlb = this.itlb;
    itlb.counters.lookups++;
    itlb.counters.hits++;
    itlb.touch(this.fIdx);
  }

  /** A data access served by a memo: count the TLB hit it stands for and keep LRU order exact. */
  private memoHit(dc: { lookups: number; hits: number }, dtlb: Tlb, hit: number, i: number): void {
    if (hit === 0) return; // translation off: no TLB lookup happened
    dc.lookups++;
    dc.hits++;
    dtlb.touch(i);
  }

  /** A taken branch to a misaligned target raises the exception at the branch; true then. */
  private branch(pc: number, offset: number): boolean {
    const target = (pc + offset) | 0;
    if ((target & 3) === 0) return false;
    this.pc = pc >>> 0;
    this.exception(CAUSE.MISALIGNED_FETCH, target);
    return true;
  }

  /** sret, wfi and sfence.vma at V=1 (hext/trap.ts); true when it took care of the instruction. */
  private virtualSystem(name: "sret" | "wfi" | "sfence.vma", pc: number, rs1: number, rs2: number): boolean {
    const x = this.x;
    const asid = x[rs2] & ((1 << this.config.asidBits) - 1);
    return hVirtualSystem(this, this.hx as HState, name, this.wordAt(pc), rs1 !== 0, x[rs1], rs2 !== 0, asid);
  }

  /** The instruction word at a pc that was just fetched (for mtval). */
  private wordAt(pc: number): number {
    return this.ram32[(this.fOff + (pc & 0xfff)) >>> 2] >>> 0;
  }

  /** CSR instructions (Zicsr): access checks, then read-modify-write with the spec's side-effect rules. */
  private csrInstruction(op: number, rd: number, rs1: number, csr: number): void {
    const x = this.x;
    const immForm = op >= 49;
    const src = immForm ? rs1 : x[rs1];
    const kind = immForm ? op - 49 : op - 46; // 0 = write, 1 = set, 2 = clear
    // csrrs/csrrc with rs1 = x0 (or uimm = 0) do not write; csrrw with rd = x0 does not read.
    const writes = kind === 0 || rs1 !== 0;
    const reads = kind !== 0 || rd !== 32;
    const fault = csrFault(this, csr, writes);
    if (fault !== 0) {
      this.exception(fault, this.wordAt(this.pc));
      return;
    }
    // Counters read as they were before this instruction; a write replaces its increment (Zicsr, "CSR Instructions").
    this.instret--;
    const old = reads ? (csrRead(this, csr) ?? 0) : 0;
    this.instret++;
    if (writes) {
      const v = kind === 0 ? src : kind === 1 ? old | src : old & ~src;
      csrWrite(this, csr, v | 0);
    }
    x[rd] = old;
  }
}

/** base + adj + adjHi·2^32 modulo 2^64 (see Hart.instretAdjust). */
function counter64(base: number, adj: number, adjHi: number): number {
  const sum = base + adj;
  return ((Math.floor(sum / 2 ** 32) + adjHi) >>> 0) * 2 ** 32 + (sum >>> 0);
}

/** Access width of the loads by op id (lb, lh, lw, lbu, lhu are ops 11-15). */
const LOAD_WIDTH: readonly (1 | 2 | 4)[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 1, 2] as (1 | 2 | 4)[];

function vectorTarget(tvec: number, cause: number, interrupt: boolean): number {
  const base = tvec & ~3;
  return ((tvec & 3) === 1 && interrupt ? base + 4 * cause : base) >>> 0;
}

/** The value an AMO stores, from the old memory word `a` and rs2 `b`; `op` is the ISA table's op of the AMO (amoswap.w .. amomaxu.w). */
export function amoResult(op: number, a: number, b: number): number {
  switch (op) {
    case 62: // amoswap.w
      return b;
    case 63: // amoadd.w
      return (a + b) | 0;
    case 64: // amoxor.w
      return a ^ b;
    case 65: // amoand.w
      return a & b;
    case 66: // amoor.w
      return a | b;
    case 67: // amomin.w
      return Math.min(a, b);
    case 68: // amomax.w
      return Math.max(a, b);
    case 69: // amominu.w
      return a >>> 0 < b >>> 0 ? a : b;
    default: // amomaxu.w
      return a >>> 0 > b >>> 0 ? a : b;
  }
}

export {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  accessFaultCause,
  div,
  divu,
  mulh,
  mulhsu,
  mulhu,
  PRIV,
  rem,
  remu,
};
