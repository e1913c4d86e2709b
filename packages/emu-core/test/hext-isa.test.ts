import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { disasm } from "../src/isa/disasm.ts";

/** binutils 2.40 `riscv64-unknown-elf-objdump -d` of `as -march=rv32i_zicsr_h` output. */
const OBJDUMP: readonly [number, string, (a: Assembler) => Assembler][] = [
  [0x22000073, "hfence.vvma", (a) => a.hfence_vvma()],
  [0x22b50073, "hfence.vvma\ta0,a1", (a) => a.hfence_vvma("a0", "a1")],
  [0x22050073, "hfence.vvma\ta0", (a) => a.hfence_vvma("a0")],
  [0x62000073, "hfence.gvma", (a) => a.hfence_gvma()],
  [0x62b50073, "hfence.gvma\ta0,a1", (a) => a.hfence_gvma("a0", "a1")],
  [0x6005c573, "hlv.b\ta0,(a1)", (a) => a.hlv_b("a0", "a1")],
  [0x6015c573, "hlv.bu\ta0,(a1)", (a) => a.hlv_bu("a0", "a1")],
  [0x6405c573, "hlv.h\ta0,(a1)", (a) => a.hlv_h("a0", "a1")],
  [0x6415c573, "hlv.hu\ta0,(a1)", (a) => a.hlv_hu("a0", "a1")],
  [0x6435c573, "hlvx.hu\ta0,(a1)", (a) => a.hlvx_hu("a0", "a1")],
  [0x6805c573, "hlv.w\ta0,(a1)", (a) => a.hlv_w("a0", "a1")],
  [0x6835c573, "hlvx.wu\ta0,(a1)", (a) => a.hlvx_wu("a0", "a1")],
  [0x62b54073, "hsv.b\ta1,(a0)", (a) => a.hsv_b("a1", "a0")],
  [0x66b54073, "hsv.h\ta1,(a0)", (a) => a.hsv_h("a1", "a0")],
  [0x6ab54073, "hsv.w\ta1,(a0)", (a) => a.hsv_w("a1", "a0")],
  [0x60002573, "csrr\ta0,hstatus", (a) => a.csrr("a0", "hstatus")],
  [0x24102573, "csrr\ta0,vsepc", (a) => a.csrr("a0", "vsepc")],
  [0x34b02573, "csrr\ta0,mtval2", (a) => a.csrr("a0", "mtval2")],
  [0x68002573, "csrr\ta0,hgatp", (a) => a.csrr("a0", "hgatp")],
];

describe("H instructions in the ISA table", () => {
  it.each(OBJDUMP.map(([w, text, emit]) => [text, w, emit] as const))("%s", (text, word, emit) => {
    expect(disasm(word)).toBe(text);
    const bytes = emit(new Assembler({ text: 0x8000_0000 })).assemble().sections[0].bytes;
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(word >>> 0);
    const fromText = new Assembler({ text: 0x8000_0000 }).insn(text.replace("\t", " ")).assemble()
      .sections[0].bytes;
    expect(new DataView(fromText.buffer, fromText.byteOffset).getUint32(0, true)).toBe(word >>> 0);
  });
});
