import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleOne } from "../src/asm/index.ts";
import { decode } from "../src/isa/decode.ts";
import { Disassembler, disasm } from "../src/isa/disasm.ts";
import { ARG_CODEC } from "../src/isa/operands.ts";
import { type InsnSpec, TABLE } from "../src/isa/table.ts";

/**
 * The bits of a row's word that hold operands (everything else is fixed or
 * reserved), less bit 1 of branch/jump offsets: the assembler refuses targets
 * that are not word aligned, since without C they always trap.
 */
function operandBits(spec: InsnSpec): number {
  const bits = spec.args.reduce((acc, arg) => acc | ARG_CODEC[arg].bits, 0) & ~spec.mask;
  return bits & ~(spec.args.includes("boff") ? 1 << 8 : 0) & ~(spec.args.includes("joff") ? 1 << 21 : 0);
}

/** Register fields are often x0 or ra so the alias spellings (li, mv, ret, beqz, csrr...) come up. */
const REG_FIELD_BITS = [0xf80, 0xf8000, 0x1f00000];
const validWord = fc
  .record({
    spec: fc.constantFrom(...TABLE),
    bits: fc.integer({ min: 0, max: 0xffffffff }),
    zeroed: fc.subarray(REG_FIELD_BITS),
    smallImm: fc.constantFrom(undefined, 0, 1, -1, 255),
  })
  .map(({ spec, bits, zeroed, smallImm }) => {
    let free = bits & operandBits(spec);
    for (const f of zeroed) free &= ~f;
    if (smallImm !== undefined && spec.args.includes("imm"))
      free = (free & 0xfffff) | ((smallImm & 0xfff) << 20);
    return (spec.match | (free & operandBits(spec))) >>> 0;
  });
const pc = fc.integer({ min: 0, max: 0x3fffffff }).map((n) => (n * 4) >>> 0);

describe("disassembler and assembler agree", () => {
  it("disasm(word, pc) re-assembles at pc to the same word", () => {
    fc.assert(
      fc.property(validWord, pc, (word, at) => {
        const text = disasm(word, at);
        expect({ text, word: assembleOne(text, at, { objdump: true }) >>> 0 }).toEqual({ text, word });
      }),
      { numRuns: 20_000 },
    );
  });

  it("the GNU spelling of every row (no aliases) re-assembles too", () => {
    for (const spec of TABLE) {
      const word = (spec.match | (0x5a5a5a5a & operandBits(spec))) >>> 0;
      expect(assembleOne(disasm(word, 0x80000000), 0x80000000, { objdump: true }) >>> 0).toBe(word);
    }
  });

  it("decode and disasm never throw on any 32-bit word", () => {
    const d = new Disassembler();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), pc, (word, at) => {
        decode(word);
        expect(d.insn(word, at)).toMatch(/^[a-z.]+/);
        expect(disasm(word, at, { immediateRegForms: false })).toMatch(/^[a-z.0-9]+/);
      }),
      { numRuns: 20_000 },
    );
  });
});
