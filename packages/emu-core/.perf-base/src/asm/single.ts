/** One-instruction helpers, mostly for tests and tools. */
import { Assembler, type TextSyntax } from "./assembler.ts";
import { AsmError, type Operand } from "./operands.ts";

function onlyWord(a: Assembler, what: string): number {
  const text = a.assemble().sections.find((s) => s.name === ".text");
  if (text?.bytes.length !== 4) {
    throw new AsmError(what, what, `expands to ${(text?.bytes.length ?? 0) / 4} instructions, not 1`);
  }
  return new DataView(text.bytes.buffer, text.bytes.byteOffset).getUint32(0, true);
}

/**
 * The word for one instruction or single-instruction pseudo-instruction, DSL
 * operands: `encode("addi", ["a0", "a0", 1])`, `encode("amoadd.w.aq", ["a0", "a1", "a2"])`.
 * Branch targets are byte offsets.
 */
export function encode(mnemonic: string, operands: readonly Operand[] = []): number {
  return onlyWord(new Assembler({ text: 0 }).emit(mnemonic, operands), mnemonic);
}

/** The word for one line of assembly text placed at `pc` (branch targets are absolute). */
export function assembleOne(text: string, pc = 0, syntax?: TextSyntax): number {
  return onlyWord(new Assembler({ text: pc }).insn(text, syntax), text);
}
