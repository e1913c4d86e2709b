/**
 * The ISA table: every instruction the machine knows, described once.
 *
 * The decoder (decode.ts), the assembler (../asm) and the disassembler
 * (disasm.ts) are all derived from these rows. An instruction word matches a
 * row when `(word & mask) === match`; the operand syntax names the fields the
 * row uses, in GNU assembler order.
 *
 * Operand tokens:
 *   rd rs1 rs2     integer registers in bits 11:7, 19:15, 24:20
 *   imm            12-bit signed I-type immediate (bits 31:20)
 *   simm           12-bit signed S-type immediate (store offset)
 *   boff           13-bit signed B-type branch offset (even)
 *   joff           21-bit signed J-type jump offset (even)
 *   uimm           20-bit U-type immediate (bits 31:12), written unshifted
 *   shamt          5-bit shift amount (bits 24:20)
 *   csr            12-bit CSR number (bits 31:20)
 *   zimm           5-bit unsigned immediate in the rs1 field (CSR*I)
 *   pred succ      fence predecessor/successor sets (iorw)
 *   aqrl           the A-extension ordering bits 26:25, printed as a suffix
 *
 * Row order is the op numbering: op ids are 1-based positions in TABLE, and
 * 0 is reserved for "not decoded yet" in the hart's decoded-instruction cache.
 * The hart's dispatch switch uses these numbers as literals (so V8 builds a
 * jump table); test/isa-table.test.ts checks that the two agree.
 */

export type Ext = "I" | "M" | "A" | "Zicsr" | "Zifencei" | "Priv";
export type Format = "R" | "I" | "S" | "B" | "U" | "J" | "SYS";
export type Arg =
  | "rd"
  | "rs1"
  | "rs2"
  | "imm"
  | "simm"
  | "boff"
  | "joff"
  | "uimm"
  | "shamt"
  | "csr"
  | "zimm"
  | "pred"
  | "succ"
  | "aqrl";

export interface InsnSpec {
  /** Op id: 1-based position in TABLE. */
  readonly op: number;
  readonly name: string;
  readonly fmt: Format;
  readonly ext: Ext;
  readonly match: number;
  readonly mask: number;
  /** Operands in assembler order, e.g. "rd,imm(rs1)". Empty for none. */
  readonly syntax: string;
  /** The operand tokens of `syntax`, plus "aqrl" for AMOs. */
  readonly args: readonly Arg[];
}

type Row = readonly [name: string, fmt: Format, ext: Ext, match: number, mask: number, syntax: string];

const R = 0xfe00707f; // opcode + funct3 + funct7
const F3 = 0x0000707f; // opcode + funct3
const OPC = 0x0000007f; // opcode only
const AMO = 0xf800707f; // funct5 + funct3 + opcode; aq/rl free
const ALL = 0xffffffff;

const ROWS: readonly Row[] = [
  // RV32I: upper immediates and jumps
  ["lui", "U", "I", 0x00000037, OPC, "rd,uimm"],
  ["auipc", "U", "I", 0x00000017, OPC, "rd,uimm"],
  ["jal", "J", "I", 0x0000006f, OPC, "rd,joff"],
  ["jalr", "I", "I", 0x00000067, F3, "rd,imm(rs1)"],
  // branches
  ["beq", "B", "I", 0x00000063, F3, "rs1,rs2,boff"],
  ["bne", "B", "I", 0x00001063, F3, "rs1,rs2,boff"],
  ["blt", "B", "I", 0x00004063, F3, "rs1,rs2,boff"],
  ["bge", "B", "I", 0x00005063, F3, "rs1,rs2,boff"],
  ["bltu", "B", "I", 0x00006063, F3, "rs1,rs2,boff"],
  ["bgeu", "B", "I", 0x00007063, F3, "rs1,rs2,boff"],
  // loads and stores
  ["lb", "I", "I", 0x00000003, F3, "rd,imm(rs1)"],
  ["lh", "I", "I", 0x00001003, F3, "rd,imm(rs1)"],
  ["lw", "I", "I", 0x00002003, F3, "rd,imm(rs1)"],
  ["lbu", "I", "I", 0x00004003, F3, "rd,imm(rs1)"],
  ["lhu", "I", "I", 0x00005003, F3, "rd,imm(rs1)"],
  ["sb", "S", "I", 0x00000023, F3, "rs2,simm(rs1)"],
  ["sh", "S", "I", 0x00001023, F3, "rs2,simm(rs1)"],
  ["sw", "S", "I", 0x00002023, F3, "rs2,simm(rs1)"],
  // register-immediate
  ["addi", "I", "I", 0x00000013, F3, "rd,rs1,imm"],
  ["slti", "I", "I", 0x00002013, F3, "rd,rs1,imm"],
  ["sltiu", "I", "I", 0x00003013, F3, "rd,rs1,imm"],
  ["xori", "I", "I", 0x00004013, F3, "rd,rs1,imm"],
  ["ori", "I", "I", 0x00006013, F3, "rd,rs1,imm"],
  ["andi", "I", "I", 0x00007013, F3, "rd,rs1,imm"],
  ["slli", "I", "I", 0x00001013, R, "rd,rs1,shamt"],
  ["srli", "I", "I", 0x00005013, R, "rd,rs1,shamt"],
  ["srai", "I", "I", 0x40005013, R, "rd,rs1,shamt"],
  // register-register
  ["add", "R", "I", 0x00000033, R, "rd,rs1,rs2"],
  ["sub", "R", "I", 0x40000033, R, "rd,rs1,rs2"],
  ["sll", "R", "I", 0x00001033, R, "rd,rs1,rs2"],
  ["slt", "R", "I", 0x00002033, R, "rd,rs1,rs2"],
  ["sltu", "R", "I", 0x00003033, R, "rd,rs1,rs2"],
  ["xor", "R", "I", 0x00004033, R, "rd,rs1,rs2"],
  ["srl", "R", "I", 0x00005033, R, "rd,rs1,rs2"],
  ["sra", "R", "I", 0x40005033, R, "rd,rs1,rs2"],
  ["or", "R", "I", 0x00006033, R, "rd,rs1,rs2"],
  ["and", "R", "I", 0x00007033, R, "rd,rs1,rs2"],
  // memory ordering: unused fence fields are reserved and ignored (ISA 2.7)
  ["fence", "I", "I", 0x0000000f, F3, "pred,succ"],
  ["fence.i", "I", "Zifencei", 0x0000100f, F3, ""],
  // environment and privileged
  ["ecall", "SYS", "I", 0x00000073, ALL, ""],
  ["ebreak", "SYS", "I", 0x00100073, ALL, ""],
  ["sret", "SYS", "Priv", 0x10200073, ALL, ""],
  ["mret", "SYS", "Priv", 0x30200073, ALL, ""],
  ["wfi", "SYS", "Priv", 0x10500073, ALL, ""],
  ["sfence.vma", "R", "Priv", 0x12000073, 0xfe007fff, "rs1,rs2"],
  // Zicsr
  ["csrrw", "I", "Zicsr", 0x00001073, F3, "rd,csr,rs1"],
  ["csrrs", "I", "Zicsr", 0x00002073, F3, "rd,csr,rs1"],
  ["csrrc", "I", "Zicsr", 0x00003073, F3, "rd,csr,rs1"],
  ["csrrwi", "I", "Zicsr", 0x00005073, F3, "rd,csr,zimm"],
  ["csrrsi", "I", "Zicsr", 0x00006073, F3, "rd,csr,zimm"],
  ["csrrci", "I", "Zicsr", 0x00007073, F3, "rd,csr,zimm"],
  // M
  ["mul", "R", "M", 0x02000033, R, "rd,rs1,rs2"],
  ["mulh", "R", "M", 0x02001033, R, "rd,rs1,rs2"],
  ["mulhsu", "R", "M", 0x02002033, R, "rd,rs1,rs2"],
  ["mulhu", "R", "M", 0x02003033, R, "rd,rs1,rs2"],
  ["div", "R", "M", 0x02004033, R, "rd,rs1,rs2"],
  ["divu", "R", "M", 0x02005033, R, "rd,rs1,rs2"],
  ["rem", "R", "M", 0x02006033, R, "rd,rs1,rs2"],
  ["remu", "R", "M", 0x02007033, R, "rd,rs1,rs2"],
  // A (word only on RV32); lr.w requires rs2 = 0
  ["lr.w", "R", "A", 0x1000202f, 0xf9f0707f, "rd,(rs1)"],
  ["sc.w", "R", "A", 0x1800202f, AMO, "rd,rs2,(rs1)"],
  ["amoswap.w", "R", "A", 0x0800202f, AMO, "rd,rs2,(rs1)"],
  ["amoadd.w", "R", "A", 0x0000202f, AMO, "rd,rs2,(rs1)"],
  ["amoxor.w", "R", "A", 0x2000202f, AMO, "rd,rs2,(rs1)"],
  ["amoand.w", "R", "A", 0x6000202f, AMO, "rd,rs2,(rs1)"],
  ["amoor.w", "R", "A", 0x4000202f, AMO, "rd,rs2,(rs1)"],
  ["amomin.w", "R", "A", 0x8000202f, AMO, "rd,rs2,(rs1)"],
  ["amomax.w", "R", "A", 0xa000202f, AMO, "rd,rs2,(rs1)"],
  ["amominu.w", "R", "A", 0xc000202f, AMO, "rd,rs2,(rs1)"],
  ["amomaxu.w", "R", "A", 0xe000202f, AMO, "rd,rs2,(rs1)"],
];

function argsOf(name: string, syntax: string): Arg[] {
  const args = (syntax.match(/[a-z0-9]+/g) ?? []) as Arg[];
  if (name.startsWith("amo") || name === "lr.w" || name === "sc.w") args.push("aqrl");
  return args;
}

export const TABLE: readonly InsnSpec[] = ROWS.map(([name, fmt, ext, match, mask, syntax], i) => ({
  op: i + 1,
  name,
  fmt,
  ext,
  match: match >>> 0,
  mask: mask >>> 0,
  syntax,
  args: argsOf(name, syntax),
}));

/** Op id of the illegal/unknown instruction (not a row of TABLE). */
export const OP_ILLEGAL = TABLE.length + 1;

const byName = new Map(TABLE.map((s) => [s.name, s]));

/** The row for a mnemonic, or undefined. */
export function specByName(name: string): InsnSpec | undefined {
  return byName.get(name);
}

/** The row for an op id (1-based), or undefined. */
export function specByOp(op: number): InsnSpec | undefined {
  return TABLE[op - 1];
}
