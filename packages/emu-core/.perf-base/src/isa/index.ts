export { ALIASES, type Alias, aliasesNamed, type SyntaxPart, syntaxParts } from "./aliases.ts";
export { decode, decodeOp } from "./decode.ts";
export { type DisasmOptions, Disassembler, disasm, disasmImage, disasmRange } from "./disasm.ts";
export * from "./fields.ts";
export { ARG_CODEC, type ArgCodec, type Fields, fieldsOf, reservedBits } from "./operands.ts";
export { ABI_NAMES, type AbiName, isRegName, parseReg, type RegName, regName } from "./regs.ts";
export {
  type Arg,
  type Ext,
  type Format,
  type InsnSpec,
  OP_ILLEGAL,
  specByName,
  specByOp,
  TABLE,
} from "./table.ts";
