/**
 * The assembler: a TypeScript DSL (one method per instruction and
 * pseudo-instruction) and a GNU-syntax text front end (text.ts) over one
 * builder. Instruction encodings come from the ISA table, pseudo-instructions
 * from the disassembler's alias table, so the two cannot disagree.
 *
 * Sections are assembled at section-relative offsets; .rodata/.data/.bss are
 * placed after .text (page-aligned) unless given a base, so label addresses,
 * branch offsets and pc-relative pairs are resolved in assemble().
 */
import { csrNumber } from "../csr.ts";
import type { Image, Section } from "../image.ts";
import { ALIASES, type SyntaxPart, syntaxParts } from "../isa/aliases.ts";
import { ARG_CODEC, type Fields } from "../isa/operands.ts";
import { isRegName, parseReg } from "../isa/regs.ts";
import { type Arg, type InsnSpec, TABLE } from "../isa/table.ts";
import { ByteBuffer } from "./bytes.ts";
import { type InsnMethods, methodName } from "./methods.ts";
import {
  AsmError,
  hi20,
  type Imm,
  isReloc,
  lo12,
  type Operand,
  type Ordering,
  parseFenceSet,
  parseNumber,
  parseReloc,
  type Reg,
  type Reloc,
  SYMBOL_RE,
} from "./operands.ts";
import { assembleLine, assembleText } from "./text.ts";

export type SectionName = ".text" | ".rodata" | ".data" | ".bss";

export interface AssemblerOptions {
  /** Base address of .text (default 0x80000000, the virt board's RAM). */
  readonly text?: number;
  /** Bases of the other sections; by default each follows the previous one, 4 KiB aligned. */
  readonly rodata?: number;
  readonly data?: number;
  readonly bss?: number;
  /** Entry point: a label or an address. Default: label `_start` if defined, else the .text base. */
  readonly entry?: string | number;
}

/** How text operands are read (the DSL always uses relative numeric targets). */
export interface TextSyntax {
  /** Read bare numeric branch targets as hex, as objdump prints them (`j 80000010`). */
  readonly objdump?: boolean;
}

const SECTIONS: readonly SectionName[] = [".text", ".rodata", ".data", ".bss"];
const FLAGS: Readonly<Record<SectionName, Section["flags"]>> = {
  ".text": "rx",
  ".rodata": "r",
  ".data": "rw",
  ".bss": "rw",
};
const PAGE = 4096;
const NOP = 0x00000013;
const REG_ARGS: ReadonlySet<Arg> = new Set<Arg>(["rd", "rs1", "rs2"]);
const TARGET_ARGS: ReadonlySet<Arg> = new Set<Arg>(["boff", "joff"]);

/** One way to write an instruction: a table row, or an alias with some fields fixed. */
interface Form {
  readonly name: string;
  readonly spec: InsnSpec;
  readonly fixed: Fields;
  readonly parts: readonly SyntaxPart[];
  /** Operand tokens in argument order (a memory part gives offset, then base). */
  readonly tokens: readonly Arg[];
  readonly extra: number;
}

function flatTokens(parts: readonly SyntaxPart[]): Arg[] {
  return parts.flatMap((p) => [...(p.token === "" ? [] : [p.token]), ...(p.base ? [p.base] : [])]);
}

function makeForm(name: string, spec: InsnSpec, syntax: string, fixed: Fields, extra: number): Form {
  const parts = syntaxParts(syntax);
  return { name, spec, fixed, parts, tokens: flatTokens(parts), extra };
}

/** Mnemonic -> its forms, table rows first, then aliases in table order. */
const FORMS = new Map<string, Form[]>();
function addForm(form: Form): void {
  FORMS.set(form.name, [...(FORMS.get(form.name) ?? []), form]);
}
for (const s of TABLE) addForm(makeForm(s.name, s, s.syntax, {}, 0));
for (const a of ALIASES) addForm(makeForm(a.name, a.base, a.syntax, a.fixed, a.extra));

/** Mnemonics that expand to more than one instruction or need a constant; handled by methods. */
const MACROS = ["li", "la", "lla", "call", "tail"] as const;

/** An operand resolved only once addresses are known (labels, relocations). */
interface Late {
  readonly late: (pc: number) => number;
}
type Value = number | Late;
type Internal = Operand | Late;
const isLate = (v: unknown): v is Late => typeof v === "object" && v !== null && "late" in v;

interface Position {
  readonly section: SectionName;
  readonly offset: number;
}

/** Where an instruction came from, for error messages. */
interface Context {
  readonly where: string;
  readonly insn: string;
}

interface SymbolRef {
  readonly symbol: string;
  readonly addend: number;
}

function parseSymbolRef(text: string): SymbolRef | undefined {
  const m = /^([A-Za-z_.$][\w.$]*)\s*(?:([+-])\s*(\w+))?$/.exec(text.trim());
  if (!m) return undefined;
  const n = m[3] === undefined ? 0 : parseNumber(m[3]);
  if (n === undefined) return undefined;
  return { symbol: m[1], addend: m[2] === "-" ? -n : n };
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

class AssemblerCore {
  private readonly buffers = new Map<SectionName, ByteBuffer>(SECTIONS.map((s) => [s, new ByteBuffer()]));
  private readonly bases: Partial<Record<SectionName, number>>;
  private current: SectionName = ".text";
  private readonly labels = new Map<string, Position>();
  private readonly constants = new Map<string, number>();
  private readonly fixups: (() => void)[] = [];
  private lastLabel: { name: string; pos: Position } | undefined;
  /** Set by the text front end while it assembles a line. */
  private sourceLine: string | undefined;
  private syntax: TextSyntax | undefined;
  private layout: Map<SectionName, number> | undefined;

  constructor(private readonly options: AssemblerOptions = {}) {
    this.bases = {
      ".text": options.text ?? 0x80000000,
      ".rodata": options.rodata,
      ".data": options.data,
      ".bss": options.bss,
    };
  }

  // ---- sections, labels, symbols -------------------------------------------------------------

  /** Switches to a section (subsequent code and data go there). */
  section(name: SectionName): this {
    if (!SECTIONS.includes(name)) throw this.error(`.section ${name}`, "unknown section");
    this.current = name;
    return this;
  }

  /** Defines a label at the current position. */
  label(name: string): this {
    this.checkNewSymbol(name, `label ${name}`);
    const pos = this.position();
    this.labels.set(name, pos);
    this.lastLabel = { name, pos };
    return this;
  }

  /** Defines an absolute symbol (`.equ name, value`); usable as an immediate and exported. */
  equ(name: string, value: number): this {
    this.checkNewSymbol(name, `.equ ${name}`);
    this.constants.set(name, value >>> 0);
    return this;
  }

  /** Same as equ: an absolute symbol. */
  symbol(name: string, value: number): this {
    return this.equ(name, value);
  }

  /** The current address; known while assembling for .text and for sections given a base. */
  here(): number {
    const base = this.bases[this.current];
    if (base === undefined) {
      throw this.error("here()", `${this.current} has no base address yet (pass one to the Assembler)`);
    }
    return (base + this.buffer().length) >>> 0;
  }

  private checkNewSymbol(name: string, insn: string): void {
    if (!SYMBOL_RE.test(name)) throw this.error(insn, `invalid symbol name '${name}'`);
    if (isRegName(name)) throw this.error(insn, `symbol '${name}' would shadow a register`);
    if (this.labels.has(name) || this.constants.has(name))
      throw this.error(insn, `duplicate label '${name}'`);
  }

  // ---- data ------------------------------------------------------------------------------------

  /** 32-bit words: numbers, or label names (their absolute address). */
  word(...values: (number | string)[]): this {
    for (const v of values) {
      if (typeof v === "number") this.data(".word", v, 4);
      else this.wordOfSymbol(v);
    }
    return this;
  }

  half(...values: number[]): this {
    for (const v of values) this.data(".half", v, 2);
    return this;
  }

  byte(...values: number[]): this {
    for (const v of values) this.data(".byte", v, 1);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.writable(".bytes").pushBytes(data);
    return this;
  }

  /** The string's UTF-8 bytes and a terminating NUL (`.string`/`.asciz`). */
  string(s: string): this {
    return this.ascii(`${s}\0`);
  }

  asciz(s: string): this {
    return this.string(s);
  }

  /** The string's UTF-8 bytes, no terminator (`.ascii`). */
  ascii(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }

  /** Pads to a multiple of `n` bytes (a power of two): with nops in .text, zeros elsewhere. */
  align(n: number): this {
    if (!Number.isInteger(n) || n <= 0 || (n & (n - 1)) !== 0) {
      throw this.error(`.align ${n}`, "alignment must be a power of two");
    }
    const buf = this.buffer();
    const pad = alignUp(buf.length, n) - buf.length;
    if (this.current === ".text" && pad % 4 === 0 && buf.length % 4 === 0) {
      for (let i = 0; i < pad; i += 4) buf.pushWord(NOP, 4);
    } else buf.fill(pad);
    return this;
  }

  /** `n` zero bytes (the only content .bss may have). */
  space(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw this.error(`.space ${n}`, "size must be a non-negative integer");
    this.buffer().fill(n);
    return this;
  }

  private data(directive: string, value: number, size: number): void {
    const bits = size * 8;
    if (!Number.isInteger(value) || value < -(2 ** (bits - 1)) || value >= 2 ** bits) {
      throw this.error(`${directive} ${value}`, `value out of range for ${size} byte(s)`);
    }
    this.writable(directive).pushWord(value, size);
  }

  private wordOfSymbol(text: string): void {
    const ctx = this.context(`.word ${text}`);
    const ref = parseSymbolRef(text);
    if (!ref) throw new AsmError(ctx.where, ctx.insn, `'${text}' is neither a number nor a label`);
    const buf = this.writable(".word");
    const pos = this.position();
    buf.pushWord(0, 4);
    this.fixups.push(() => buf.patchWord(pos.offset, this.symbolValue(ref, ctx)));
  }

  private writable(directive: string): ByteBuffer {
    if (this.current === ".bss") throw this.error(directive, ".bss can only hold .space/.align");
    return this.buffer();
  }

  // ---- instructions ----------------------------------------------------------------------------

  /**
   * Emits `mnemonic` (a table row or single-instruction alias, optionally
   * with a .aq/.rl/.aqrl suffix) with operands in argument order.
   */
  emit(mnemonic: string, operands: readonly Operand[], order?: Ordering): this {
    const insn = `${mnemonic}${operands.length ? ` ${operands.map(String).join(", ")}` : ""}`;
    const ctx = this.context(insn);
    const { forms, aqrl } = this.formsOf(mnemonic, order, ctx);
    const form = this.pickForm(forms, operands, ctx);
    this.place(form, this.bind(form, operands, ctx), aqrl, ctx);
    return this;
  }

  /**
   * Emits one instruction written as text operands (`["a0", "8(sp)"]`): the
   * memory parts are split here, since whether a part is `off(base)` decides
   * which form applies.
   */
  emitText(mnemonic: string, parts: readonly string[], syntax: TextSyntax = {}): this {
    const ctx = this.context(`${mnemonic} ${parts.join(",")}`.trim());
    const { forms, aqrl } = this.formsOf(mnemonic, undefined, ctx);
    const candidates = forms.flatMap((form) => {
      const ops = flattenText(form, parts);
      return ops ? [{ form, ops }] : [];
    });
    const pick = candidates.find((c) => fits(c.form, c.ops)) ?? candidates[0];
    if (!pick) throw new AsmError(ctx.where, ctx.insn, expectedForms(forms));
    this.syntax = syntax;
    try {
      this.place(pick.form, this.bind(pick.form, pick.ops, ctx), aqrl, ctx);
    } finally {
      this.syntax = undefined;
    }
    return this;
  }

  private formsOf(mnemonic: string, order: Ordering | undefined, ctx: Context) {
    const direct = FORMS.get(mnemonic);
    let aqrl = (order?.aq ? 2 : 0) | (order?.rl ? 1 : 0);
    if (direct) return { forms: direct, aqrl };
    const m = /^(.*)\.(aqrl|aq|rl)$/.exec(mnemonic);
    const forms = m ? FORMS.get(m[1])?.filter((f) => f.spec.args.includes("aqrl")) : undefined;
    if (!m || !forms?.length) throw new AsmError(ctx.where, ctx.insn, `unknown mnemonic '${mnemonic}'`);
    aqrl |= { aqrl: 3, aq: 2, rl: 1 }[m[2] as "aqrl" | "aq" | "rl"];
    return { forms, aqrl };
  }

  /** The first form whose operand count and kinds (register or not) fit. */
  private pickForm(forms: readonly Form[], operands: readonly Operand[], ctx: Context): Form {
    const form =
      forms.find((f) => fits(f, operands)) ?? forms.find((f) => f.tokens.length === operands.length);
    if (!form) throw new AsmError(ctx.where, ctx.insn, expectedForms(forms));
    return form;
  }

  private bind(form: Form, operands: readonly Internal[], ctx: Context): Map<Arg, Value> {
    const values = new Map<Arg, Value>(Object.entries(form.fixed) as [Arg, number][]);
    for (const [i, arg] of form.tokens.entries()) values.set(arg, this.operandValue(arg, operands[i], ctx));
    return values;
  }

  private operandValue(arg: Arg, v: Internal, ctx: Context): Value {
    if (isLate(v)) return v;
    const bad = (what: string) =>
      new AsmError(ctx.where, ctx.insn, `${what} '${String(v)}' for operand ${arg}`);
    if (REG_ARGS.has(arg)) {
      const r = typeof v === "string" ? parseReg(v) : undefined;
      if (r === undefined) throw bad("bad register");
      return r;
    }
    if (typeof v === "number") return TARGET_ARGS.has(arg) && this.syntax ? this.absoluteTarget(v) : v;
    if (isReloc(v)) return this.relocValue(v, ctx);
    if (arg === "csr") return csrNumber(v) ?? parseNumber(v) ?? throwError(bad("unknown CSR"));
    if (arg === "pred" || arg === "succ") return parseFenceSet(v) ?? throwError(bad("bad fence set"));
    if (TARGET_ARGS.has(arg)) return this.targetValue(v, ctx) ?? throwError(bad("bad target"));
    const n = parseNumber(v);
    if (n !== undefined) return n;
    const reloc = parseReloc(v);
    if (reloc) return this.relocValue(reloc, ctx);
    const ref = parseSymbolRef(v) ?? throwError(bad("bad immediate"));
    const known = this.constants.get(ref.symbol);
    return known === undefined ? { late: () => this.symbolValue(ref, ctx) } : known + ref.addend;
  }

  /** Text targets: a label, or an absolute address (hex without 0x in objdump syntax). */
  private targetValue(text: string, ctx: Context): Value | undefined {
    const bareHex = this.syntax?.objdump && /^[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : undefined;
    const n = bareHex ?? parseNumber(text);
    if (n !== undefined) return this.syntax ? this.absoluteTarget(n) : n;
    const ref = parseSymbolRef(text);
    return ref && { late: (pc) => this.symbolValue(ref, ctx) - pc };
  }

  private absoluteTarget(address: number): Late {
    return { late: (pc) => ((address - pc) << 0) | 0 };
  }

  private relocValue(r: Reloc, ctx: Context): Late {
    const half = r.reloc === "hi" ? hi20 : lo12;
    return { late: () => half(this.symbolValue(r, ctx)) };
  }

  /** Appends the instruction; operands known only after layout are patched in assemble(). */
  private place(form: Form, values: Map<Arg, Value>, aqrl: number, ctx: Context): void {
    if (aqrl) values.set("aqrl", aqrl);
    const buf = this.writable(form.name);
    if (buf.length % 4 !== 0) throw new AsmError(ctx.where, ctx.insn, "instruction at a misaligned offset");
    const pos = this.position();
    const late = [...values].filter((e): e is [Arg, Late] => isLate(e[1]));
    if (late.length === 0) {
      buf.pushWord(encodeForm(form, values as Map<Arg, number>, ctx), 4);
      return;
    }
    buf.pushWord(0, 4);
    this.fixups.push(() => {
      const pc = this.addressOf(pos);
      for (const [arg, v] of late) values.set(arg, v.late(pc));
      buf.patchWord(pos.offset, encodeForm(form, values as Map<Arg, number>, ctx));
    });
  }

  // ---- multi-instruction pseudo-instructions ----------------------------------------------------

  /** Loads any 32-bit constant: `addi` when it fits 12 bits, else `lui` (+ `addi`), as GNU as does. */
  li(rd: Reg, value: Imm): this {
    const v = this.constantOf(value, `li ${rd}, ${String(value)}`) | 0;
    if (v >= -2048 && v < 2048) return this.emit("addi", [rd, "zero", v]);
    this.emit("lui", [rd, hi20(v)]);
    return lo12(v) === 0 ? this : this.emit("addi", [rd, rd, lo12(v)]);
  }

  /** Loads a label's address pc-relatively: `auipc rd` + `addi rd`. */
  la(rd: Reg, target: string): this {
    return this.pcrelPair("la", rd, target, (lo) => this.emit("addi", [rd, rd, lo] as Operand[]));
  }

  /** Same as la (this assembler never uses a GOT). */
  lla(rd: Reg, target: string): this {
    return this.la(rd, target);
  }

  /** Calls a label anywhere in the address space: `auipc ra` + `jalr ra`. */
  call(target: string): this {
    return this.pcrelPair("call", "ra", target, (lo) => this.emit("jalr", ["ra", lo, "ra"] as Operand[]));
  }

  /** Tail-calls a label: `auipc t1` + `jr t1` (ra is kept). */
  tail(target: string): this {
    return this.pcrelPair("tail", "t1", target, (lo) => this.emit("jalr", ["zero", lo, "t1"] as Operand[]));
  }

  private pcrelPair(macro: string, reg: Reg, target: string, second: (lo: Late) => void): this {
    const ctx = this.context(`${macro} ${target}`);
    const ref =
      parseSymbolRef(target) ?? throwError(new AsmError(ctx.where, ctx.insn, `bad target '${target}'`));
    const anchor = this.position();
    const delta = () => this.symbolValue(ref, ctx) - this.addressOf(anchor);
    this.emit("auipc", [reg, { late: () => hi20(delta()) }] as unknown as Operand[]);
    second({ late: () => lo12(delta()) });
    return this;
  }

  private constantOf(value: Imm, insn: string): number {
    const ctx = this.context(insn);
    const v = typeof value === "string" ? (parseNumber(value) ?? this.constants.get(value)) : value;
    if (typeof v !== "number") {
      throw new AsmError(
        ctx.where,
        ctx.insn,
        `li needs a constant or an earlier .equ, not '${String(value)}'`,
      );
    }
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32) {
      throw new AsmError(ctx.where, ctx.insn, `immediate ${v} is not a 32-bit value`);
    }
    return v;
  }

  // ---- text front end ----------------------------------------------------------------------------

  /** Assembles one line of GNU-style text (`"loop: addi a0, a0, 1 # count"`). */
  insn(line: string, syntax?: TextSyntax): this {
    assembleLine(this as unknown as Assembler, line, syntax);
    return this;
  }

  /** Assembles a multi-line GNU-style program; errors name the line number. */
  asm(text: string, syntax?: TextSyntax): this {
    assembleText(this as unknown as Assembler, text, syntax);
    return this;
  }

  /** Runs `fn` with error messages naming `line` (used by the text front end). */
  withSource<T>(line: string, fn: () => T): T {
    const saved = this.sourceLine;
    this.sourceLine = line;
    try {
      return fn();
    } finally {
      this.sourceLine = saved;
    }
  }

  // ---- output ------------------------------------------------------------------------------------

  /** Lays out the sections, resolves every label and returns the loadable image. */
  assemble(): Image {
    this.layout = this.placeSections();
    for (const fix of this.fixups) fix();
    const sections = SECTIONS.filter((s) => this.buffers.get(s)!.length > 0).map((s) => this.sectionImage(s));
    return { entry: this.entry(), sections, symbols: this.symbolTable() };
  }

  private placeSections(): Map<SectionName, number> {
    const placed = new Map<SectionName, number>();
    let cursor = this.bases[".text"]!;
    for (const name of SECTIONS) {
      const base = this.bases[name] ?? alignUp(cursor, PAGE);
      placed.set(name, base >>> 0);
      const size = this.buffers.get(name)!.length;
      if (size > 0) cursor = Math.max(cursor, base + size);
    }
    this.checkOverlaps(placed);
    return placed;
  }

  private checkOverlaps(placed: Map<SectionName, number>): void {
    const spans = SECTIONS.filter((s) => this.buffers.get(s)!.length > 0)
      .map((s) => ({ s, start: placed.get(s)!, end: placed.get(s)! + this.buffers.get(s)!.length }))
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i].start < spans[i - 1].end) {
        throw new AsmError(
          "layout",
          spans[i].s,
          `overlaps ${spans[i - 1].s} (ends at ${hex(spans[i - 1].end)})`,
        );
      }
    }
  }

  private sectionImage(name: SectionName): Section {
    const buf = this.buffers.get(name)!;
    const addr = this.layout!.get(name)!;
    if (name === ".bss")
      return { name, addr, bytes: new Uint8Array(0), memSize: buf.length, flags: FLAGS[name] };
    return { name, addr, bytes: buf.toBytes(), flags: FLAGS[name] };
  }

  private symbolTable(): Record<string, number> {
    const symbols: Record<string, number> = {};
    for (const [name, pos] of this.labels) symbols[name] = this.addressOf(pos);
    for (const [name, value] of this.constants) symbols[name] = value;
    return symbols;
  }

  private entry(): number {
    const { entry } = this.options;
    const ctx = { where: "entry", insn: "entry" };
    if (typeof entry === "number") return entry >>> 0;
    if (entry !== undefined) return this.symbolValue({ symbol: entry, addend: 0 }, ctx);
    const start = this.labels.get("_start");
    return start ? this.addressOf(start) : this.layout!.get(".text")!;
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private buffer(): ByteBuffer {
    return this.buffers.get(this.current)!;
  }

  private position(): Position {
    return { section: this.current, offset: this.buffer().length };
  }

  private addressOf(pos: Position): number {
    return (this.layout!.get(pos.section)! + pos.offset) >>> 0;
  }

  private symbolValue(ref: SymbolRef, ctx: Context): number {
    const pos = this.labels.get(ref.symbol);
    const value = pos ? this.addressOf(pos) : this.constants.get(ref.symbol);
    if (value === undefined) throw new AsmError(ctx.where, ctx.insn, `undefined label '${ref.symbol}'`);
    return (value + ref.addend) >>> 0;
  }

  private context(insn: string): Context {
    if (this.sourceLine !== undefined) return { where: this.sourceLine, insn };
    const pos = this.position();
    const near = this.lastLabel?.pos.section === pos.section ? this.lastLabel : undefined;
    const label = near ? ` (${near.name}+${hex(pos.offset - near.pos.offset)})` : "";
    return { where: `${pos.section}+${hex(pos.offset)}${label}`, insn };
  }

  private error(insn: string, problem: string): AsmError {
    const ctx = this.context(insn);
    return new AsmError(ctx.where, ctx.insn, problem);
  }
}

function throwError(e: Error): never {
  throw e;
}

/** Operand count and kinds (register vs anything else) match the form. */
function fits(form: Form, operands: readonly Operand[]): boolean {
  if (form.tokens.length !== operands.length) return false;
  return form.tokens.every((arg, i) => {
    const isReg = typeof operands[i] === "string" && isRegName(operands[i] as string);
    return REG_ARGS.has(arg) === isReg;
  });
}

/** Splits text parts by the form's syntax (`8(sp)` -> "8", "sp"); undefined if the shape differs. */
function flattenText(form: Form, parts: readonly string[]): string[] | undefined {
  if (form.parts.length !== parts.length) return undefined;
  const out: string[] = [];
  for (const [i, part] of form.parts.entries()) {
    const text = parts[i].trim();
    const paren = /^(.*?)\(\s*([^()]+?)\s*\)$/.exec(text);
    // `%lo(sym)` alone is an immediate, `%lo(sym)(a0)` a memory operand
    const mem = paren && !/%\w+$/.test(paren[1].trim()) ? paren : null;
    if ((part.base !== undefined) !== (mem !== null)) return undefined;
    if (!mem) out.push(text);
    else if (part.token !== "") out.push(mem[1].trim() === "" ? "0" : mem[1].trim(), mem[2]);
    else if (mem[1].trim() === "" || parseNumber(mem[1]) === 0) out.push(mem[2]);
    else return undefined;
  }
  return out;
}

function expectedForms(forms: readonly Form[]): string {
  const shapes = forms.map(
    (f) => `${f.name} ${f.parts.map((p) => (p.base ? `${p.token}(${p.base})` : p.token)).join(",")}`,
  );
  return `operands do not match; expected ${[...new Set(shapes.map((s) => s.trim()))].join(" | ")}`;
}

function encodeForm(form: Form, values: Map<Arg, number>, ctx: Context): number {
  let word = form.spec.match | form.extra;
  for (const arg of form.spec.args) {
    const v = values.get(arg) ?? 0;
    checkRange(arg, v, ctx);
    word |= ARG_CODEC[arg].put(v);
  }
  return word >>> 0;
}

function checkRange(arg: Arg, v: number, ctx: Context): void {
  const { min, max } = ARG_CODEC[arg];
  const fail = (problem: string) => {
    throw new AsmError(ctx.where, ctx.insn, problem);
  };
  if (TARGET_ARGS.has(arg)) {
    // no compressed instructions: every target must be word aligned
    if (v % 4 !== 0) fail(`misaligned target: offset ${v} is not a multiple of 4`);
    if (v < min || v > max) fail(`branch target out of range: offset ${v} not in [${min}, ${max}]`);
  } else if (!Number.isInteger(v) || v < min || v > max) {
    fail(`immediate ${v} out of range [${min}, ${max}] for operand ${arg}`);
  }
}

/** Instruction methods generated from the table and alias rows; typed by InsnMethods. */
for (const mnemonic of FORMS.keys()) {
  const name = methodName(mnemonic);
  if (name in AssemblerCore.prototype) continue;
  Object.defineProperty(AssemblerCore.prototype, name, {
    value(this: AssemblerCore, ...args: unknown[]) {
      const last = args.at(-1);
      const order =
        typeof last === "object" && last !== null && !isReloc(last) ? (args.pop() as Ordering) : undefined;
      return this.emit(mnemonic, args as Operand[], order);
    },
  });
}

/** Every instruction and pseudo-instruction name the DSL has a method for. */
export const MNEMONICS: readonly string[] = [...new Set([...FORMS.keys(), ...MACROS])];

export type Assembler = AssemblerCore & InsnMethods<Assembler>;
export const Assembler = AssemblerCore as unknown as new (options?: AssemblerOptions) => Assembler;
