/**
 * Device register accesses are counted (they have a latency of their own
 * that a cost model prices), apart from RAM accesses and from accesses
 * tools make through readPhys/writePhys.
 */
import { describe, expect, it } from "vitest";
import { Assembler, Machine } from "../src/index.ts";

describe("device access counters", () => {
  it("counts the hart's loads and stores to device registers, not RAM, not tool reads", () => {
    const a = new Assembler({ text: 0x8000_0000 });
    a.label("_start")
      .li("t0", 0x1000_0000)
      .lbu("t1", 5, "t0") // UART LSR
      .lbu("t1", 5, "t0")
      .li("t2", 0x41)
      .sb("t2", 0, "t0") // UART THR
      .li("t3", 0x8000_8000)
      .sw("t2", 0, "t3") // RAM
      .lw("t2", 0, "t3")
      .li("t0", 0x10_0000)
      .li("t1", 0x5555)
      .sw("t1", 0, "t0"); // test device: pass
    const m = new Machine();
    m.load(a.assemble());
    m.hart.readPhys(0x1000_0005, 1);
    const r = m.run({ maxInstructions: 1000 });
    expect(r.reason).toBe("exit");
    expect(m.output).toBe("A");
    expect(r.stats.extra["device.loads"]).toBe(2);
    expect(r.stats.extra["device.stores"]).toBe(2);
  });
});
