/**
 * Disassembler printing what GNU objdump (binutils 2.40, Debian 12's
 * riscv64-unknown-elf-objdump) prints for an rv32ima_zicsr_zifencei object
 * with the default options, i.e. with pseudo-instruction aliases.
 *
 * Everything is derived from the ISA table: a word is decoded to its row, its
 * operand fields are read with ARG_CODEC, and the first alias of ALIASES whose
 * fixed fields match is printed instead of the row itself. The assembler reads
 * the same alias rows backwards to accept the pseudo-instructions, so every
 * printed line re-assembles to the word it came from.
 */
import { csrName, csrNumber } from "../csr.ts";
import type { Image } from "../image.ts";
import { decode } from "./decode.ts";
import { encB, encI, encJ, encS, immB, immI, immJ, immS } from "./fields.ts";
import { regName } from "./regs.ts";
import { type Arg, type InsnSpec, specByName, TABLE } from "./table.ts";

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

const aliasesByBase = new Map<string, Alias[]>(TABLE.map((s) => [s.name, []]));
for (const a of ALIASES) aliasesByBase.get(a.base.name)?.push(a);

function fixedFieldsMatch(fixed: Fields, fields: Fields): boolean {
  for (const [arg, value] of Object.entries(fixed)) if (fields[arg as Arg] !== value) return false;
  return true;
}

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

export interface DisasmOptions {
  /**
   * Print addi/xori/ori/andi/slli/srli/srai as add/xor/or/and/sll/srl/sra
   * (`add a0,a0,1`), as binutils 2.40 and 2.41 do (this machine's objdump).
   * Set false for the `addi a0,a0,1` of older and newer binutils. Default true.
   */
  readonly immediateRegForms?: boolean;
}

const hex = (n: number): string => (n >>> 0).toString(16);
const FENCE_BITS = "iorw";

function fenceSet(v: number): string {
  if (v === 0) return "unknown"; // objdump's spelling of the empty set
  return [...FENCE_BITS].filter((_, i) => v & (8 >> i)).join("");
}

function aqrlSuffix(aqrl: number): string {
  return ["", ".rl", ".aq", ".aqrl"][aqrl];
}

/**
 * A disassembler with objdump's cross-instruction state: after `lui`/`auipc`
 * into a register, the next address computation based on it gets a
 * `# <address>` comment (as for `la`/`call` sequences).
 */
export class Disassembler {
  /** Register -> value left by lui/auipc, until an address computation consumes it. */
  private readonly hi = new Map<number, number>();
  private comment: number | undefined;

  constructor(private readonly options: DisasmOptions = {}) {}

  /** Forget the lui/auipc state (objdump starts each section afresh). */
  reset(): void {
    this.hi.clear();
  }

  /** One instruction as objdump prints it: `mnemonic\toperands[ # address]`. */
  insn(word: number, pc = 0): string {
    const w = word >>> 0;
    const spec = decode(w);
    if (!spec) return unknownWord(w);
    const fields = fieldsOf(spec, w);
    const reserved = (w & reservedBits(spec)) >>> 0;
    const form = this.printedAlias(spec, fields, reserved);
    if (!form && reserved !== 0) return unknownWord(w);
    this.comment = undefined;
    const name = (form?.name ?? spec.name) + (fields.aqrl === undefined ? "" : aqrlSuffix(fields.aqrl));
    const operands = this.operands(form?.syntax ?? spec.syntax, spec, fields, pc);
    this.trackUpperImmediate(spec, fields, pc);
    const text = operands === "" ? name : `${name}\t${operands}`;
    return this.comment === undefined ? text : `${text} # ${hex(this.comment)}`;
  }

  private printedAlias(spec: InsnSpec, fields: Fields, reserved: number): Alias | undefined {
    const regForms = this.options.immediateRegForms ?? true;
    return aliasesByBase
      .get(spec.name)
      ?.find(
        (a) =>
          a.printed && (regForms || !a.regForm) && a.extra === reserved && fixedFieldsMatch(a.fixed, fields),
      );
  }

  private operands(syntax: string, spec: InsnSpec, fields: Fields, pc: number): string {
    return syntaxParts(syntax)
      .map((part) => {
        const disp =
          part.token === "" ? "" : this.operand(part.token, spec, fields, pc, part.base !== undefined);
        return part.base === undefined ? disp : `${disp}(${this.operand(part.base, spec, fields, pc, true)})`;
      })
      .join(",");
  }

  private operand(arg: Arg, spec: InsnSpec, fields: Fields, pc: number, inMemory: boolean): string {
    const v = fields[arg] ?? 0;
    this.noteAddressUse(arg, spec, fields, inMemory);
    switch (arg) {
      case "rd":
      case "rs1":
      case "rs2":
        return regName(v);
      case "imm":
      case "simm":
      case "zimm":
        return String(v);
      case "boff":
      case "joff":
        return hex(pc + v);
      case "uimm":
      case "shamt":
        return `0x${hex(v)}`;
      case "csr":
        return csrName(v) ?? `0x${hex(v)}`;
      case "pred":
      case "succ":
        return fenceSet(v);
      case "aqrl":
        return "";
    }
  }

  /**
   * Mirrors riscv-dis.c: the offset of a load/store, of jalr, and of an addi
   * whose source is not zero is an address when its base register holds a
   * lui/auipc value (or is zero or tp).
   */
  private noteAddressUse(arg: Arg, spec: InsnSpec, fields: Fields, inMemory: boolean): void {
    const base = fields.rs1 ?? 0;
    const isJalr = spec.name === "jalr";
    const offsetArg = arg === "simm" || (arg === "imm" && (inMemory || isJalr));
    const addiImm = arg === "imm" && spec.name === "addi" && base !== 0;
    if (offsetArg || addiImm || (arg === "rs1" && isJalr)) {
      this.maybeAddress(base, fields.imm ?? fields.simm ?? 0);
    }
  }

  private maybeAddress(base: number, offset: number): void {
    const hi = this.hi.get(base);
    if (hi !== undefined) {
      this.comment = (base === 0 ? 0 : hi) + offset;
      this.hi.delete(base);
    } else if (base === 0 || base === 4) {
      this.comment = offset; // x0 and tp bases are absolute addresses
    }
  }

  private trackUpperImmediate(spec: InsnSpec, fields: Fields, pc: number): void {
    const upper = (fields.uimm ?? 0) << 12;
    if (spec.name === "lui") this.hi.set(fields.rd ?? 0, upper >>> 0);
    if (spec.name === "auipc") this.hi.set(fields.rd ?? 0, (pc + upper) >>> 0);
  }
}

/** objdump 2.40's spelling of a 32-bit word it cannot decode. */
function unknownWord(w: number): string {
  return `.4byte\t0x${hex(w)}`;
}

/** One instruction as objdump prints it (no cross-instruction state). `pc` places branch targets. */
export function disasm(word: number, pc = 0, options?: DisasmOptions): string {
  return new Disassembler(options).insn(word, pc);
}

/**
 * objdump -d style listing of the whole words in `bytes` loaded at `addr`:
 * `80000000:\t00150513          \tadd\ta0,a0,1`.
 */
export function disasmRange(bytes: Uint8Array, addr: number, options?: DisasmOptions): string[] {
  const d = new Disassembler(options);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: string[] = [];
  for (let off = 0; off + 4 <= bytes.length; off += 4) {
    const pc = (addr + off) >>> 0;
    const word = view.getUint32(off, true);
    lines.push(`${hex(pc).padStart(8)}:\t${hex(word).padStart(8, "0")}          \t${d.insn(word, pc)}`);
  }
  return lines;
}

/** Listing of every executable section of an image, in section order. */
export function disasmImage(image: Image, options?: DisasmOptions): string[] {
  return image.sections.filter((s) => s.flags === "rx").flatMap((s) => disasmRange(s.bytes, s.addr, options));
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
