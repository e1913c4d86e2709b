import { describe, expect, it } from "vitest";
import { Uart16550 } from "../src/devices/uart16550.ts";

// Register offsets and bits from the PC16550D datasheet.
const RBR = 0;
const THR = 0;
const IER = 1;
const IIR = 2;
const FCR = 2;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const ERBFI = 0x01;
const ETBEI = 0x02;
const EDSSI = 0x08;

function uart(): { dev: Uart16550; sent: number[] } {
  const sent: number[] = [];
  return { dev: new Uart16550((byte) => sent.push(byte)), sent };
}

describe("Uart16550 interrupt identification (datasheet Table IV)", () => {
  it("reports THR empty once ETBEI is enabled, and reading IIR resets it", () => {
    const { dev } = uart();
    dev.store(IER, 1, ETBEI);
    expect(dev.interruptPending).toBe(true);
    expect(dev.load(IIR, 1)).toBe(0x02);
    expect(dev.load(IIR, 1)).toBe(0x01);
    expect(dev.interruptPending).toBe(false);
  });

  it("raises THR empty again after each THR write (transmission is instantaneous)", () => {
    const { dev, sent } = uart();
    dev.store(IER, 1, ETBEI);
    dev.load(IIR, 1);
    dev.store(THR, 1, 0x41);
    expect(sent).toEqual([0x41]);
    expect(dev.load(IIR, 1)).toBe(0x02);
    expect(dev.load(IIR, 1)).toBe(0x01);
  });

  it("reasserts THR empty when ETBEI is cleared and set again (the 8250 driver's THRE test)", () => {
    const { dev } = uart();
    dev.store(IER, 1, ETBEI);
    expect(dev.load(IIR, 1)).toBe(0x02);
    dev.store(IER, 1, 0);
    expect(dev.load(IIR, 1)).toBe(0x01);
    dev.store(IER, 1, ETBEI);
    expect(dev.load(IIR, 1)).toBe(0x02);
  });

  it("drops a pending THR empty when ETBEI is disabled", () => {
    const { dev } = uart();
    dev.store(IER, 1, ETBEI);
    dev.store(IER, 1, 0);
    dev.store(IER, 1, ERBFI);
    expect(dev.load(IIR, 1)).toBe(0x01);
  });

  it("reports received data ahead of THR empty, until RBR is read empty", () => {
    const { dev } = uart();
    dev.pushInput("ab");
    dev.store(IER, 1, ERBFI | ETBEI);
    expect(dev.load(IIR, 1)).toBe(0x04);
    expect(dev.load(IIR, 1)).toBe(0x04); // reading IIR does not reset a data interrupt
    expect(dev.load(RBR, 1)).toBe(0x61);
    expect(dev.load(IIR, 1)).toBe(0x04);
    expect(dev.load(RBR, 1)).toBe(0x62);
    expect(dev.load(IIR, 1)).toBe(0x02);
    expect(dev.load(IIR, 1)).toBe(0x01);
  });

  it("with FIFOs, reports data available at the trigger level and character timeout below it", () => {
    const { dev } = uart();
    dev.store(FCR, 1, 0xc1); // FIFO enable, trigger level 14
    dev.store(IER, 1, ERBFI);
    dev.pushInput("hello");
    expect(dev.load(IIR, 1)).toBe(0xcc);
    dev.pushInput("0123456789");
    expect(dev.load(IIR, 1)).toBe(0xc4);
    for (let i = 0; i < 2; i++) dev.load(RBR, 1);
    expect(dev.load(IIR, 1)).toBe(0xcc); // 13 bytes left, below the trigger
    dev.store(FCR, 1, 0x41); // trigger level 4
    expect(dev.load(IIR, 1)).toBe(0xc4);
    dev.store(FCR, 1, 0x01); // trigger level 1
    while (dev.load(LSR, 1) & 1) {
      expect(dev.load(IIR, 1)).toBe(0xc4);
      dev.load(RBR, 1);
    }
    expect(dev.load(IIR, 1)).toBe(0xc1);
  });

  it("ignores the trigger bits written while FCR0 is clear", () => {
    const { dev } = uart();
    dev.store(FCR, 1, 0xc0);
    dev.store(IER, 1, ERBFI);
    dev.pushInput("z");
    expect(dev.load(IIR, 1)).toBe(0x04);
  });

  it("reports a modem-status change last, reset by reading MSR", () => {
    const { dev } = uart();
    dev.store(IER, 1, EDSSI | ETBEI);
    dev.store(MCR, 1, 0x10 | 0x02); // loopback with RTS: CTS stays up, DSR and DCD drop
    expect(dev.load(IIR, 1)).toBe(0x02);
    expect(dev.load(IIR, 1)).toBe(0x00);
    expect(dev.load(MSR, 1) & 0x0f).toBe(0x0a); // DDCD, DDSR
    expect(dev.load(IIR, 1)).toBe(0x01);
  });

  it("lets a timer-polled 8250 transmit path drain a long message through IIR", () => {
    // Linux's 8250 without an IRQ: start_tx sets ETBEI, a timer reads IIR and,
    // unless it says "no interrupt", refills up to a FIFO (16 bytes) while LSR.THRE.
    const { dev, sent } = uart();
    dev.store(FCR, 1, 0x07);
    const message = Array.from({ length: 100 }, (_, i) => 0x20 + (i % 90));
    let next = 0;
    dev.store(IER, 1, ETBEI);
    for (let tick = 0; tick < 20 && next < message.length; tick++) {
      const iir = dev.load(IIR, 1);
      if (iir & 0x01) continue;
      for (let n = 0; n < 16 && next < message.length && dev.load(LSR, 1) & 0x20; n++)
        dev.store(THR, 1, message[next++]);
    }
    expect(sent).toEqual(message);
  });
});
