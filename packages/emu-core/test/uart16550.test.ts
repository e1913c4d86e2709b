import { describe, expect, it } from "vitest";
import { UART16550_BASE, UART16550_SIZE, Uart16550 } from "../src/devices/uart16550.ts";

const RBR = 0;
const THR = 0;
const DLL = 0;
const IER = 1;
const DLM = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

function uart(): { dev: Uart16550; sent: number[] } {
  const sent: number[] = [];
  return { dev: new Uart16550((byte) => sent.push(byte)), sent };
}

describe("Uart16550 on the virt board", () => {
  it("sits at QEMU virt's UART0 window", () => {
    const { dev } = uart();
    expect(dev.base).toBe(0x1000_0000);
    expect(UART16550_BASE).toBe(0x1000_0000);
    expect(dev.size).toBe(UART16550_SIZE);
    expect(dev.size).toBe(0x100);
  });

  it("sends each THR write to the sink, low byte only", () => {
    const { dev, sent } = uart();
    for (const ch of "hi\n") dev.store(THR, 1, ch.charCodeAt(0));
    dev.store(THR, 4, 0x1234_5641);
    expect(sent).toEqual([0x68, 0x69, 0x0a, 0x41]);
  });

  it("always reports the transmitter empty (THRE and TEMT)", () => {
    const { dev } = uart();
    expect(dev.load(LSR, 1)).toBe(0x60);
    dev.store(THR, 1, 0x41);
    expect(dev.load(LSR, 1) & 0x60).toBe(0x60);
  });

  it("sets LSR.DR while input is queued and returns it in order from RBR", () => {
    const { dev } = uart();
    dev.pushInput("ok");
    dev.pushInput(new Uint8Array([0xff]));
    expect(dev.pendingInput).toBe(3);
    const received: number[] = [];
    while (dev.load(LSR, 1) & 1) received.push(dev.load(RBR, 1));
    expect(received).toEqual([0x6f, 0x6b, 0xff]);
    expect(dev.load(LSR, 1)).toBe(0x60);
    expect(dev.load(RBR, 1)).toBe(0);
  });

  it("encodes string input as UTF-8", () => {
    const { dev } = uart();
    dev.pushInput("é");
    expect([dev.load(RBR, 1), dev.load(RBR, 1)]).toEqual([0xc3, 0xa9]);
  });

  it("keeps input order across buffer growth and wrap-around", () => {
    const { dev } = uart();
    const expected: number[] = [];
    const got: number[] = [];
    for (let round = 0; round < 20; round++) {
      const chunk = Uint8Array.from({ length: 37 }, (_, i) => (round * 37 + i) & 0xff);
      dev.pushInput(chunk);
      expected.push(...chunk);
      for (let i = 0; i < 23; i++) got.push(dev.load(RBR, 1));
    }
    while (dev.pendingInput > 0) got.push(dev.load(RBR, 1));
    expect(got).toEqual(expected);
  });

  it("switches offsets 0 and 1 to the divisor latch while LCR.DLAB is set", () => {
    const { dev, sent } = uart();
    dev.pushInput("x");
    dev.store(IER, 1, 0x05);
    dev.store(LCR, 1, 0x83); // DLAB + 8N1
    dev.store(DLL, 1, 0x03); // 38400 baud at 1.8432 MHz
    dev.store(DLM, 1, 0x00);
    expect(dev.load(DLL, 1)).toBe(0x03);
    expect(dev.load(DLM, 1)).toBe(0x00);
    expect(sent).toEqual([]); // the DLL write did not transmit
    expect(dev.pendingInput).toBe(1); // the DLL read did not consume input
    dev.store(LCR, 1, 0x03);
    expect(dev.load(LCR, 1)).toBe(0x03);
    expect(dev.load(IER, 1)).toBe(0x05);
    expect(dev.load(RBR, 1)).toBe(0x78);
  });

  it("keeps only the four defined IER bits and five MCR bits", () => {
    const { dev } = uart();
    dev.store(IER, 1, 0xff);
    dev.store(MCR, 1, 0xef);
    expect(dev.load(IER, 1)).toBe(0x0f);
    expect(dev.load(MCR, 1)).toBe(0x0f);
  });

  it("reports no pending interrupt in IIR while IER enables none, with the FIFO bits after FCR enables FIFOs", () => {
    const { dev } = uart();
    dev.pushInput("x");
    expect(dev.load(IIR, 1)).toBe(0x01);
    dev.store(FCR, 1, 0x07);
    expect(dev.load(IIR, 1)).toBe(0xc1);
    dev.store(FCR, 1, 0x00);
    expect(dev.load(IIR, 1)).toBe(0x01);
    expect(dev.interruptPending).toBe(false);
  });

  it("does not drop queued input when the guest resets the FIFOs", () => {
    const { dev } = uart();
    dev.pushInput("boot");
    dev.store(FCR, 1, 0x07);
    expect(dev.pendingInput).toBe(4);
  });

  it("stores and returns the scratch register", () => {
    const { dev } = uart();
    dev.store(SCR, 1, 0xa5);
    expect(dev.load(SCR, 1)).toBe(0xa5);
  });

  it("ignores writes to the status registers", () => {
    const { dev } = uart();
    dev.store(LSR, 1, 0x00);
    dev.store(MSR, 1, 0x00);
    expect(dev.load(LSR, 1)).toBe(0x60);
    expect(dev.load(MSR, 1)).toBe(0xb0);
  });

  it("reports a connected terminal in MSR (DCD, DSR, CTS)", () => {
    expect(uart().dev.load(MSR, 1)).toBe(0xb0);
  });

  it("loops transmitted bytes and modem lines back in loopback mode, with MSR deltas reset by reading MSR", () => {
    const { dev, sent } = uart();
    dev.store(MCR, 1, 0x10 | 0x0b); // LOOP, OUT2, RTS, DTR
    // DTR, RTS, OUT2 loop back to DSR, CTS, DCD: the same lines as before, so no deltas.
    expect(dev.load(MSR, 1)).toBe(0x80 | 0x10 | 0x20); // DCD, CTS, DSR
    dev.store(THR, 1, 0x55);
    expect(sent).toEqual([]);
    expect(dev.load(LSR, 1) & 1).toBe(1);
    expect(dev.load(RBR, 1)).toBe(0x55);
    dev.store(MCR, 1, 0x14); // LOOP, OUT1: CTS, DSR, DCD drop, RI rises
    expect(dev.load(MSR, 1)).toBe(0x40 | 0x08 | 0x02 | 0x01); // RI, DDCD, DDSR, DCTS
    expect(dev.load(MSR, 1)).toBe(0x40);
    dev.store(MCR, 1, 0x10); // RI goes inactive: trailing edge
    expect(dev.load(MSR, 1)).toBe(0x04);
  });

  it("acts on the low byte for 2- and 4-byte accesses, zero-extended", () => {
    const { dev } = uart();
    dev.store(SCR, 4, 0xdead_be5a);
    expect(dev.load(SCR, 4)).toBe(0x5a);
    dev.store(LCR, 2, 0x1283);
    expect(dev.load(LCR, 2)).toBe(0x83);
    dev.store(LCR, 1, 0x03);
    dev.pushInput(new Uint8Array([0xfe]));
    expect(dev.load(RBR, 4)).toBe(0xfe);
  });

  it("aliases registers modulo 8 across the window, as QEMU does", () => {
    const { dev } = uart();
    dev.store(0x0f, 1, 0x42);
    expect(dev.load(SCR, 1)).toBe(0x42);
    expect(dev.load(0xfd, 1)).toBe(0x60);
  });
});
