/**
 * The pseudo-instructions, as rows over the ISA table: a base instruction
 * with some operand fields fixed, written with its own syntax. The
 * disassembler prints the first printed alias whose fixed fields match (as
 * GNU objdump does); the assembler reads the same rows backwards, so every
 * printed line re-assembles to the word it came from.
 */
import { csrNumber } from "../csr.ts";
import type { Fields } from "./operands.ts";
import { type Arg, type InsnSpec, specByName, TABLE } from "./table.ts";

/** A pseudo-instruction: a base row with some fields fixed, written with its own operand syntax. */
export interface Alias {
  readonly name: string;
  readonly base: InsnSpec;
  readonly fixed: Fields;
  /** Operand syntax over the base row's tokens, e.g. "rd,rs1" for mv. */
  readonly syntax: string;
  /** Value of the base row's reserved bits (fence.tso's fm field), 0 for all others. */
  readonly extra: number;
  /** False for spellings objdump never prints (ble, csrwi, ...) but the assembler accepts. */
  readonly printed: boolean;
  /** Printed only with DisasmOptions.immediateRegForms (binutils 2.40/2.41 behaviour). */
  readonly regForm: boolean;
}

interface AliasOptions {
  printed?: boolean;
  regForm?: boolean;
  extra?: number;
}

function alias(
  name: string,
  base: string,
  syntax: string,
  fixed: Fields = {},
  opt: AliasOptions = {},
): Alias {
  const spec = specByName(base);
  if (!spec) throw new Error(`alias ${name}: no table row ${base}`);
  const { printed = true, regForm = false, extra = 0 } = opt;
  return { name, base: spec, fixed, syntax, extra, printed, regForm };
}

const assemblerOnly: AliasOptions = { printed: false };
/** binutils 2.40/2.41 print some I-type rows under the name of their R-type sibling. */
const regForm: AliasOptions = { regForm: true };
const CSR_RD = (name: string): Fields => ({ csr: csrNumber(name) ?? -1, rs1: 0 });
const IORW = 15;
const RW = 3;

/**
 * Aliases in binutils' riscv-opc.c order: for a given word objdump prints the
 * first matching entry, so order within one base row matters.
 */
export const ALIASES: readonly Alias[] = [
  alias("nop", "addi", "", { rd: 0, rs1: 0, imm: 0 }),
  alias("li", "addi", "rd,imm", { rs1: 0 }),
  alias("mv", "addi", "rd,rs1", { imm: 0 }),
  alias("add", "addi", "rd,rs1,imm", {}, regForm),
  alias("seqz", "sltiu", "rd,rs1", { imm: 1 }),
  alias("not", "xori", "rd,rs1", { imm: -1 }),
  alias("xor", "xori", "rd,rs1,imm", {}, regForm),
  alias("or", "ori", "rd,rs1,imm", {}, regForm),
  alias("zext.b", "andi", "rd,rs1", { imm: 255 }),
  alias("and", "andi", "rd,rs1,imm", {}, regForm),
  alias("sll", "slli", "rd,rs1,shamt", {}, regForm),
  alias("srl", "srli", "rd,rs1,shamt", {}, regForm),
  alias("sra", "srai", "rd,rs1,shamt", {}, regForm),
  alias("slt", "slti", "rd,rs1,imm", {}, assemblerOnly),
  alias("sltu", "sltiu", "rd,rs1,imm", {}, assemblerOnly),
  alias("neg", "sub", "rd,rs2", { rs1: 0 }),
  alias("snez", "sltu", "rd,rs2", { rs1: 0 }),
  alias("sltz", "slt", "rd,rs1", { rs2: 0 }),
  alias("sgtz", "slt", "rd,rs2", { rs1: 0 }),
  alias("sgt", "slt", "rd,rs2,rs1", {}, assemblerOnly),
  alias("sgtu", "sltu", "rd,rs2,rs1", {}, assemblerOnly),
  alias("j", "jal", "joff", { rd: 0 }),
  alias("jal", "jal", "joff", { rd: 1 }),
  alias("ret", "jalr", "", { rd: 0, rs1: 1, imm: 0 }),
  alias("jr", "jalr", "rs1", { rd: 0, imm: 0 }),
  alias("jr", "jalr", "imm(rs1)", { rd: 0 }),
  alias("jalr", "jalr", "rs1", { rd: 1, imm: 0 }),
  alias("jalr", "jalr", "imm(rs1)", { rd: 1 }),
  alias("jalr", "jalr", "rd,rs1", { imm: 0 }),
  alias("beqz", "beq", "rs1,boff", { rs2: 0 }),
  alias("bnez", "bne", "rs1,boff", { rs2: 0 }),
  alias("blez", "bge", "rs2,boff", { rs1: 0 }),
  alias("bgez", "bge", "rs1,boff", { rs2: 0 }),
  alias("ble", "bge", "rs2,rs1,boff", {}, assemblerOnly),
  alias("bleu", "bgeu", "rs2,rs1,boff", {}, assemblerOnly),
  alias("bltz", "blt", "rs1,boff", { rs2: 0 }),
  alias("bgtz", "blt", "rs2,boff", { rs1: 0 }),
  alias("bgt", "blt", "rs2,rs1,boff", {}, assemblerOnly),
  alias("bgtu", "bltu", "rs2,rs1,boff", {}, assemblerOnly),
  alias("fence", "fence", "", { pred: IORW, succ: IORW }),
  alias("fence.tso", "fence", "", { pred: RW, succ: RW }, { extra: 0x80000000 }),
  alias("sfence.vma", "sfence.vma", "", { rs1: 0, rs2: 0 }),
  alias("sfence.vma", "sfence.vma", "rs1", { rs2: 0 }),
  alias("hfence.vvma", "hfence.vvma", "", { rs1: 0, rs2: 0 }),
  alias("hfence.vvma", "hfence.vvma", "rs1", { rs2: 0 }),
  alias("hfence.gvma", "hfence.gvma", "", { rs1: 0, rs2: 0 }),
  alias("hfence.gvma", "hfence.gvma", "rs1", { rs2: 0 }),
  alias("unimp", "csrrw", "", { rd: 0, csr: csrNumber("cycle") ?? -1, rs1: 0 }),
  alias("csrw", "csrrw", "csr,rs1", { rd: 0 }),
  alias("rdcycle", "csrrs", "rd", CSR_RD("cycle")),
  alias("rdinstret", "csrrs", "rd", CSR_RD("instret")),
  alias("rdtime", "csrrs", "rd", CSR_RD("time")),
  alias("rdcycleh", "csrrs", "rd", CSR_RD("cycleh")),
  alias("rdinstreth", "csrrs", "rd", CSR_RD("instreth")),
  alias("rdtimeh", "csrrs", "rd", CSR_RD("timeh")),
  alias("csrr", "csrrs", "rd,csr", { rs1: 0 }),
  alias("csrs", "csrrs", "csr,rs1", { rd: 0 }),
  alias("csrc", "csrrc", "csr,rs1", { rd: 0 }),
  // objdump prints the immediate CSR forms under the register mnemonics
  alias("csrw", "csrrwi", "csr,zimm", { rd: 0 }),
  alias("csrrw", "csrrwi", "rd,csr,zimm"),
  alias("csrs", "csrrsi", "csr,zimm", { rd: 0 }),
  alias("csrrs", "csrrsi", "rd,csr,zimm"),
  alias("csrc", "csrrci", "csr,zimm", { rd: 0 }),
  alias("csrrc", "csrrci", "rd,csr,zimm"),
  alias("csrwi", "csrrwi", "csr,zimm", { rd: 0 }, assemblerOnly),
  alias("csrsi", "csrrsi", "csr,zimm", { rd: 0 }, assemblerOnly),
  alias("csrci", "csrrci", "csr,zimm", { rd: 0 }, assemblerOnly),
];

/** Operand syntax split into parts: "rd,imm(rs1)" -> [["rd"], ["imm","rs1"]]; "(rs1)" -> [["","rs1"]]. */
export interface SyntaxPart {
  /** The operand token, or the displacement token of a memory part ("" when none, as in AMOs). */
  readonly token: Arg | "";
  /** The base-register token of a memory part. */
  readonly base?: Arg;
}

const partsCache = new Map<string, readonly SyntaxPart[]>();

export function syntaxParts(syntax: string): readonly SyntaxPart[] {
  let parts = partsCache.get(syntax);
  if (!parts) {
    parts = syntax === "" ? [] : syntax.split(",").map(parsePart);
    partsCache.set(syntax, parts);
  }
  return parts;
}

function parsePart(text: string): SyntaxPart {
  const mem = /^(\w*)\((\w+)\)$/.exec(text);
  if (!mem) return { token: text as Arg };
  return { token: mem[1] as Arg | "", base: mem[2] as Arg };
}

export const aliasesByBase = new Map<string, Alias[]>(TABLE.map((s) => [s.name, []]));
for (const a of ALIASES) aliasesByBase.get(a.base.name)?.push(a);

export function fixedFieldsMatch(fixed: Fields, fields: Fields): boolean {
  for (const [arg, value] of Object.entries(fixed)) if (fields[arg as Arg] !== value) return false;
  return true;
}

/** Aliases (printed or assembler-only) written with mnemonic `name`. */
export function aliasesNamed(name: string): readonly Alias[] {
  return aliasesByName.get(name) ?? [];
}

const aliasesByName = new Map<string, Alias[]>();
for (const a of ALIASES) {
  const list = aliasesByName.get(a.name) ?? [];
  list.push(a);
  aliasesByName.set(a.name, list);
}
