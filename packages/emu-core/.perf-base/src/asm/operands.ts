/**
 * Operand values the assembler accepts, and the error type it throws.
 */
import type { CsrName } from "../csr.ts";
import type { RegName } from "../isa/regs.ts";

/** A register: ABI name, `fp` or x0..x31. */
export type Reg = RegName;
/** A CSR by name or number. */
export type Csr = CsrName | number;
/**
 * A branch or jump target: a label name, or (in the DSL) a byte offset from
 * the instruction itself. In assembly text a number is an absolute address,
 * as in GNU as.
 */
export type Target = string | number;
/** A fence predecessor/successor set: any of the letters "iorw", in that order. */
export type FenceSet = string;
/** A-extension ordering bits, written `.aq`/`.rl`/`.aqrl` in text. */
export interface Ordering {
  readonly aq?: boolean;
  readonly rl?: boolean;
}

/** `%hi(symbol+addend)` / `%lo(symbol+addend)`: the absolute-address halves used by lui and addi/loads/stores. */
export interface Reloc {
  readonly reloc: "hi" | "lo";
  readonly symbol: string;
  readonly addend: number;
}
/** An immediate: a number, an `.equ` symbol, or a %hi/%lo relocation. */
export type Imm = number | string | Reloc;
/** Anything one operand slot can hold. */
export type Operand = string | number | Reloc;

export const hi = (symbol: string, addend = 0): Reloc => ({ reloc: "hi", symbol, addend });
export const lo = (symbol: string, addend = 0): Reloc => ({ reloc: "lo", symbol, addend });

export function isReloc(v: unknown): v is Reloc {
  return typeof v === "object" && v !== null && "reloc" in v;
}

/** The upper 20 bits for lui/auipc such that adding the sign-extended low 12 bits gives `value`. */
export const hi20 = (value: number): number => ((value + 0x800) >>> 12) & 0xfffff;
/** The sign-extended low 12 bits matching hi20. */
export const lo12 = (value: number): number => (value << 20) >> 20;

/**
 * An assembly error. The message names where (source line, or section offset
 * and nearest label), the instruction and the offending operand.
 */
export class AsmError extends Error {
  constructor(
    readonly where: string,
    readonly insn: string,
    readonly problem: string,
  ) {
    super(`${where}: ${insn}: ${problem}`);
    this.name = "AsmError";
  }
}

/** Parses an integer literal (decimal, 0x, 0b, 0o, optional sign, '_' ignored); undefined if not one. */
export function parseNumber(text: string): number | undefined {
  const m = /^([+-]?)(0x[0-9a-f_]+|0b[01_]+|0o[0-7_]+|[0-9][0-9_]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[2].replaceAll("_", ""));
  return m[1] === "-" ? -value : value;
}

/** Parses a fence set ("iorw" letters in order; "0" or objdump's "unknown" for none). */
export function parseFenceSet(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === "0" || t === "unknown") return 0;
  const m = /^(i?)(o?)(r?)(w?)$/.exec(t);
  if (!m || t === "") return undefined;
  return (m[1] ? 8 : 0) | (m[2] ? 4 : 0) | (m[3] ? 2 : 0) | (m[4] ? 1 : 0);
}

/** Parses `%hi(sym)`, `%lo(sym+4)`; undefined if not a relocation. */
export function parseReloc(text: string): Reloc | undefined {
  const m = /^%(hi|lo)\(\s*([A-Za-z_.$][\w.$]*)\s*(?:([+-])\s*(\w+))?\s*\)$/.exec(text.trim());
  if (!m) return undefined;
  const addend = m[4] === undefined ? 0 : (parseNumber(m[4]) ?? Number.NaN);
  return { reloc: m[1] as "hi" | "lo", symbol: m[2], addend: m[3] === "-" ? -addend : addend };
}

export const SYMBOL_RE = /^[A-Za-z_.$][\w.$]*$/;
