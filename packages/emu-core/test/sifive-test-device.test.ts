import { describe, expect, it } from "vitest";
import {
  SIFIVE_TEST_BASE,
  SIFIVE_TEST_SIZE,
  SifiveTest,
  type SifiveTestExitKind,
} from "../src/devices/sifive-test.ts";

function finisher(): { dev: SifiveTest; exits: [number, SifiveTestExitKind][] } {
  const exits: [number, SifiveTestExitKind][] = [];
  return { dev: new SifiveTest((code, kind) => exits.push([code, kind])), exits };
}

describe("SifiveTest finisher", () => {
  it("sits at QEMU virt's test device window", () => {
    const { dev } = finisher();
    expect(dev.base).toBe(0x0010_0000);
    expect(SIFIVE_TEST_BASE).toBe(0x0010_0000);
    expect(dev.size).toBe(SIFIVE_TEST_SIZE);
    expect(dev.size).toBe(0x1000);
  });

  it("reports pass with exit code 0 for 0x5555", () => {
    const { dev, exits } = finisher();
    dev.store(0, 4, 0x5555);
    expect(exits).toEqual([[0, "pass"]]);
  });

  it("reports fail with the code from bits 31:16 for 0x3333", () => {
    const { dev, exits } = finisher();
    dev.store(0, 4, (42 << 16) | 0x3333);
    dev.store(0, 4, ((0xffff << 16) | 0x3333) >>> 0);
    expect(exits).toEqual([
      [42, "fail"],
      [0xffff, "fail"],
    ]);
  });

  it("reports reset as code 0 for 0x7777", () => {
    const { dev, exits } = finisher();
    dev.store(0, 4, 0x7777);
    expect(exits).toEqual([[0, "reset"]]);
  });

  it("ignores other status values", () => {
    const { dev, exits } = finisher();
    for (const value of [0, 0x1234, 0x5556, 0x3333_0000, 0x5555_0000]) dev.store(0, 4, value);
    expect(exits).toEqual([]);
  });

  it("ignores stores at other offsets", () => {
    const { dev, exits } = finisher();
    dev.store(4, 4, 0x5555);
    dev.store(0xffc, 4, 0x3333);
    expect(exits).toEqual([]);
  });

  it("accepts 16-bit stores like QEMU (code 0) and ignores byte stores", () => {
    const { dev, exits } = finisher();
    dev.store(0, 1, 0x55);
    dev.store(0, 2, 0x5555);
    dev.store(0, 2, 0x3333);
    expect(exits).toEqual([
      [0, "pass"],
      [0, "fail"],
    ]);
  });

  it("reads as 0", () => {
    const { dev } = finisher();
    dev.store(0, 4, 0x1234);
    expect(dev.load(0, 4)).toBe(0);
    expect(dev.load(8, 1)).toBe(0);
  });
});
