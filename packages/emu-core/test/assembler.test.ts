import { describe, expect, it } from "vitest";
import { AsmError, Assembler, assembleOne, encode, hi, lo, MNEMONICS } from "../src/asm/index.ts";
import { methodName } from "../src/asm/methods.ts";
import type { Image } from "../src/image.ts";

const BASE = 0x80000000;

function words(image: Image, name = ".text"): number[] {
  const s = image.sections.find((x) => x.name === name)!;
  const view = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
  return Array.from({ length: s.bytes.length / 4 }, (_, i) => view.getUint32(i * 4, true));
}

const textWords = (build: (a: Assembler) => void): number[] => {
  const a = new Assembler({ text: BASE });
  build(a);
  return words(a.assemble());
};

describe("li", () => {
  // expectations are GNU as 2.40 output for `li a0, <value>` (-march=rv32ima)
  it.each([
    [0, [0x00000513]],
    [-1, [0xfff00513]],
    [0x7ff, [0x7ff00513]],
    [0x800, [0x00001537, 0x80050513]],
    [-2048, [0x80000513]],
    [-2049, [0xfffff537, 0x7ff50513]],
    [0x80000000, [0x80000537]],
    [0xffffffff, [0xfff00513]],
    [0x12345678, [0x12345537, 0x67850513]],
  ])("li a0, %s", (value, expected) => {
    expect(textWords((a) => a.li("a0", value))).toEqual(expected);
    expect(textWords((a) => a.insn(`li a0, ${value}`))).toEqual(expected);
  });

  it("accepts an earlier .equ", () => {
    expect(textWords((a) => a.equ("K", 0x800).li("a0", "K"))).toEqual([0x00001537, 0x80050513]);
  });
});

describe("labels and pc-relative pairs", () => {
  it("la, call and tail resolve forward references pc-relatively", () => {
    const a = new Assembler({ text: BASE });
    a.la("a0", "msg")
      .call("fn")
      .tail("fn")
      .space(0x1000 - 24)
      .label("fn")
      .ret();
    a.section(".data").label("msg").string("hi");
    const image = a.assemble();
    expect(image.symbols.fn).toBe(BASE + 0x1000);
    expect(image.symbols.msg).toBe(BASE + 0x2000); // .data follows .text, page-aligned
    expect(words(image).slice(0, 6)).toEqual([
      0x00002517, // auipc a0,0x2
      0x00050513, // addi a0,a0,0
      0x00001097, // auipc ra,0x1
      0xff8080e7, // jalr -8(ra)
      0x00001317, // auipc t1,0x1
      0xff030067, // jr -16(t1)
    ]);
  });

  it("branches and jumps take labels (forward and backward) or relative offsets", () => {
    const w = textWords((a) => a.label("top").beq("a0", "a1", "end").j("top").bnez("a0", -8).label("end"));
    expect(w).toEqual([0x00b50663, 0xffdff06f, 0xfe051ce3]);
  });

  it("%hi/%lo give absolute addresses", () => {
    const a = new Assembler({ text: BASE, data: 0x80400800 });
    a.lui("a0", hi("v")).lw("a1", lo("v"), "a0").insn("addi a2, a0, %lo(v+4)");
    a.section(".data").label("v").word(1);
    expect(words(a.assemble())).toEqual([0x80401537, 0x80052583, 0x80450613]);
  });

  it("here() is the current address in .text", () => {
    const a = new Assembler({ text: BASE });
    a.nop().nop();
    expect(a.here()).toBe(BASE + 8);
  });

  it("every label and .equ is a symbol; _start is the default entry", () => {
    const a = new Assembler({ text: BASE });
    a.nop().label("_start").nop().equ("UART", 0x10000000);
    const image = a.assemble();
    expect(image.symbols).toEqual({ _start: BASE + 4, UART: 0x10000000 });
    expect(image.entry).toBe(BASE + 4);
  });
});

describe("sections and data", () => {
  it("places rodata/data/bss after text, each page-aligned, with bss as memSize only", () => {
    const a = new Assembler({ text: BASE });
    a.nop();
    a.section(".rodata").byte(1);
    a.section(".data").half(0x1234);
    a.section(".bss").space(100);
    const image = a.assemble();
    expect(image.sections.map((s) => [s.name, s.addr, s.bytes.length, s.memSize, s.flags])).toEqual([
      [".text", BASE, 4, undefined, "rx"],
      [".rodata", BASE + 0x1000, 1, undefined, "r"],
      [".data", BASE + 0x2000, 2, undefined, "rw"],
      [".bss", BASE + 0x3000, 0, 100, "rw"],
    ]);
  });

  it("honours explicit section bases", () => {
    const a = new Assembler({ text: 0x1000, data: 0x8000 });
    a.nop().section(".data").word(7);
    expect(a.assemble().sections.map((s) => s.addr)).toEqual([0x1000, 0x8000]);
  });

  it("data directives lay out little-endian bytes; words may name labels", () => {
    const a = new Assembler({ text: BASE });
    // .text is empty, so .data starts at the .text base
    a.section(".data")
      .label("d")
      .byte(1, -1)
      .half(0x1234)
      .align(4)
      .word(0xdeadbeef, "d")
      .string("ok")
      .ascii("!");
    a.bytes(new Uint8Array([9])).space(2);
    const data = a.assemble().sections.find((s) => s.name === ".data")!;
    expect([...data.bytes]).toEqual([
      1, 0xff, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0x80, 0x6f, 0x6b, 0, 0x21, 9, 0, 0,
    ]);
  });

  it("align pads .text with nops and text .align is a power-of-two exponent", () => {
    const w = textWords((a) => a.nop().align(16).asm(".byte 1, 2, 3, 4\n.align 3\n.word 5"));
    expect(w).toEqual([0x13, 0x13, 0x13, 0x13, 0x04030201, 0x13, 5]);
  });

  it("assembles text with labels, comments, directives and pseudo-instructions", () => {
    const a = new Assembler({ text: BASE });
    a.asm(`
      _start:  li   a0, 3        # counter
      loop:    addi a0, a0, -1
               bnez a0, loop
               la   a1, msg
               lw   a2, (a1)
               amoadd.w.aqrl a3, a2, (a1)
               csrw mtvec, t0
               ret
      .section .rodata
      msg: .string "a#b\\n"
    `);
    const image = a.assemble();
    expect(words(image)).toEqual([
      0x00300513, 0xfff50513, 0xfe051ee3, 0x00001597, 0xff458593, 0x0005a603, 0x06c5a6af, 0x30529073,
      0x00008067,
    ]);
    expect([...image.sections[1].bytes]).toEqual([0x61, 0x23, 0x62, 0x0a, 0]);
  });
});

describe("DSL surface", () => {
  it("has a method for every table row, alias and macro", () => {
    const a = new Assembler() as unknown as Record<string, unknown>;
    for (const m of MNEMONICS) expect(typeof a[methodName(m)], m).toBe("function");
  });

  it("short forms pick the right encoding", () => {
    const w = textWords((a) =>
      a
        .jal("x")
        .jal("a0", "x")
        .jalr("a0")
        .jalr("a1", "a0")
        .jalr(4, "a0")
        .jalr("a1", 4, "a0")
        .jr("t0")
        .fence()
        .fence("rw", "w")
        .sfence_vma("a0")
        .csrw("mie", 5)
        .csrs("mstatus", "a0")
        .amoswap_w("a0", "a1", "a2", { rl: true })
        .label("x"),
    );
    expect(w).toEqual([
      0x034000ef, 0x0300056f, 0x000500e7, 0x000505e7, 0x004500e7, 0x004505e7, 0x00028067, 0x0ff0000f,
      0x0310000f, 0x12050073, 0x3042d073, 0x30052073, 0x0ab6252f,
    ]);
  });

  it("encode() and assembleOne() give single words", () => {
    expect(encode("addi", ["a0", "a0", 1])).toBe(0x00150513);
    expect(encode("amoadd.w.aq", ["a0", "a1", "a2"])).toBe(0x04b6252f);
    expect(assembleOne("bgt a0, a1, 0x80000000", 0x80000010)).toBe(0xfea5c8e3);
    expect(assembleOne("j 80000000", 0x80000010, { objdump: true })).toBe(0xff1ff06f);
    expect(() => assembleOne("li a0, 0x12345678")).toThrow(/expands to 2 instructions/);
  });
});

describe("errors", () => {
  const error = (build: (a: Assembler) => void): AsmError => {
    const a = new Assembler({ text: BASE });
    try {
      build(a);
      a.assemble();
    } catch (e) {
      expect(e).toBeInstanceOf(AsmError);
      return e as AsmError;
    }
    throw new Error("no error");
  };

  it.each<[string, (a: Assembler) => void, RegExp]>([
    [
      "unknown mnemonic",
      (a) => a.insn("frob a0, a1"),
      /^"frob a0, a1": frob a0,a1: unknown mnemonic 'frob'$/,
    ],
    [
      "bad register",
      (a) => a.label("f").nop().asm("addi a0, a9, 1"),
      /^line 1: addi a0, a9, 1: addi a0,a9,1: bad register 'a9' for operand rs1$/,
    ],
    [
      "immediate out of range",
      (a) => a.label("f").nop().addi("a0", "a0", 2048),
      /^\.text\+0x4 \(f\+0x4\): addi a0, a0, 2048: immediate 2048 out of range \[-2048, 2047\] for operand imm$/,
    ],
    ["undefined label", (a) => a.j("nowhere"), /^\.text\+0x0: j nowhere: undefined label 'nowhere'$/],
    ["duplicate label", (a) => a.label("x").label("x"), /duplicate label 'x'/],
    [
      "branch out of range",
      (a) => a.beqz("a0", "far").space(4096).label("far"),
      /beqz a0, far: branch target out of range: offset 4100 not in \[-4096, 4094\]/,
    ],
    [
      "misaligned target",
      (a) => a.j("odd").byte(0).label("odd"),
      /j odd: misaligned target: offset 5 is not a multiple of 4/,
    ],
    [
      "wrong operand count",
      (a) => a.insn("add a0, a1"),
      /add a0,a1: operands do not match; expected add rd,rs1,rs2/,
    ],
    ["unknown CSR", (a) => a.insn("csrr a0, nosuch"), /unknown CSR 'nosuch' for operand csr/],
    ["li of a label", (a) => a.insn("li a0, later"), /li needs a constant/],
    ["label shadowing a register", (a) => a.label("a0"), /would shadow a register/],
    ["unknown directive", (a) => a.asm("nop\n.frob 1"), /^line 2: \.frob 1: \.frob: unknown directive/],
    ["code in .bss", (a) => a.section(".bss").nop(), /nop: \.bss can only hold \.space\/\.align/],
    ["bad alignment", (a) => a.align(3), /power of two/],
  ])("%s", (_, build, message) => {
    expect(error(build).message).toMatch(message);
  });
});
