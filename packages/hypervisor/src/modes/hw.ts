/**
 * The `hw` execution mode: the guest kernel runs in VS-mode on a machine with
 * the H extension, as under KVM RISC-V. Its own exceptions, system calls and
 * interrupts are delegated to it through medeleg/hedeleg and hideleg and
 * never exit; its CSRs are the real VS CSRs; its timer is the Sstc VS timer.
 * What exits: SBI calls (ecall from VS), guest-page faults (nested), page
 * faults on the shadow (shadow strategies, with hstatus.VTVM trapping satp
 * and sfence.vma so the shadow can follow), WFI (hstatus.VTW, so a waiting
 * guest yields the hart), and every virtual-instruction trap.
 *
 * This file keeps the guest's VS context across guest switches, programs
 * the machine for the guest's virtualizer (vsatp = shadow root and hgatp
 * Bare, or the guest's own vsatp over the nested G-stage), and delivers what
 * the monitor reflects straight into VS.
 */
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  type Access,
  CAUSE,
  COMPARATOR_HIGH_MAX,
  COMPARATOR_NEVER,
  CSR,
  csrWrite,
  EXCEPTION_NAMES,
  fenceGuest,
  type Hart,
  HSTATUS,
  type HState,
  INTERRUPT_NAMES,
  IRQ,
  MSTATUS,
  setVirt,
  TINST_PTE_READ,
  VS_IRQS,
} from "@shadowlab/emu-core";
import { counterId, type HvCounters } from "../counters.ts";
import type { Guest } from "../guest.ts";
import { FAULT, type FaultOutcome, isNested } from "../paging/strategy.ts";
import type { SbiPort } from "../sbi.ts";
import { trapModeSbiPort } from "../sbi-port.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const EXIT_GSTAGE_FILL = counterId("exit.gstage_fill");
const EXIT_EMULATE_WFI = counterId("exit.emulate.wfi");
const TLB_FLUSH_SWITCH = counterId("tlb_flush.switch");

/** Exceptions a supervisor handles (what the boot stub delegates natively): all but ecalls from S and M. */
const GUEST_EXCEPTIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15].reduce((m, c) => m | (1 << c), 0);
const PAGE_FAULTS =
  (1 << CAUSE.FETCH_PAGE_FAULT) | (1 << CAUSE.LOAD_PAGE_FAULT) | (1 << CAUSE.STORE_PAGE_FAULT);
/** The write bit of the PTE-access pseudoinstructions (0x2020: an A/D write-back, table 8.12). */
const TINST_WRITE = 0x20;
/** menvcfgh/henvcfgh.STCE: the Sstc timers. */
const STCE = 0x8000_0000;
const COUNTERS_ALL = 7;
const GUEST_ACCESS: Readonly<Record<number, Access>> = {
  [CAUSE.FETCH_GUEST_PAGE_FAULT]: ACCESS_FETCH,
  [CAUSE.LOAD_GUEST_PAGE_FAULT]: ACCESS_LOAD,
  [CAUSE.STORE_GUEST_PAGE_FAULT]: ACCESS_STORE,
};

/** The VS CSRs (and hvip) a guest switch saves and restores as they are; vsatp only for nested guests. */
const VS_CSRS = [
  "vsstatus",
  "vstvec",
  "vsscratch",
  "vsepc",
  "vscause",
  "vstval",
  "vstimecmp",
  "hvip",
] as const;

/** The guest's VS state while another guest has the hart. */
export class VsContext {
  virt: 0 | 1 = 1;
  priv: 0 | 1 = 1;
  vsstatus = 0;
  vstvec = 0;
  vsscratch = 0;
  vsepc = 0;
  vscause = 0;
  vstval = 0;
  /** The guest's own vsatp (nested only: under a shadow strategy vsatp is the monitor's, see HwMode.shadowVsatp). */
  vsatp = 0;
  vstimecmp = Number.MAX_SAFE_INTEGER;
  hvip = 0;
  /** mie's VS bits (the guest's sie). */
  vsie = 0;
  scounteren = 0;
  senvcfg = 0;
}

/** What the hw mode needs of the monitor. */
export interface HwMonitor {
  readonly hart: Hart;
  readonly counters: HvCounters;
  /** Answer an SBI call (ecall from VS). */
  sbiCall(g: Guest): void;
  /** Emulate a trapped CSR access, sfence.vma or the like (the trap mode's path). */
  emulateInstruction(g: Guest, word: number): void;
  /** Emulate a load or store to a guest device at `gpa`. */
  emulateMmio(g: Guest, gpa: number): void;
  /** Shadow page fault outcome handling (the trap mode's path). */
  shadowPageFault(g: Guest, va: number, access: Access): void;
}

export class HwMode {
  private readonly contexts = new Map<Guest, VsContext>();
  /** The guest whose VS state the hart holds. */
  private loaded: Guest | undefined;
  /** Next free G-stage root in the reserved region. */
  private nextRoot: number;
  /**
   * The shadow vsatp whose translations VMID 0's TLB space may hold. Every
   * shadow guest runs with hgatp Bare, whose VMID must be 0 (privileged spec
   * 1.12, 8.2.10), so shadow guests share that space and tell their
   * translations apart only by ASID: as in trap mode with satp, vsatp under
   * shadows is the monitor's, not part of a guest's saved VS state, and a
   * switch to another shadow under the same ASID needs an hfence.vvma of
   * VMID 0. Kept here, not read from the hart, because a nested guest in
   * between leaves its own vsatp there.
   */
  private shadowVsatp = 0;

  constructor(
    private readonly m: HwMonitor,
    /** Machine address and size of the region reserved for 16 KiB G-stage roots. */
    private readonly rootBase: number,
    private readonly rootBytes: number,
  ) {
    this.nextRoot = rootBase;
    const h = m.hart;
    // The machine: VS interrupts to VS, the Sstc timers for HS and VS, counters readable below M.
    csrWrite(h, CSR.mideleg, 0);
    csrWrite(h, CSR.hideleg, VS_IRQS);
    csrWrite(h, CSR.mie, 0); // the machine timer is not needed: the guest's timer is VS hardware
    csrWrite(h, CSR.menvcfgh, STCE);
    csrWrite(h, CSR.henvcfgh, STCE);
    csrWrite(h, CSR.mcounteren, COUNTERS_ALL);
    csrWrite(h, CSR.hcounteren, COUNTERS_ALL);
  }

  private hx(): HState {
    return this.m.hart.hx as HState;
  }

  /** A zeroed 16 KiB aligned region for a G-stage root. */
  allocRoot(): number {
    if (this.nextRoot + 0x4000 > this.rootBase + this.rootBytes)
      throw new Error("out of G-stage roots: too many nested guests for the reserved region");
    const at = this.nextRoot;
    this.nextRoot += 0x4000;
    return at;
  }

  private context(g: Guest): VsContext {
    let c = this.contexts.get(g);
    if (!c) {
      c = new VsContext(); // the boot stub's part: VS-mode, translation off, interrupts off
      this.contexts.set(g, c);
    }
    return c;
  }

  /** Put the guest's VS state on the hart (guest switch or first entry). */
  load(g: Guest): void {
    if (this.loaded === g) return;
    if (this.loaded) this.save(this.loaded);
    const h = this.m.hart;
    const hx = this.hx();
    const c = this.context(g);
    const nested = isNested(g.virtualizer);
    for (const k of VS_CSRS) hx[k] = c[k];
    if (nested) hx.vsatp = c.vsatp;
    h.mie = (h.mie & ~VS_IRQS) | c.vsie;
    h.scounteren = c.scounteren;
    h.senvcfg = c.senvcfg;
    // Delegation and traps for the guest's virtualizer.
    const exceptions = nested ? GUEST_EXCEPTIONS : GUEST_EXCEPTIONS & ~PAGE_FAULTS;
    csrWrite(h, CSR.medeleg, exceptions);
    csrWrite(h, CSR.hedeleg, exceptions);
    hx.hstatus = HSTATUS.VTW | (nested ? 0 : HSTATUS.VTVM);
    setVirt(h, c.virt);
    h.setPriv(c.priv);
    this.loaded = g;
    h.recheck();
  }

  /** Keep the guest's VS state while another guest runs. */
  save(g: Guest): void {
    const h = this.m.hart;
    const hx = this.hx();
    const c = this.context(g);
    c.virt = h.virt;
    c.priv = h.priv === 0 ? 0 : 1;
    for (const k of VS_CSRS) c[k] = hx[k];
    if (isNested(g.virtualizer)) c.vsatp = hx.vsatp;
    c.vsie = h.mie & VS_IRQS;
    c.scounteren = h.scounteren;
    c.senvcfg = h.senvcfg;
  }

  /** The vCPU mirrors what the shadow strategies and the instruction decoder read: mode, sstatus, satp (nested: the guest's own). */
  private syncVcpu(g: Guest): void {
    const v = g.vcpu;
    const hx = this.hx();
    v.mode = this.m.hart.priv === 0 ? 0 : 1;
    v.sstatus = hx.vsstatus;
    if (isNested(g.virtualizer)) v.satp = hx.vsatp;
  }

  /** An exception from the guest reached the monitor. */
  onException(g: Guest, cause: number, tval: number): void {
    this.syncVcpu(g);
    const h = this.m.hart;
    switch (cause) {
      case CAUSE.ECALL_VS:
        this.m.sbiCall(g);
        return;
      case CAUSE.VIRTUAL_INSTRUCTION:
        this.virtualInstruction(g, tval);
        return;
      case CAUSE.FETCH_PAGE_FAULT:
      case CAUSE.LOAD_PAGE_FAULT:
      case CAUSE.STORE_PAGE_FAULT:
        this.m.shadowPageFault(
          g,
          tval,
          cause === CAUSE.FETCH_PAGE_FAULT
            ? ACCESS_FETCH
            : cause === CAUSE.LOAD_PAGE_FAULT
              ? ACCESS_LOAD
              : ACCESS_STORE,
        );
        return;
      case CAUSE.FETCH_GUEST_PAGE_FAULT:
      case CAUSE.LOAD_GUEST_PAGE_FAULT:
      case CAUSE.STORE_GUEST_PAGE_FAULT: {
        const hx = this.hx();
        // A fault on a VS-stage PTE read names the PTE's address (low bits 0), not the access's (8.6.3).
        const implicit = (hx.mtinst & ~TINST_WRITE) === TINST_PTE_READ;
        const gpa = hx.mtval2 * 4 + (implicit ? 0 : tval & 3);
        const access = GUEST_ACCESS[cause];
        const outcome = g.virtualizer.onFault({
          stage: "guest-physical",
          access,
          gva: tval >>> 0,
          gpa,
          implicit,
        });
        this.guestPhysicalOutcome(g, outcome, tval);
        return;
      }
      default:
        // Anything not delegated but the guest's own (none with the delegation above; kept for safety).
        this.reflect(g, cause, tval);
    }
    void h;
  }

  private guestPhysicalOutcome(g: Guest, outcome: FaultOutcome, va: number): void {
    if (outcome === FAULT.FILLED) this.m.counters.bump(EXIT_GSTAGE_FILL);
    else if (outcome === FAULT.MMIO) this.m.emulateMmio(g, g.core.lastGpa);
    else if (outcome === FAULT.REFLECT) this.reflect(g, g.core.lastCause, va);
  }

  /** A virtual-instruction trap: WFI (VTW), or satp/sfence.vma (VTVM) and the guest's own illegal CSR accesses. */
  private virtualInstruction(g: Guest, word: number): void {
    if (word >>> 0 === 0x10500073) {
      this.m.counters.bump(EXIT_EMULATE_WFI);
      const h = this.m.hart;
      h.pc = (h.pc + 4) >>> 0;
      h.instret++;
      this.waitForInterrupt(g);
      return;
    }
    this.m.emulateInstruction(g, word);
  }

  /** WFI: continue at once when a VS interrupt is pending and enabled, else sleep until the VS timer (or for good). */
  private waitForInterrupt(g: Guest): void {
    const h = this.m.hart;
    const hx = this.hx();
    if ((h.mip & h.mie & VS_IRQS) !== 0) return;
    const timerOn = ((h.mie >>> IRQ.VSTI) & 1) !== 0 && hx.vstimecmp < COMPARATOR_NEVER;
    if (timerOn) {
      g.state = "waiting";
      g.wakeAt = hx.vstimecmp - hx.timeDelta;
    } else {
      g.state = "wfi";
    }
  }

  /** Deliver an exception into VS exactly as a hart would (scause, sepc, stval, sstatus through the VS CSRs). */
  reflect(g: Guest, cause: number, tval: number): void {
    const h = this.m.hart;
    const hx = this.hx();
    this.m.counters.add(`exit.reflect.${EXCEPTION_NAMES[cause] ?? cause}`);
    h.reservation = -1;
    hx.vscause = cause >>> 0;
    hx.vsepc = h.pc >>> 0;
    hx.vstval = tval >>> 0;
    let s = hx.vsstatus;
    s = (s & ~MSTATUS.SPP) | (h.priv === 1 ? MSTATUS.SPP : 0);
    s = (s & ~MSTATUS.SPIE) | ((s & MSTATUS.SIE) !== 0 ? MSTATUS.SPIE : 0);
    hx.vsstatus = s & ~MSTATUS.SIE;
    h.pc = (hx.vstvec & ~3) >>> 0;
    setVirt(h, 1);
    h.setPriv(1);
    g.vcpu.mode = 1;
  }

  /** Before the guest runs again: its translation (shadow root in vsatp over a Bare G-stage, or the nested G-stage). */
  applyMapping(g: Guest, tagged: boolean): void {
    const h = this.m.hart;
    const hx = this.hx();
    const v = g.virtualizer;
    if (isNested(v)) {
      const want = v.hgatp() | 0; // CSR images are int32 (the MODE bit makes them negative)
      if (hx.hgatp !== want) {
        hx.hgatp = want;
        h.invalidateMemos();
      }
      return;
    }
    if (hx.hgatp !== 0) {
      hx.hgatp = 0;
      h.invalidateMemos();
    }
    const s = g.strategy;
    const asid = s.asid();
    const want = 0x8000_0000 | (asid << 22) | s.root() | 0;
    if (hx.vsatp !== want) {
      hx.vsatp = want;
      h.invalidateMemos();
    }
    const held = this.shadowVsatp;
    if (held === want) return;
    this.shadowVsatp = want;
    const sameAsid = held < 0 && ((held >>> 22) & 0x1ff) === asid;
    if (!tagged || sameAsid) {
      this.m.counters.bump(TLB_FLUSH_SWITCH);
      fenceGuest(h, hx, false, 0, false, 0);
    }
  }

  /**
   * Where the SBI calls of a hw-mode guest take effect: the VS timer and
   * VSSIP of the hardware, the guest's fence of its translations (nested: an
   * hfence.vvma of its VMID; shadows: the strategy), WFI-like suspension;
   * memory, console and power as in trap mode.
   */
  sbiPort(g: Guest): SbiPort {
    const h = this.m.hart;
    const hx = this.hx();
    return {
      ...trapModeSbiPort(g, h, (guest) => this.waitForInterrupt(guest)),
      setTimer(low, high) {
        hx.vstimecmp = Math.min(high, COMPARATOR_HIGH_MAX) * 2 ** 32 + low;
        h.recheck();
      },
      sendSoftwareInterrupt() {
        hx.hvip |= 1 << IRQ.VSSI;
        h.recheck();
      },
      sfenceVma(asid) {
        if (isNested(g.virtualizer)) fenceGuest(h, hx, false, 0, asid !== undefined, asid ?? 0);
        else g.strategy.onSfence(undefined, asid);
      },
    };
  }

  /** Interrupts of the guest are VS hardware's; the monitor only counts what it sees. */
  onInterrupt(cause: number): void {
    this.m.counters.add(`exit.interrupt.${INTERRUPT_NAMES[cause] ?? cause}`);
  }
}
