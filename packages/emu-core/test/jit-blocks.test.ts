import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { encode } from "../src/asm/single.ts";
import type { Engine } from "../src/hart.ts";
import type { Image } from "../src/image.ts";
import { Machine, type MachineConfig } from "../src/machine.ts";

const RAM = 0x8000_0000;
const DATA = RAM + 0x10_0000;

/** Power off through the SiFive test device (reason "exit"). */
const EXIT = `
  li t6, 0x100000
  li t5, 0x5555
  sw t5, 0(t6)
halt: j halt
`;

function image(body: string): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start");
  a.asm(body);
  return a.assemble();
}

/** Translation after a few dispatches, so that these short guests run both interpreted and translated. */
const HOT = 4;

function boot(img: Image, engine: Engine, config: Partial<MachineConfig> = {}): Machine {
  const m = new Machine({ ramSize: 4 << 20, ...config, engine });
  if (m.hart.jit !== undefined) m.hart.jit.hot = HOT;
  m.load(img);
  return m;
}

/** Everything a guest or a counter can tell apart. */
function state(m: Machine) {
  const h = m.hart;
  return { pc: h.pc, priv: h.priv, x: [...h.x], stats: m.snapshot(), csr: [h.mepc, h.mcause, h.mtval] };
}

describe("translated blocks run what the interpreter runs", () => {
  it("a store that rewrites a later instruction of the running block runs the new instruction", () => {
    // 40 passes of one looping block; the last pass stores `addi a0, a0, 100` over the
    // `addi a0, a0, 1` after the store (the other passes store to a data word).
    const patched = encode("addi", ["a0", "a0", 100]);
    const img = image(`
      li s0, 40
      li a0, 0
      la s4, data
      la s3, patch
      sub s3, s3, s4
      li s2, ${patched}
    loop:
      addi s0, s0, -1
      seqz t0, s0
      mul t1, t0, s3
      add t1, t1, s4
      sw s2, 0(t1)
    patch:
      addi a0, a0, 1
      bnez s0, loop
      ${EXIT}
      .align 4
    data: .word 0
    `);
    const runs = (["interp", "jit"] as const).map((engine) => {
      const m = boot(img, engine);
      expect(m.run({ maxInstructions: 10_000 }).reason).toBe("exit");
      return m;
    });
    expect([runs[0].hart.x[10], runs[1].hart.x[10]]).toEqual([139, 139]);
    expect(state(runs[1])).toEqual(state(runs[0]));
    const stats = runs[1].hart.engineStats;
    expect(stats.translatedInstructions).toBeGreaterThan(100);
    expect(stats.blocksDropped).toBeGreaterThanOrEqual(1);
  });

  it("a fault inside a block leaves the registers written before it, none after, and mepc at the load", () => {
    // The loop reads data words until the pointer reaches an address outside RAM.
    const img = image(`
      la t0, handler
      csrw mtvec, t0
      li a1, 0
      li a3, 0
      li s1, ${DATA}
      li s2, 0x1000
    loop:
      addi a1, a1, 1
      lw a2, 0(s1)
      addi a3, a3, 1
      add s1, s1, s2
      j loop
      .align 2
    handler:
      ${EXIT}
    `);
    const runs = (["interp", "jit"] as const).map((engine) => {
      const m = boot(img, engine, { ramSize: 2 << 20 });
      expect(m.run({ maxInstructions: 100_000 }).reason).toBe("exit");
      return m;
    });
    const h = runs[1].hart;
    expect(h.mcause).toBe(5); // load access fault
    expect(h.x[11]).toBe(h.x[13] + 1); // a1 counted the faulting pass, a3 did not
    expect(state(runs[1])).toEqual(state(runs[0]));
    expect(h.engineStats.translatedInstructions).toBeGreaterThan(0);
  });

  it("a budget that ends inside a block stops on the same instruction as the interpreter", () => {
    const img = image(`
      li s0, 0
      li s1, ${DATA}
    loop:
      andi t0, s0, 0x3fc
      add t0, t0, s1
      lw t1, 0(t0)
      mul t2, t1, s0
      xor a0, a0, t2
      sw a0, 0(t0)
      addi s0, s0, 4
      j loop
    `);
    const interp = boot(img, "interp");
    const jit = boot(img, "jit");
    for (const chunk of [7, 1000, 4097, 3, 65_537, 1, 12_345]) {
      expect(interp.run({ maxInstructions: chunk }).reason).toBe("budget");
      expect(jit.run({ maxInstructions: chunk }).reason).toBe("budget");
      expect(state(jit)).toEqual(state(interp));
    }
    expect(jit.hart.engineStats.translatedInstructions).toBeGreaterThan(50_000);
  });

  it("an unknown engine is refused with the field named", () => {
    expect(() => new Machine({ engine: "fast" as Engine })).toThrow(/engine must be one of jit, interp/);
  });
});
