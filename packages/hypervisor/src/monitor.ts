/**
 * The trap-and-emulate monitor. It installs itself as the machine-mode trap
 * handler of an emu-core machine and runs guests in real U-mode while they
 * believe they are a supervisor: privileged instructions trap as illegal and
 * are emulated on the vCPU, device accesses fault and are emulated against
 * the guest's own devices, page faults go to the paging strategy, and every
 * exception or interrupt that belongs to the guest is delivered into it as
 * hardware would deliver it to an S-mode.
 */
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  type Access,
  asidLen,
  type BootFiles,
  CAUSE,
  COMPARATOR_NEVER,
  CSR,
  csrWrite,
  decode,
  diffStats,
  EXCEPTION_NAMES,
  type Hart,
  type Image,
  INTERRUPT_NAMES,
  IRQ,
  immI,
  immS,
  Machine,
  type MachineConfig,
  type MachineTrapHandler,
  RAM_BASE,
  type RoiKind,
  rdOf,
  rs1Of,
  rs2Of,
  type StatsSnapshot,
  specByName,
} from "@shadowlab/emu-core";
import { AsidAllocator } from "./asid-allocator.ts";
import { nativeBootInstructions } from "./boot-clock.ts";
import { MonitorCheckpoint } from "./checkpoint.ts";
import { CounterFamily, counterId, HvCounters } from "./counters.ts";
import { Guest } from "./guest.ts";
import { MachinePages } from "./machine-pages.ts";
import { HwMode, type HwMonitor } from "./modes/hw.ts";
import { strategyFactory } from "./paging/registry.ts";
import { EXECUTION_MODES, type ExecutionMode, FAULT } from "./paging/strategy.ts";
import { type SbiPort, sbiCall } from "./sbi.ts";
import { trapModeSbiPort } from "./sbi-port.ts";
import { defaultShadowBudget, SHADOW_HEADROOM_PAGES } from "./shadow-pages.ts";
import { VS_INTERRUPTS } from "./vcpu.ts";
import {
  enterSupervisor,
  returnFromSupervisor,
  VCSR_EFFECT,
  vcsrAllowed,
  vcsrRead,
  vcsrWrite,
} from "./vcsr.ts";

export interface HypervisorConfig {
  /** The machine the hypervisor runs on (its RAM holds every guest and every shadow table). */
  machine: Partial<MachineConfig>;
  /** Guest-physical RAM of each guest, in bytes (default 128 MiB, the native board's). */
  guestRamSize: number;
  /** Instructions a guest runs before the next guest gets the hart (with more than one guest). */
  slice: number;
  /**
   * Machine pages the shadow tables of one guest may occupy before its
   * strategy reclaims (least recently used shadows first, never the one the
   * guest runs on). "auto" (the default) is 1/16 of the guest's RAM pages,
   * at least 256. A guest's hard limit is its budget plus one full shadow
   * table (SHADOW_HEADROOM_PAGES); a guest that reaches it is stopped alone.
   * Infinity: no budget and no limit (guests can then starve each other).
   */
  shadowBudgetPages: number | "auto";
  /**
   * satp.ASID bits each guest sees. Default: what the machine implements
   * (none without ASID tags), the ASIDLEN the guest would see natively. More
   * than the machine has is legal (the monitor maps guest ASIDs onto machine
   * ASIDs and recycles them), but then the guest sees a different machine.
   */
  guestAsidBits?: number;
  /** Hard limit on one guest's shadow pages; "auto": the budget plus SHADOW_HEADROOM_PAGES. */
  shadowLimitPages: number | "auto";
  /** How guest kernels run: `trap` (U-mode, trap-and-emulate) or `hw` (VS-mode on the H extension). */
  mode: ExecutionMode;
}

export const DEFAULT_HYPERVISOR: HypervisorConfig = {
  machine: { ramSize: 512 * 1024 * 1024 },
  guestRamSize: 128 * 1024 * 1024,
  slice: 100_000,
  shadowBudgetPages: "auto",
  shadowLimitPages: "auto",
  mode: "trap",
};

/** Machine RAM kept out of the page pool in hw mode for 16 KiB aligned G-stage roots (64 guests). */
const GSTAGE_ROOTS_BYTES = 64 * 0x4000;

export interface GuestResult {
  name: string;
  /** exited: powered off through its test device; wfi: waits for an interrupt that cannot come; failed: see error; runnable/waiting: the budget ran out. */
  state: Guest["state"];
  exitCode: number;
  output: string;
  error: string;
}

export interface HvRunResult {
  guests: GuestResult[];
  /** Guest instructions retired during the run (all guests). */
  instructions: number;
  /** Machine counters plus the hypervisor's (`extra`, prefixed `hv.`). */
  stats: StatsSnapshot;
  /** The run stopped right after the `stopAtMark` region-of-interest mark retired. */
  stoppedAtMark: boolean;
}

const CSRRW_OP = specByName("csrrw")?.op ?? 0;
/** Supervisor interrupts in the order the spec gives them priority (SEI > SSI > STI). */
const VS_PRIORITY = [IRQ.SEI, IRQ.SSI, IRQ.STI] as const;

// Counter ids of the exit path, resolved once (counters.ts): an exit counts without building a name.
const EXIT_HIDDEN_FAULT = counterId("exit.hidden_fault");
const EXIT_SBI = counterId("exit.sbi");
const EXIT_SRET = counterId("exit.emulate.sret");
const EXIT_WFI = counterId("exit.emulate.wfi");
const EXIT_SFENCE = counterId("exit.emulate.sfence.vma");
const EXIT_MMIO_LOAD = counterId("exit.mmio.load");
const EXIT_MMIO_STORE = counterId("exit.mmio.store");
const TLB_FLUSH_SWITCH = counterId("tlb_flush.switch");
const EXIT_INTERRUPT = new CounterFamily(32, (c) => `exit.interrupt.${INTERRUPT_NAMES[c] ?? c}`);
const INJECT = new CounterFamily(32, (c) => `inject.${INTERRUPT_NAMES[c]}`);
const EXIT_REFLECT = new CounterFamily(32, (c) => `exit.reflect.${EXCEPTION_NAMES[c] ?? c}`);
const EXIT_CSR = new CounterFamily(4096, (csr) => `exit.emulate.csr.${csrLabel(csr)}`);

export class Hypervisor implements MachineTrapHandler {
  readonly config: HypervisorConfig;
  readonly machine: Machine;
  readonly hart: Hart;
  readonly counters = new HvCounters();
  readonly guests: Guest[] = [];
  private readonly pages: MachinePages;
  private readonly asids: AsidAllocator;
  private current: Guest | undefined;
  private readonly tagged: boolean;
  /** The hw execution mode's machinery (undefined in trap mode). */
  private readonly hw: HwMode | undefined;
  private readonly sbiPorts = new Map<Guest, SbiPort>();

  constructor(config: Partial<HypervisorConfig> = {}) {
    // A partial machine configuration (say, only asidBits) keeps the default machine's RAM.
    this.config = {
      ...DEFAULT_HYPERVISOR,
      ...config,
      machine: { ...DEFAULT_HYPERVISOR.machine, ...config.machine },
    };
    const hwMode = this.config.mode === "hw";
    if (!EXECUTION_MODES.includes(this.config.mode))
      throw new RangeError(`mode must be one of ${EXECUTION_MODES.join(", ")} (got "${this.config.mode}")`);
    this.machine = new Machine(hwMode ? { ...this.config.machine, hExtension: true } : this.config.machine);
    this.hart = this.machine.hart;
    this.pages = new MachinePages(this.hart, hwMode ? GSTAGE_ROOTS_BYTES : 0);
    this.asids = new AsidAllocator(this.hart, this.counters);
    this.tagged = this.hart.itlb.config.asidTags;
    this.machine.setTrapHandler(this);
    this.machine.extraCounters.push(() => this.counters.snapshot("hv."));
    this.machine.addCheckpointParticipant(new MonitorCheckpoint(this));
    // Every trap comes to the monitor; only the machine timer interrupts it.
    const h = this.hart;
    csrWrite(h, CSR.medeleg, 0);
    csrWrite(h, CSR.mideleg, 0);
    csrWrite(h, CSR.mie, 1 << IRQ.MTI);
    csrWrite(h, CSR.mcounteren, 0); // counter reads trap, so the vCPU answers them
    h.setPriv(0);
    this.hw = hwMode ? new HwMode(this.hwMonitor(), RAM_BASE, GSTAGE_ROOTS_BYTES) : undefined;
  }

  /** The monitor's paths the hw mode reuses. */
  private hwMonitor(): HwMonitor {
    return {
      hart: this.hart,
      counters: this.counters,
      sbiCall: (g) => this.supervisorEcall(g),
      emulateInstruction: (g, word) => this.emulate(g, word),
      emulateMmio: (g, gpa) => this.emulateMmio(g, gpa),
      shadowPageFault: (g, va, access) => this.pageFault(g, va, access),
    };
  }

  /**
   * Add a guest under the named paging strategy: an ELF `image` that defines
   * `supervisor_entry`, or a kernel booted by the QEMU boot protocol (BootFiles;
   * its `bios` is ignored: the hypervisor serves SBI and the guest starts in
   * pretend S-mode with a0 = hart id, a1 = DTB).
   */
  addGuest(image: Image | BootFiles, strategy: string, name = `guest${this.guests.length}`): Guest {
    const { budget, limit } = this.shadowBudget();
    // The guest's RAM and shadow limit are promised now, so no other guest can take them later.
    if (Number.isFinite(limit)) this.pages.reserve(this.config.guestRamSize / 4096 + limit, name);
    const g = new Guest(
      this.guests.length,
      name,
      this.hart,
      this.pages,
      this.config.guestRamSize,
      image,
      strategyFactory(strategy, this.config.mode),
      this.counters,
      this.asids,
      () => this.hart.requestStop("stop"),
      this.config.mode,
      this.hw ? () => (this.hw as HwMode).allocRoot() : undefined,
      limit,
    );
    g.core.budgetPages = budget;
    g.vcpu.asidBits = this.config.guestAsidBits ?? asidLen(this.hart);
    if (this.guests.length === 0 && this.hart.instret === 0 && !("kernel" in image)) this.startClock(image);
    this.guests.push(g);
    return g;
  }

  /**
   * Start the machine's clock where the first guest's native boot stub leaves it (boot-clock.ts):
   * its instructions count as retired in M-mode, as natively, so every timer deadline the guest
   * arms strikes the same guest instruction. Guests that share the hart share one clock, so only
   * a guest added before anything ran can have it.
   */
  private startClock(image: Image): void {
    const n = nativeBootInstructions(image, this.config.guestRamSize);
    if (n === 0) return;
    const h = this.hart;
    const priv = h.priv;
    h.setPriv(3);
    h.instret += n;
    h.setPriv(priv);
  }

  /** The soft budget and hard limit of each guest's shadow pages. */
  private shadowBudget(): { budget: number; limit: number } {
    const b = this.config.shadowBudgetPages;
    const budget = b === "auto" ? defaultShadowBudget(this.config.guestRamSize / 4096) : b;
    const l = this.config.shadowLimitPages;
    return { budget, limit: l === "auto" ? budget + SHADOW_HEADROOM_PAGES : l };
  }

  /**
   * Run the guests until they have all stopped or `maxInstructions` (retired plus exits) are spent, or,
   * with `stopAtMark`, right after a guest retires that region-of-interest mark (the machine records
   * every mark with its counters, the hypervisor's included).
   */
  run(opts: { maxInstructions?: number; stopAtMark?: RoiKind } = {}): HvRunResult {
    const h = this.hart;
    const before = this.machine.snapshot();
    const startInstret = h.instret;
    let budget = opts.maxInstructions ?? Number.POSITIVE_INFINITY;
    let stoppedAtMark = false;
    h.stopAtMark = opts.stopAtMark;
    while (budget > 0 && !stoppedAtMark) {
      const g = this.pickGuest();
      if (!g) break;
      this.switchTo(g);
      const n = Math.min(budget, this.guests.length > 1 ? this.config.slice : 2 ** 30);
      const retired = h.instret;
      const exits = h.traps.toHandler;
      const stop = h.run(n);
      stoppedAtMark = stop === "mark";
      if (stop === "stuck") g.stuck(h.faultLoop.describe((c) => EXCEPTION_NAMES[c] ?? `cause ${c}`));
      budget -= Math.max(1, h.instret - retired + (h.traps.toHandler - exits));
    }
    h.stopAtMark = undefined;
    this.saveCurrent();
    return {
      guests: this.guests.map((g) => ({
        name: g.name,
        state: g.state,
        exitCode: g.exitCode,
        output: g.output,
        error: g.error,
      })),
      instructions: h.instret - startInstret,
      stats: diffStats(this.machine.snapshot(), before),
      stoppedAtMark,
    };
  }

  /** The next guest to run (round robin); waiting guests wake when their deadline has passed, and time skips ahead when every live guest waits. */
  private pickGuest(): Guest | undefined {
    const live = this.guests.filter((g) => !g.done);
    if (live.length === 0) return undefined;
    const now = this.hart.mtime;
    for (const g of live) if (g.state === "waiting" && g.wakeAt <= now) g.state = "runnable";
    if (!live.some((g) => g.state === "runnable")) {
      const wake = Math.min(...live.map((g) => g.wakeAt));
      this.counters.add("idle.time_skipped", wake - now);
      // Sleeping time passes as it does for a native WFI: the clock and the cycle counter advance.
      this.hart.mtime = wake;
      this.hart.idleCycles += (wake - now) * this.hart.config.instructionsPerTick;
      for (const g of live) if (g.wakeAt <= wake) g.state = "runnable";
    }
    const start = this.current ? this.guests.indexOf(this.current) + 1 : 0;
    for (let k = 0; k < this.guests.length; k++) {
      const g = this.guests[(start + k) % this.guests.length];
      if (g.state === "runnable") return g;
    }
    return undefined;
  }

  private saveCurrent(): void {
    const g = this.current;
    if (!g) return;
    g.regs.set(this.hart.x.subarray(0, 32));
    g.pc = this.hart.pc;
    g.reservation = this.hart.reservation;
  }

  private switchTo(g: Guest): void {
    if (this.current !== g) {
      this.saveCurrent();
      if (this.current) this.counters.add("guest_switch");
      this.hart.x.set(g.regs);
      this.hart.pc = g.pc;
      this.hart.reservation = g.reservation;
      this.current = g;
    }
    this.hw?.load(g);
    this.resume(g);
  }

  // ------------------------------------------------------------------ the trap handler

  trap(hart: Hart, cause: number, tval: number, interrupt: boolean): void {
    const g = this.current;
    if (!g) return;
    // The exit is hidden from the guest until it is shown: keep its LR reservation
    // (reflect(), sret and the SBI call clear it, as the native trap or xRET would).
    hart.reservation = hart.reservationAtTrap;
    try {
      if (this.hw) {
        if (interrupt) this.hw.onInterrupt(cause);
        else this.hw.onException(g, cause, tval);
      } else if (interrupt) this.onInterrupt(cause);
      else this.onException(g, cause, tval);
      if (g.done || g.state === "waiting") hart.requestStop("stop");
      else this.resume(g);
    } catch (e) {
      // A monitor-level problem (out of machine memory, ...) ends this guest, never the host.
      g.fail(e instanceof Error ? e.message : String(e));
      hart.requestStop("stop");
    }
  }

  private onInterrupt(cause: number): void {
    // Only the machine timer is enabled: it stands for the guest's stimecmp,
    // whose STIP the vCPU computes from time; injection happens in resume().
    this.counters.bump(EXIT_INTERRUPT.id(cause));
  }

  private onException(g: Guest, cause: number, tval: number): void {
    switch (cause) {
      case CAUSE.ILLEGAL_INSTRUCTION:
        this.emulate(g, tval);
        return;
      case CAUSE.ECALL_U:
        // The guest runs in real U-mode either way; its pretend mode says whose ecall it is.
        if (g.vcpu.mode === 0) this.reflect(g, CAUSE.ECALL_U, 0);
        else this.supervisorEcall(g);
        return;
      case CAUSE.FETCH_PAGE_FAULT:
        this.pageFault(g, tval, ACCESS_FETCH);
        return;
      case CAUSE.LOAD_PAGE_FAULT:
        this.pageFault(g, tval, ACCESS_LOAD);
        return;
      case CAUSE.STORE_PAGE_FAULT:
        this.pageFault(g, tval, ACCESS_STORE);
        return;
      default:
        // Misaligned accesses, breakpoints and access faults are the guest's own.
        this.reflect(g, cause, tval);
    }
  }

  /** Deliver an exception or interrupt into the guest exactly as a hart delivers it to S-mode. */
  private reflect(g: Guest, cause: number, tval: number, interrupt = false): void {
    if (this.hw) {
      this.hw.reflect(g, cause, tval); // into VS (only exceptions: VS interrupts are hardware's)
      return;
    }
    const v = g.vcpu;
    this.hart.reservation = -1; // a trap the guest sees clears it, as natively
    this.counters.bump(interrupt ? INJECT.id(cause) : EXIT_REFLECT.id(cause));
    v.scause = (interrupt ? 0x8000_0000 | cause : cause) >>> 0;
    v.sepc = this.hart.pc >>> 0;
    v.stval = tval >>> 0;
    enterSupervisor(v);
    const base = v.stvec & ~3;
    this.hart.pc = ((v.stvec & 3) === 1 && interrupt ? base + 4 * cause : base) >>> 0;
    g.strategy.onViewChange();
  }

  private pageFault(g: Guest, va: number, access: Access): void {
    switch (g.strategy.onPageFault(va >>> 0, access)) {
      case FAULT.FILLED:
        this.counters.bump(EXIT_HIDDEN_FAULT);
        return;
      case FAULT.REFLECT:
        this.reflect(g, g.core.lastCause, va);
        return;
      case FAULT.MMIO:
        this.emulateMmio(g, g.core.lastGpa);
        return;
      case FAULT.EMULATED:
        return; // the strategy emulated the instruction (core.emulateStore steps over it) and counted the exit
    }
  }

  /** ecall from pretend-S would go to M-mode firmware: the hypervisor serves SBI in its place (sbi.ts). */
  private supervisorEcall(g: Guest): void {
    this.counters.bump(EXIT_SBI);
    this.hart.reservation = -1; // natively the ecall traps into M-mode firmware
    const x = this.hart.x;
    this.hart.pc = (this.hart.pc + 4) >>> 0; // returns after the ecall, as mret to mepc + 4 does
    let port = this.sbiPorts.get(g);
    if (!port) {
      port = this.hw
        ? this.hw.sbiPort(g)
        : trapModeSbiPort(g, this.hart, (guest) => this.waitForInterrupt(guest));
      this.sbiPorts.set(g, port);
    }
    const r = sbiCall(port, this.counters, x.subarray(10, 16), x[16], x[17]);
    x[10] = r.a0;
    if (r.a1 !== undefined) x[11] = r.a1;
  }

  // ------------------------------------------------------------------ instruction emulation

  /** An illegal-instruction trap: a privileged instruction of the pretend supervisor, or the guest's own illegal instruction. */
  private emulate(g: Guest, tval: number): void {
    const word = tval !== 0 ? tval >>> 0 : (g.core.guestInstruction() ?? 0);
    const spec = decode(word);
    const v = g.vcpu;
    const name = spec?.name ?? "illegal";
    if (spec?.ext === "Zicsr") {
      this.emulateCsr(g, word, spec.op - CSRRW_OP);
      return;
    }
    if (v.mode === 1 && (name === "sret" || name === "wfi" || name === "sfence.vma")) {
      this.counters.bump(name === "sret" ? EXIT_SRET : name === "wfi" ? EXIT_WFI : EXIT_SFENCE);
      if (name === "sret") {
        this.hart.instret++; // it retires, as natively
        this.hart.reservation = -1; // the hart's sret clears it
        returnFromSupervisor(v);
        this.hart.pc = v.sepc >>> 0;
        g.strategy.onViewChange();
      } else if (name === "wfi") {
        this.stepOver();
        this.waitForInterrupt(g);
      } else {
        const rs1 = rs1Of(word);
        const rs2 = rs2Of(word);
        g.strategy.onSfence(
          rs1 === 0 ? undefined : this.hart.x[rs1] >>> 0,
          rs2 === 0 ? undefined : this.hart.x[rs2] & 0x1ff,
        );
        this.stepOver();
      }
      return;
    }
    this.reflect(g, CAUSE.ILLEGAL_INSTRUCTION, word);
  }

  /** CSR instructions; `kind` is 0..5 for csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci. */
  private emulateCsr(g: Guest, word: number, kind: number): void {
    const v = g.vcpu;
    const x = this.hart.x;
    const rd = rdOf(word);
    const rs1 = rs1Of(word);
    const csr = word >>> 20;
    const op = kind % 3; // 0 write, 1 set, 2 clear
    const src = kind >= 3 ? rs1 : x[rs1];
    const writes = op === 0 || rs1 !== 0;
    const old = vcsrAllowed(v, csr, writes) ? vcsrRead(v, this.hart, csr) : undefined;
    if (old === undefined) {
      this.reflect(g, CAUSE.ILLEGAL_INSTRUCTION, word);
      return;
    }
    this.counters.bump(EXIT_CSR.id(csr));
    if (writes) {
      const oldSatp = v.satp;
      const value = op === 0 ? src : op === 1 ? old | src : old & ~src;
      const effect = vcsrWrite(v, csr, value | 0);
      if (effect === VCSR_EFFECT.VIEW) g.strategy.onViewChange();
      if (effect === VCSR_EFFECT.SATP) g.strategy.onSatpWrite(oldSatp, v.satp);
    }
    if (rd !== 0) x[rd] = old;
    this.stepOver(); // after its own read (Zicsr: counters read as before the instruction)
  }

  /** WFI from pretend-S: continue at once if an interrupt is pending and enabled in sie, else sleep until the guest's timer. */
  private waitForInterrupt(g: Guest): void {
    const v = g.vcpu;
    if ((v.sip(this.hart.mtime) & v.sie & VS_INTERRUPTS) !== 0) return;
    const timerOn = (v.sie >>> IRQ.STI) & 1 && v.stimecmp < COMPARATOR_NEVER;
    if (timerOn) {
      g.state = "waiting";
      g.wakeAt = v.stimecmp;
    } else {
      g.state = "wfi";
    }
  }

  /** A load or store that reached a device page: perform it on the guest's device. */
  private emulateMmio(g: Guest, gpa: number): void {
    const word = g.core.guestInstruction();
    const spec = word === undefined ? undefined : decode(word);
    const dev = g.core.device(gpa);
    const access = spec ? MMIO_ACCESS[spec.name] : undefined;
    const x = this.hart.x;
    if (word !== undefined && spec?.ext === "A") {
      // The machine gives LR, SC and AMOs on devices an access fault at the address (hart.ts atomic()).
      this.reflect(g, spec.name === "lr.w" ? CAUSE.LOAD_ACCESS : CAUSE.STORE_ACCESS, x[rs1Of(word)]);
      return;
    }
    if (word === undefined || !spec || !dev || !access) {
      this.reflect(g, spec?.fmt === "S" ? CAUSE.STORE_ACCESS : CAUSE.LOAD_ACCESS, this.hart.pc);
      return;
    }
    const [width, signed, store] = access;
    const va = (x[rs1Of(word)] + (store ? immS(word) : immI(word))) >>> 0;
    if ((va & (width - 1)) !== 0) {
      // As the machine: misaligned accesses trap as such, or, when it performs them (RAM only), a
      // misaligned device access is an access fault (hart.ts loadMisaligned).
      const perform = this.hart.config.misaligned === "perform";
      const cause = store
        ? perform
          ? CAUSE.STORE_ACCESS
          : CAUSE.MISALIGNED_STORE
        : perform
          ? CAUSE.LOAD_ACCESS
          : CAUSE.MISALIGNED_LOAD;
      this.reflect(g, cause, va);
      return;
    }
    const off = gpa - dev.base;
    // It retires as the access happens: natively a device reading mtime sees this instruction counted.
    this.hart.instret++;
    if (store) {
      const value = x[rs2Of(word)];
      this.counters.bump(EXIT_MMIO_STORE);
      dev.store(off, width, width === 4 ? value >>> 0 : value & ((1 << (width * 8)) - 1));
    } else {
      this.counters.bump(EXIT_MMIO_LOAD);
      const raw = dev.load(off, width);
      const rd = rdOf(word);
      const shift = 32 - width * 8;
      if (rd !== 0) x[rd] = width === 4 ? raw : signed ? (raw << shift) >> shift : raw;
    }
    this.hart.pc = (this.hart.pc + 4) >>> 0;
  }

  /** Step over an emulated instruction: it retires, as natively (the guest reads instret and time). */
  private stepOver(): void {
    this.hart.pc = (this.hart.pc + 4) >>> 0;
    this.hart.instret++;
  }

  // ------------------------------------------------------------------ entering the guest

  /** Before the guest runs again: deliver a takeable interrupt, map the right shadow, arm the timer. */
  private resume(g: Guest): void {
    if (this.hw) {
      this.hw.applyMapping(g, this.tagged);
      this.hart.recheck();
      return;
    }
    this.injectInterrupt(g);
    this.applyMapping(g);
    const h = this.hart;
    h.mtimecmp = g.vcpu.stimecmp > h.mtime ? g.vcpu.stimecmp : COMPARATOR_NEVER;
    h.recheck();
  }

  private injectInterrupt(g: Guest): void {
    const v = g.vcpu;
    const pending = v.sip(this.hart.mtime) & v.sie & VS_INTERRUPTS;
    if (pending === 0 || (v.mode === 1 && !v.sieOn)) return;
    for (const irq of VS_PRIORITY) {
      if ((pending >>> irq) & 1) {
        this.reflect(g, irq, 0, true);
        return;
      }
    }
  }

  /** Point the machine's satp at the strategy's shadow for the current view; flush when the TLB could mix them up. */
  private applyMapping(g: Guest): void {
    const root = g.strategy.root();
    const asid = g.strategy.asid();
    const want = 0x8000_0000 | (asid << 22) | root | 0;
    const h = this.hart;
    if (h.satp === want) return;
    const sameAsid = h.satp < 0 && ((h.satp >>> 22) & 0x1ff) === asid;
    csrWrite(h, CSR.satp, want);
    if (!this.tagged || sameAsid) {
      this.counters.bump(TLB_FLUSH_SWITCH);
      h.sfence(false, 0, false, 0);
    }
  }
}

/** Loads and stores the MMIO path emulates: width, sign extension, store. */
const MMIO_ACCESS: Readonly<Record<string, readonly [1 | 2 | 4, boolean, boolean]>> = {
  lb: [1, true, false],
  lh: [2, true, false],
  lw: [4, true, false],
  lbu: [1, false, false],
  lhu: [2, false, false],
  sb: [1, false, true],
  sh: [2, false, true],
  sw: [4, false, true],
};

const CSR_LABELS = new Map<number, string>(Object.entries(CSR).map(([k, v]) => [v, k]));
function csrLabel(csr: number): string {
  return CSR_LABELS.get(csr) ?? `0x${csr.toString(16)}`;
}
