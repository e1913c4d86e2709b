/**
 * Region-of-interest marks: two RV32I HINTs (slti with rd = x0) that the ISA
 * table names roi.begin and roi.end. They change no register, trap nowhere,
 * print as objdump prints them, and the machine records each with a full
 * counter snapshot; run({ stopAtMark }) stops right after one retires.
 */
import { describe, expect, it } from "vitest";
import { Assembler, assembleOne } from "../src/asm/index.ts";
import { decode } from "../src/isa/decode.ts";
import { disasm } from "../src/isa/disasm.ts";
import { Machine } from "../src/machine.ts";

const TEST_DEVICE = 0x10_0000;

/** M-mode drops to U-mode at `user`; an ecall from U powers off with a pass. */
function program(user: (a: Assembler) => void): Assembler {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.la("t0", "trap").csrw("mtvec", "t0");
  a.la("t0", "user").csrw("mepc", "t0");
  a.li("t0", 3 << 11).csrc("mstatus", "t0"); // MPP = U
  a.mret();
  a.label("trap");
  a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
  a.label("hang").j("hang");
  a.label("user");
  user(a);
  a.ecall();
  return a;
}

function boot(user: (a: Assembler) => void): Machine {
  const m = new Machine({ ramSize: 1 << 20 });
  m.load(program(user).assemble());
  return m;
}

/** `n` passes of a 3-instruction loop between the marks, ending with the count in a0. */
function loopRegion(a: Assembler, n: number, label: string): void {
  a.li("a0", 0).li("s0", n);
  a.roiBegin();
  a.label(label);
  a.addi("a0", "a0", 1).addi("s0", "s0", -1).bnez("s0", label);
  a.roiEnd("a0");
}

describe("ROI mark encodings", () => {
  it("are slti x0 HINTs: begin = slti x0,x0,1; end = slti x0,rs1,2", () => {
    const words = (f: (a: Assembler) => void) => {
      const a = new Assembler({ text: 0 });
      f(a);
      const b = a.assemble().sections[0].bytes;
      return [...new Uint32Array(b.buffer, b.byteOffset, b.length / 4)];
    };
    expect(words((a) => a.roiBegin())).toEqual([0x00102013]);
    expect(words((a) => a.roiEnd("a0"))).toEqual([0x00202013 | (10 << 15)]);
    expect(words((a) => a.roiEnd())).toEqual([0x00202013]);
    expect(decode(0x00102013)?.name).toBe("roi.begin");
    expect(decode(0x00202013 | (10 << 15))?.name).toBe("roi.end");
    // Other slti words stay slti.
    expect(decode(0x00102513)?.name).toBe("slti"); // slti a0,zero,1
    expect(decode(0x00302013)?.name).toBe("slti"); // slti zero,zero,3
  });

  it("disassemble as objdump prints them and re-assemble to the same word", () => {
    expect(disasm(0x00102013)).toBe("slti\tzero,zero,1");
    expect(disasm(0x00202013 | (10 << 15))).toBe("slti\tzero,a0,2");
    expect(assembleOne("slti zero,zero,1", 0)).toBe(0x00102013);
    expect(assembleOne("roi.end a0", 0)).toBe(0x00202013 | (10 << 15));
  });
});

describe("ROI marks on the machine", () => {
  it("change no register, trap nowhere and record the region's counters and count", () => {
    const m = boot((a) => {
      a.li("a1", 7);
      loopRegion(a, 100, "l");
    });
    const r = m.run({ maxInstructions: 10_000 });
    expect(r.reason).toBe("exit");
    // Only ecall (the harness's exit) traps.
    const traps = Object.entries(r.stats.traps.exceptions).filter(([, n]) => n > 0);
    expect(traps).toEqual([["ecall_u", 1]]);
    expect(m.hart.x[0]).toBe(0);
    expect(m.hart.x[11]).toBe(7);
    const roi = m.roi();
    expect(roi?.ops).toBe(100);
    // 3 loop instructions x 100, plus the end mark itself.
    expect(roi?.stats.instructions.total).toBe(301);
    expect(roi?.stats.instructions.user).toBe(301);
    expect(roi?.stats.traps.toM).toBe(0);
  });

  it("keeps several regions; the last complete one is the measurement", () => {
    const m = boot((a) => {
      loopRegion(a, 10, "warm");
      a.roiBegin(); // never ended: not a region
      loopRegion(a, 50, "main");
      a.roiEnd("zero"); // no open begin: ignored
    });
    m.run({ maxInstructions: 10_000 });
    expect(m.roiMarks.map((k) => k.kind)).toEqual(["begin", "end", "begin", "begin", "end", "end"]);
    const regions = m.roiRegions();
    expect(regions.map((r) => r.ops)).toEqual([10, 50]);
    expect(m.roi()?.stats.instructions.total).toBe(151);
    expect(m.roi(0)?.stats.instructions.total).toBe(31);
  });

  it("an end with x0 declares no count", () => {
    const m = boot((a) => {
      a.roiBegin();
      a.roiEnd();
    });
    m.run({ maxInstructions: 1000 });
    expect(m.roi()?.ops).toBeUndefined();
    expect(m.roi()?.stats.instructions.total).toBe(1);
  });

  it("run({ stopAtMark }) stops right after the mark retires, and the run continues from there", () => {
    const m = boot((a) => loopRegion(a, 20, "l"));
    const toBegin = m.run({ maxInstructions: 10_000, stopAtMark: "begin" });
    expect(toBegin.reason).toBe("mark");
    expect(m.roiMarks).toHaveLength(1);
    expect(decode(m.hart.readPhys(m.hart.pc - 4, 4) ?? 0)?.name).toBe("roi.begin");
    const toEnd = m.run({ maxInstructions: 10_000, stopAtMark: "end" });
    expect(toEnd.reason).toBe("mark");
    expect(toEnd.instructions).toBe(61);
    expect(m.hart.x[10]).toBe(20);
    const rest = m.run({ maxInstructions: 10_000 });
    expect(rest.reason).toBe("exit");
    // Without stopAtMark a run passes over marks.
    const again = boot((a) => loopRegion(a, 20, "l"));
    expect(again.run({ maxInstructions: 10_000 }).reason).toBe("exit");
    expect(again.roiMarks).toHaveLength(2);
  });
});

describe("ROI marks and checkpoints", () => {
  it("a checkpoint at the begin mark restores the marks too: each rerun of the region counts the same", () => {
    const m = boot((a) => loopRegion(a, 40, "l"));
    m.run({ maxInstructions: 10_000, stopAtMark: "begin" });
    const cp = m.checkpoint();
    const first = m.run({ maxInstructions: 10_000, stopAtMark: "end" });
    const roi = m.roi();
    m.restore(cp);
    expect(m.roiMarks).toHaveLength(1);
    const again = m.run({ maxInstructions: 10_000, stopAtMark: "end" });
    expect(again.stats).toEqual(first.stats);
    expect(m.roiMarks).toHaveLength(2);
    expect(m.roi()?.stats).toEqual(roi?.stats);
  });
});
