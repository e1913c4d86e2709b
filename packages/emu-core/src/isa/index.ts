export { decode, decodeOp } from "./decode.ts";
export {
  ALIASES,
  type Alias,
  ARG_CODEC,
  type DisasmOptions,
  Disassembler,
  disasm,
  disasmImage,
  disasmRange,
  type Fields,
  fieldsOf,
} from "./disasm.ts";
export * from "./fields.ts";
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
