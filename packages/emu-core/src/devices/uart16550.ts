import type { Device } from "./device.ts";

/**
 * NS16550A UART as QEMU's `virt` board maps it (hw/riscv/virt.c: VIRT_UART0 at
 * 0x1000_0000, size 0x100, register stride 1 byte). Register semantics follow
 * the PC16550D datasheet (National/TI), "Registers" chapter, interrupts its
 * Table IV (interrupt control functions):
 *
 *   IIR[3:0] priority  source                         reset by
 *   0110     1         receiver line status (ELSI)    reading LSR
 *   0100     2         received data available (ERBFI) reading RBR / FIFO below trigger
 *   1100     2         character timeout (ERBFI, FIFO) reading RBR
 *   0010     3         THR empty (ETBEI)              reading IIR (if the source) or writing THR
 *   0000     4         modem status (EDSSI)           reading MSR
 *   0001     -         none
 *   IIR[7:6] = 11 while FCR0 enables the FIFOs.
 *
 * The interrupt output is computed (`interruptPending`) but wired to nothing:
 * the board has no PLIC, so guests poll or, like Linux's 8250 driver without
 * an `interrupts` property, read IIR from a timer.
 *
 * Model simplifications, each chosen because the line has no timing here:
 * - Transmission is instantaneous: every THR write reaches the sink at once,
 *   so THRE and TEMT are always set and the THR-empty interrupt condition is
 *   raised again right after each write clears it.
 * - The receive FIFO is the head of the host's pending input (up to 16 bytes
 *   with FIFOs enabled, 1 without); its character timeout has always elapsed,
 *   so data below the trigger level reports timeout (1100) at once.
 * - No line errors occur (no overrun: pending input is never dropped), so the
 *   line-status interrupt never fires; FCR's receive-FIFO reset keeps the
 *   host's pending input (it has not "arrived" until read).
 * - Baud rate, word length, parity and stop bits (DLL/DLM, LCR) are stored and
 *   read back but do not affect timing or framing.
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
/** FCR bits 7:6 select the receive trigger level (datasheet, FCR bits 6-7). */
const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const FIFO_DEPTH = 16;
/** IER bits 4-7 are always 0 on the 16550. */
const IER_WRITABLE = 0x0f;
const IER_RX_DATA = 0x01;
const IER_THR_EMPTY = 0x02;
const IER_MODEM_STATUS = 0x08;
/** MCR bits 5-7 are always 0 on the 16550. */
const MCR_WRITABLE = 0x1f;
const MCR_LOOP = 0x10;
const LSR_DATA_READY = 0x01;
const LSR_THR_EMPTY = 0x20;
const LSR_TRANSMITTER_EMPTY = 0x40;
/** IIR[3:0] interrupt identification codes (datasheet Table IV). */
export const IIR_NO_INTERRUPT = 0x01;
export const IIR_LINE_STATUS = 0x06;
export const IIR_RX_DATA = 0x04;
export const IIR_RX_TIMEOUT = 0x0c;
export const IIR_THR_EMPTY = 0x02;
export const IIR_MODEM_STATUS = 0x00;
const IIR_FIFOS_ENABLED = 0xc0;
/**
 * MSR with the modem lines of a connected terminal asserted (DCD, DSR, CTS),
 * which is also QEMU's reset value for a UART backed by a character device.
 */
const MSR_CONNECTED = 0x80 | 0x20 | 0x10;
const MSR_RI = 0x40;

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
  private rxTrigger = 1;
  /** The THR-empty interrupt condition: set when THR empties, reset by reading IIR or writing THR. */
  private thrEmptyPending = false;
  /** MSR bits 3:0 (DCTS, DDSR, TERI, DDCD), reset by reading MSR. */
  private modemDeltas = 0;

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

  /** The INTR output: some enabled interrupt condition holds (no line is wired to it on this board). */
  get interruptPending(): boolean {
    return this.interruptId() !== IIR_NO_INTERRUPT;
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
        return this.readIir();
      case Reg.lcr:
        return this.lcr;
      case Reg.mcr:
        return this.mcr;
      case Reg.lsr:
        return this.lineStatus();
      case Reg.msr:
        return this.readMsr();
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
        else this.writeIer(byte & IER_WRITABLE);
        return;
      case Reg.iirFcr:
        this.writeFcr(byte);
        return;
      case Reg.lcr:
        this.lcr = byte;
        return;
      case Reg.mcr:
        this.writeMcr(byte & MCR_WRITABLE);
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

  /** The highest-priority enabled condition (datasheet Table IV), as IIR[3:0]. */
  private interruptId(): number {
    const ier = this.ier;
    // Priority 1, receiver line status: no line errors occur in this model.
    if (ier & IER_RX_DATA && this.received.length > 0) {
      if (!this.fifosEnabled) return IIR_RX_DATA;
      return Math.min(this.received.length, FIFO_DEPTH) >= this.rxTrigger ? IIR_RX_DATA : IIR_RX_TIMEOUT;
    }
    if (ier & IER_THR_EMPTY && this.thrEmptyPending) return IIR_THR_EMPTY;
    if (ier & IER_MODEM_STATUS && this.modemDeltas !== 0) return IIR_MODEM_STATUS;
    return IIR_NO_INTERRUPT;
  }

  /** Reading IIR while it reports THR empty resets that condition (datasheet Table IV). */
  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THR_EMPTY) this.thrEmptyPending = false;
    return this.fifosEnabled ? IIR_FIFOS_ENABLED | id : id;
  }

  /**
   * Enabling ETBEI while THR is empty raises the THR-empty condition (a real
   * 16550 reasserts THRE whenever the transmitter is idle and the interrupt
   * is enabled; QEMU re-evaluates it on every IER write that changes ETBEI,
   * and Linux's 8250 driver tests for it). Disabling ETBEI drops it.
   */
  private writeIer(value: number): void {
    const changed = this.ier ^ value;
    this.ier = value;
    if (changed & IER_THR_EMPTY) this.thrEmptyPending = (value & IER_THR_EMPTY) !== 0;
  }

  /**
   * FCR0 enables the FIFOs; the other bits are programmed only while FCR0 is
   * set (datasheet, FCR). Bits 1-2 reset the FIFOs: the transmit FIFO is
   * always empty, and the receive side keeps the host's pending input (see
   * the class comment). Bits 7:6 set the receive trigger level.
   */
  private writeFcr(byte: number): void {
    this.fifosEnabled = (byte & FCR_FIFO_ENABLE) !== 0;
    this.rxTrigger = this.fifosEnabled ? RX_TRIGGER_LEVELS[byte >>> 6] : 1;
  }

  /** A modem-input change seen through loopback sets its MSR delta bit. */
  private writeMcr(value: number): void {
    const before = this.modemInputs();
    this.mcr = value;
    const after = this.modemInputs();
    const changed = before ^ after;
    let deltas = 0;
    if (changed & 0x10) deltas |= 0x01; // DCTS
    if (changed & 0x20) deltas |= 0x02; // DDSR
    if (before & MSR_RI && !(after & MSR_RI)) deltas |= 0x04; // TERI: RI went inactive
    if (changed & 0x80) deltas |= 0x08; // DDCD
    this.modemDeltas |= deltas;
  }

  /**
   * In loopback mode (MCR bit 4) the transmitter output is wired back to the
   * receiver and nothing leaves the chip (datasheet, MCR bit 4). Either way
   * THR empties at once, which raises the THR-empty condition again.
   */
  private transmit(byte: number): void {
    if (this.loopback) this.received.pushByte(byte);
    else this.sink(byte);
    this.thrEmptyPending = true;
  }

  private lineStatus(): number {
    const dataReady = this.received.length > 0 ? LSR_DATA_READY : 0;
    return LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY | dataReady;
  }

  private readMsr(): number {
    const value = this.modemInputs() | this.modemDeltas;
    this.modemDeltas = 0;
    return value;
  }

  /**
   * MSR bits 7:4. In loopback mode the modem inputs follow the modem outputs:
   * DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (datasheet, MSR bits 4-7).
   */
  private modemInputs(): number {
    if (!this.loopback) return MSR_CONNECTED;
    const mcr = this.mcr;
    return ((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4);
  }
}
