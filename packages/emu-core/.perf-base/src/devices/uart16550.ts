import type { Device } from "./device.ts";

/**
 * NS16550A UART as QEMU's `virt` board maps it (hw/riscv/virt.c: VIRT_UART0 at
 * 0x1000_0000, size 0x100, register stride 1 byte). Register semantics follow
 * the PC16550D datasheet (National/TI), "Registers" chapter.
 *
 * Model simplifications, chosen because guests on this board poll LSR:
 * - There is no interrupt line (the board has no PLIC): IER is stored and reads
 *   back, but IIR always reports "no interrupt pending".
 * - Transmission is instantaneous: every THR write reaches the sink at once,
 *   so THRE and TEMT are always set and the transmit FIFO is always empty.
 * - Baud rate, word length, parity and stop bits (DLL/DLM, LCR) are stored and
 *   read back but do not affect timing or framing; no line errors occur.
 */

export const UART16550_BASE = 0x1000_0000;
export const UART16550_SIZE = 0x100;

/** Register offsets (datasheet "Register Summary" table). */
const Reg = {
  /** RBR (read) / THR (write); DLL when LCR.DLAB = 1. */
  data: 0,
  /** IER; DLM when LCR.DLAB = 1. */
  ier: 1,
  /** IIR (read) / FCR (write). */
  iirFcr: 2,
  lcr: 3,
  mcr: 4,
  lsr: 5,
  msr: 6,
  scr: 7,
} as const;

const LCR_DLAB = 0x80;
const FCR_FIFO_ENABLE = 0x01;
/** IER bits 4-7 are always 0 on the 16550. */
const IER_WRITABLE = 0x0f;
/** MCR bits 5-7 are always 0 on the 16550. */
const MCR_WRITABLE = 0x1f;
const MCR_LOOP = 0x10;
const LSR_DATA_READY = 0x01;
const LSR_THR_EMPTY = 0x20;
const LSR_TRANSMITTER_EMPTY = 0x40;
/** IIR bit 0 = 1: no interrupt pending; bits 6-7 = 11 when FIFOs are enabled. */
const IIR_NO_INTERRUPT = 0x01;
const IIR_FIFOS_ENABLED = 0xc0;
/**
 * MSR with the modem lines of a connected terminal asserted (DCD, DSR, CTS),
 * which is also QEMU's reset value for a UART backed by a character device.
 */
const MSR_CONNECTED = 0x80 | 0x20 | 0x10;

const utf8 = new TextEncoder();

/**
 * Growable ring buffer of received bytes. It stands for the host's pending
 * input rather than the 16-byte receive FIFO, so input pushed in bulk (a whole
 * script before boot) is never dropped. Reads never allocate.
 */
class ByteQueue {
  private buffer = new Uint8Array(64);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    for (const byte of bytes) this.append(byte);
  }

  pushByte(byte: number): void {
    this.reserve(1);
    this.append(byte);
  }

  /** The oldest byte, removed; 0 when empty (guests check LSR.DR before reading RBR). */
  shift(): number {
    if (this.count === 0) return 0;
    const byte = this.buffer[this.head];
    this.head = (this.head + 1) & (this.buffer.length - 1);
    this.count--;
    return byte;
  }

  private append(byte: number): void {
    this.buffer[(this.head + this.count) & (this.buffer.length - 1)] = byte;
    this.count++;
  }

  /** Capacity stays a power of two so indices wrap with a mask. */
  private reserve(extra: number): void {
    const needed = this.count + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    for (let i = 0; i < this.count; i++) grown[i] = this.buffer[(this.head + i) & (this.buffer.length - 1)];
    this.buffer = grown;
    this.head = 0;
  }
}

export class Uart16550 implements Device {
  readonly name = "uart16550";
  readonly size = UART16550_SIZE;

  private readonly received = new ByteQueue();
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private divisorLow = 0;
  private divisorHigh = 0;
  private fifosEnabled = false;

  /**
   * @param sink receives every transmitted byte (0..255), in order.
   * @param base bus address of register 0.
   */
  constructor(
    private readonly sink: (byte: number) => void,
    readonly base: number = UART16550_BASE,
  ) {}

  /** Queue bytes for the guest to receive; strings are sent as UTF-8. */
  pushInput(bytes: Uint8Array | string): void {
    this.received.push(typeof bytes === "string" ? utf8.encode(bytes) : bytes);
  }

  /** Bytes queued for the guest and not yet read from RBR. */
  get pendingInput(): number {
    return this.received.length;
  }

  /**
   * Wider accesses act on the register at `offset` (the low byte); offsets
   * alias modulo 8 as in QEMU's serial model (`addr &= 7`).
   */
  load(offset: number, _width: 1 | 2 | 4): number {
    return this.readRegister(offset & 7);
  }

  store(offset: number, _width: 1 | 2 | 4, value: number): void {
    this.writeRegister(offset & 7, value & 0xff);
  }

  private get dlab(): boolean {
    return (this.lcr & LCR_DLAB) !== 0;
  }

  private get loopback(): boolean {
    return (this.mcr & MCR_LOOP) !== 0;
  }

  private readRegister(reg: number): number {
    switch (reg) {
      case Reg.data:
        return this.dlab ? this.divisorLow : this.received.shift();
      case Reg.ier:
        return this.dlab ? this.divisorHigh : this.ier;
      case Reg.iirFcr:
        return this.fifosEnabled ? IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT : IIR_NO_INTERRUPT;
      case Reg.lcr:
        return this.lcr;
      case Reg.mcr:
        return this.mcr;
      case Reg.lsr:
        return this.lineStatus();
      case Reg.msr:
        return this.modemStatus();
      default:
        return this.scr;
    }
  }

  private writeRegister(reg: number, byte: number): void {
    switch (reg) {
      case Reg.data:
        if (this.dlab) this.divisorLow = byte;
        else this.transmit(byte);
        return;
      case Reg.ier:
        if (this.dlab) this.divisorHigh = byte;
        else this.ier = byte & IER_WRITABLE;
        return;
      case Reg.iirFcr:
        // FCR bits 1-2 (reset RX/TX FIFO) need no action: the TX FIFO is
        // always empty, and the receive queue is host input (see ByteQueue).
        // Bits 6-7 (RX trigger level) only matter for interrupts.
        this.fifosEnabled = (byte & FCR_FIFO_ENABLE) !== 0;
        return;
      case Reg.lcr:
        this.lcr = byte;
        return;
      case Reg.mcr:
        this.mcr = byte & MCR_WRITABLE;
        return;
      case Reg.scr:
        this.scr = byte;
        return;
      default:
        // LSR and MSR are status registers; the datasheet reserves writes to
        // them for factory testing, so they are ignored.
        return;
    }
  }

  /**
   * In loopback mode (MCR bit 4) the transmitter output is wired back to the
   * receiver and nothing leaves the chip (datasheet, MCR bit 4).
   */
  private transmit(byte: number): void {
    if (this.loopback) this.received.pushByte(byte);
    else this.sink(byte);
  }

  private lineStatus(): number {
    const dataReady = this.received.length > 0 ? LSR_DATA_READY : 0;
    return LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY | dataReady;
  }

  /**
   * In loopback mode the modem inputs follow the modem outputs: DTR->DSR,
   * RTS->CTS, OUT1->RI, OUT2->DCD (datasheet, MSR bits 4-7). The delta bits
   * stay 0: they only feed the modem-status interrupt, which is not modelled.
   */
  private modemStatus(): number {
    if (!this.loopback) return MSR_CONNECTED;
    const mcr = this.mcr;
    return ((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4);
  }
}
