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
import { csrName } from "../csr.ts";
import type { Image } from "../image.ts";
import { type Alias, aliasesByBase, fixedFieldsMatch, syntaxParts } from "./aliases.ts";
import { decode } from "./decode.ts";
import { type Fields, fieldsOf, reservedBits } from "./operands.ts";
import { regName } from "./regs.ts";
import type { Arg, InsnSpec } from "./table.ts";

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
