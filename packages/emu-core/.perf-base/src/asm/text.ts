/**
 * GNU-style assembly text: `label:`, `# comments`, directives and
 * instructions (pseudo-instructions included), fed into the same builder as
 * the DSL. Deliberately small: no expressions beyond `symbol±number`,
 * `%hi()`/`%lo()`, no macros or local numeric labels.
 */
import type { Assembler, SectionName, TextSyntax } from "./assembler.ts";
import { AsmError, parseNumber, type Reg } from "./operands.ts";

/** Assembles a (multi-line) program text; errors name the line. */
export function assembleText(a: Assembler, text: string, syntax: TextSyntax = {}, firstLine = 1): void {
  text.split("\n").forEach((line, i) => {
    inSource(a, `line ${firstLine + i}: ${line.trim()}`, () => assembleStatement(a, line, syntax));
  });
}

/** Assembles one line without a line number in its error context. */
export function assembleLine(a: Assembler, line: string, syntax: TextSyntax = {}): void {
  inSource(a, `"${line.trim()}"`, () => assembleStatement(a, line, syntax));
}

/** Runs `fn` with `where` as the error context, also for the errors raised here in text.ts. */
function inSource(a: Assembler, where: string, fn: () => void): void {
  try {
    a.withSource(where, fn);
  } catch (e) {
    if (e instanceof AsmError && e.where === "") throw new AsmError(where, e.insn, e.problem);
    throw e;
  }
}

function assembleStatement(a: Assembler, line: string, syntax: TextSyntax): void {
  let rest = stripComment(line).trim();
  for (let m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(rest); m; m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(rest)) {
    a.label(m[1]);
    rest = rest.slice(m[0].length).trim();
  }
  if (rest === "") return;
  const space = rest.search(/\s/);
  const head = (space < 0 ? rest : rest.slice(0, space)).toLowerCase();
  const args = space < 0 ? "" : rest.slice(space + 1).trim();
  if (head.startsWith(".") && DIRECTIVES[head]) DIRECTIVES[head](a, args);
  else if (head.startsWith(".")) throw new AsmError("", head, `unknown directive '${head}'`);
  else if (isMacro(head)) MACRO_TEXT[head](a, splitOperands(args));
  else a.emitText(head, splitOperands(args), syntax);
}

/** Drops a `#` comment (not inside a string literal). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\" && quoted) i++;
    else if (line[i] === '"') quoted = !quoted;
    else if (line[i] === "#" && !quoted) return line.slice(0, i);
  }
  return line;
}

function splitOperands(args: string): string[] {
  return args === "" ? [] : args.split(",").map((s) => s.trim());
}

type Macro = "li" | "la" | "lla" | "call" | "tail";
const isMacro = (name: string): name is Macro => name in MACRO_TEXT;

function operands(name: string, ops: string[], count: number): string[] {
  if (ops.length !== count) throw new AsmError("", name, `expects ${count} operand(s), got ${ops.length}`);
  return ops;
}

const MACRO_TEXT: Record<Macro, (a: Assembler, ops: string[]) => void> = {
  li: (a, ops) => a.li(...(operands("li", ops, 2) as [Reg, string])),
  la: (a, ops) => a.la(...(operands("la", ops, 2) as [Reg, string])),
  lla: (a, ops) => a.lla(...(operands("lla", ops, 2) as [Reg, string])),
  call: (a, ops) => a.call(operands("call", ops, 1)[0]),
  tail: (a, ops) => a.tail(operands("tail", ops, 1)[0]),
};

function number(directive: string, text: string): number {
  const n = parseNumber(text);
  if (n === undefined) throw new AsmError("", directive, `'${text}' is not a number`);
  return n;
}

const section = (name: SectionName) => (a: Assembler) => void a.section(name);
const numbers = (directive: string, args: string) => splitOperands(args).map((t) => number(directive, t));
const words = (a: Assembler, args: string) =>
  void a.word(...splitOperands(args).map((t) => parseNumber(t) ?? t));
const halves = (a: Assembler, args: string) => void a.half(...numbers(".half", args));
const bytes = (a: Assembler, args: string) => void a.byte(...numbers(".byte", args));
const asciz = (a: Assembler, args: string) => void a.string(parseString(args));
const ignored = () => undefined;

/** Directive -> handler. `.align` is a power-of-two exponent, as GNU as on RISC-V. */
const DIRECTIVES: Record<string, (a: Assembler, args: string) => void> = {
  ".text": section(".text"),
  ".data": section(".data"),
  ".rodata": section(".rodata"),
  ".bss": section(".bss"),
  ".section": (a, args) => void a.section(args.split(",")[0].trim() as SectionName),
  ".word": words,
  ".4byte": words,
  ".long": words,
  ".half": halves,
  ".2byte": halves,
  ".short": halves,
  ".byte": bytes,
  ".string": asciz,
  ".asciz": asciz,
  ".ascii": (a, args) => void a.ascii(parseString(args)),
  ".align": (a, args) => void a.align(2 ** number(".align", args)),
  ".p2align": (a, args) => void a.align(2 ** number(".p2align", args.split(",")[0])),
  ".balign": (a, args) => void a.align(number(".balign", args.split(",")[0])),
  ".space": (a, args) => void a.space(number(".space", args.split(",")[0])),
  ".zero": (a, args) => void a.space(number(".zero", args)),
  ".equ": (a, args) => equ(a, args),
  ".set": (a, args) => equ(a, args),
  // every symbol is exported, and these only matter to a linker
  ".globl": ignored,
  ".global": ignored,
  ".type": ignored,
  ".size": ignored,
  ".option": ignored,
};

function equ(a: Assembler, args: string): void {
  const [name, value] = splitOperands(args);
  a.equ(name, number(".equ", value ?? ""));
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", '"': '"' };

/** A double-quoted string literal with C escapes (\n \t \r \0 \\ \" \xNN). */
function parseString(text: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(text.trim());
  if (!m) throw new AsmError("", ".string", `expected a "quoted string", got ${text}`);
  return m[1].replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
    e.startsWith("x") && e.length === 3
      ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
      : (ESCAPES[e] ?? e),
  );
}
