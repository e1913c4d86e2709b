/**
 * One guest virtual machine: its vCPU, guest-physical memory, virtual
 * devices (its own UART and test device, at the virt board's addresses),
 * its paging strategy, and its registers while another guest runs.
 */
import {
  type BootFiles,
  bootLayout,
  type Device,
  type Hart,
  type Image,
  SifiveTest,
  Uart16550,
} from "@shadowlab/emu-core";
import type { AsidAllocator } from "./asid-allocator.ts";
import type { HvCounters } from "./counters.ts";
import { GuestClint } from "./guest-clint.ts";
import { GuestMemory } from "./guest-memory.ts";
import type { MachinePages } from "./machine-pages.ts";
import type { PagingStrategy, StrategyFactory } from "./paging/strategy.ts";
import { ShadowCore } from "./shadow-core.ts";
import { ShadowPages } from "./shadow-pages.ts";
import { VCpu } from "./vcpu.ts";

export type GuestState = "runnable" | "waiting" | "exited" | "wfi" | "failed";

export class Guest {
  readonly vcpu = new VCpu();
  readonly memory: GuestMemory;
  /** Machine pages of this guest's shadow tables, within its limit. */
  readonly shadowPages: ShadowPages;
  readonly core: ShadowCore;
  readonly strategy: PagingStrategy;
  readonly uart: Uart16550;
  readonly test: SifiveTest;
  readonly devices: Device[];
  /** Registers x0..x31 and pc while the guest is not on the hart. */
  readonly regs = new Int32Array(32);
  pc: number;
  /** The hart's LR reservation while the guest is not on the hart. */
  reservation = -1;
  state: GuestState = "runnable";
  exitCode = 0;
  /** Why the guest failed (state "failed"). */
  error = "";
  /** mtime at which a waiting guest (WFI) becomes runnable again. */
  wakeAt = Number.POSITIVE_INFINITY;
  private readonly out: number[] = [];

  constructor(
    readonly id: number,
    readonly name: string,
    hart: Hart,
    pages: MachinePages,
    ramSize: number,
    image: Image | BootFiles,
    factory: StrategyFactory,
    readonly counters: HvCounters,
    asids: AsidAllocator,
    onExit: (guest: Guest) => void,
    /** Hard limit on the machine pages of this guest's shadow tables. */
    shadowLimit = Number.POSITIVE_INFINITY,
  ) {
    this.memory = new GuestMemory(hart, pages, ramSize);
    this.shadowPages = new ShadowPages(pages, shadowLimit, name);
    this.uart = new Uart16550((b) => this.out.push(b));
    this.test = new SifiveTest((code) => {
      this.state = "exited";
      this.exitCode = code;
      onExit(this);
    });
    this.devices = [this.uart, this.test, new GuestClint(hart)];
    this.core = new ShadowCore(hart, this.vcpu, this.memory, this.shadowPages, this.devices, counters, asids);
    this.strategy = factory(this.core);
    if ("kernel" in image) {
      this.pc = this.bootKernel(image, ramSize);
      return;
    }
    for (const s of image.sections) {
      this.memory.load(s.addr, s.bytes);
      const extra = (s.memSize ?? s.bytes.length) - s.bytes.length;
      if (extra > 0) this.memory.load(s.addr + s.bytes.length, new Uint8Array(extra));
    }
    const entry = image.symbols.supervisor_entry;
    if (entry === undefined) {
      throw new Error(
        `${name}: the image has no "supervisor_entry" symbol; the hypervisor starts guests at their S-mode entry`,
      );
    }
    // The boot stub's part: the guest starts in S-mode, translation off, interrupts off.
    this.pc = entry >>> 0;
  }

  /**
   * The QEMU boot protocol with the SBI outside the guest: nothing at the RAM
   * base, the kernel where it goes after a firmware, a0 = hart id 0, a1 = DTB.
   */
  private bootKernel(files: BootFiles, ramSize: number): number {
    const layout = bootLayout({ ...files, bios: "external", ramSize }, (gpa, bytes) =>
      this.memory.load(gpa, bytes),
    );
    this.regs[10] = 0;
    this.regs[11] = layout.dtb.start | 0;
    return layout.kernelEntry;
  }

  /** Everything the guest wrote to its console. */
  get output(): string {
    return Buffer.from(this.out).toString("utf8");
  }

  get done(): boolean {
    return this.state === "exited" || this.state === "wfi" || this.state === "failed";
  }

  fail(message: string): void {
    this.state = "failed";
    this.error = message;
  }

  dispose(): void {
    this.strategy.dispose();
    this.memory.release();
  }
}
