export {
  Assembler,
  type AssemblerOptions,
  MNEMONICS,
  type SectionName,
  type TextSyntax,
} from "./assembler.ts";
export type { BaseInstructions, InsnMethods, PseudoInstructions } from "./methods.ts";
export {
  AsmError,
  type Csr,
  type FenceSet,
  hi,
  type Imm,
  lo,
  type Operand,
  type Ordering,
  type Reg,
  type Reloc,
  type Target,
} from "./operands.ts";
export { assembleOne, encode } from "./single.ts";
