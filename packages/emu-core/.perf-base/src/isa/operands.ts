/**
 * How each operand token of the ISA table sits in an instruction word: the
 * bits it occupies, its range and alignment, and how to read and write it.
 * The decoder's field view, the disassembler and the assembler all use these
 * codecs, so an operand is described once.
 */
import { encB, encI, encJ, encS, immB, immI, immJ, immS } from "./fields.ts";
import type { Arg, InsnSpec } from "./table.ts";

/** Operand values by token: register numbers, signed immediates/offsets, raw field values otherwise. */
export type Fields = Partial<Record<Arg, number>>;

/** How one operand token sits in the instruction word. */
export interface ArgCodec {
  /** The bits of the word the operand occupies. */
  readonly bits: number;
  /** Accepted value range (inclusive) and required alignment, for the assembler. */
  readonly min: number;
  readonly max: number;
  readonly align: number;
  get(word: number): number;
  put(value: number): number;
}

function unsignedField(shift: number, width: number): ArgCodec {
  const max = 2 ** width - 1;
  return {
    bits: (max << shift) >>> 0,
    min: 0,
    max,
    align: 1,
    get: (w) => (w >>> shift) & max,
    put: (v) => ((v & max) << shift) >>> 0,
  };
}

function signedField(bits: number, width: number, align: number, get: ArgCodec["get"], put: ArgCodec["put"]) {
  return { bits, min: -(2 ** (width - 1)), max: 2 ** (width - 1) - align, align, get, put };
}

export const ARG_CODEC: Readonly<Record<Arg, ArgCodec>> = {
  rd: unsignedField(7, 5),
  rs1: unsignedField(15, 5),
  rs2: unsignedField(20, 5),
  imm: signedField(0xfff00000, 12, 1, immI, encI),
  simm: signedField(0xfe000f80, 12, 1, immS, encS),
  boff: signedField(0xfe000f80, 13, 2, immB, encB),
  joff: signedField(0xfffff000, 21, 2, immJ, encJ),
  uimm: unsignedField(12, 20),
  shamt: unsignedField(20, 5),
  csr: unsignedField(20, 12),
  zimm: unsignedField(15, 5),
  pred: unsignedField(24, 4),
  succ: unsignedField(20, 4),
  aqrl: unsignedField(25, 2),
};

/** The operand fields of `word`, read as the row `spec` lays them out. */
export function fieldsOf(spec: InsnSpec, word: number): Fields {
  const fields: Fields = {};
  for (const arg of spec.args) fields[arg] = ARG_CODEC[arg].get(word);
  return fields;
}

/**
 * Bits a row neither matches nor uses for operands (fence's fm/rd/rs1,
 * fence.i's imm/rd/rs1). The machine ignores them, but objdump refuses to
 * print a word that sets them, and so do we.
 */
export function reservedBits(spec: InsnSpec): number {
  let used = spec.mask;
  for (const arg of spec.args) used |= ARG_CODEC[arg].bits;
  return ~used >>> 0;
}
