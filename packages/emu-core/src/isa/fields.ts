/**
 * Bit fields of a 32-bit RISC-V instruction word: extraction (decode side) and
 * insertion (encode side). Immediates come out sign-extended as in the ISA
 * manual, chapter 2.3 ("Immediate Encoding Variants").
 */

export const rdOf = (w: number): number => (w >>> 7) & 31;
export const rs1Of = (w: number): number => (w >>> 15) & 31;
export const rs2Of = (w: number): number => (w >>> 20) & 31;
export const funct3Of = (w: number): number => (w >>> 12) & 7;

/** I-type: inst[31:20], sign-extended. */
export const immI = (w: number): number => w >> 20;
/** S-type: inst[31:25] | inst[11:7], sign-extended. */
export const immS = (w: number): number => ((w >> 20) & ~31) | ((w >>> 7) & 31);
/** B-type: inst[31|7|30:25|11:8] << 1, sign-extended. */
export const immB = (w: number): number =>
  ((w >> 19) & ~0xfff) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e);
/** U-type: inst[31:12] << 12 (as a signed 32-bit value). */
export const immU = (w: number): number => w & ~0xfff;
/** J-type: inst[31|19:12|20|30:21] << 1, sign-extended. */
export const immJ = (w: number): number =>
  ((w >> 11) & ~0xfffff) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe);
/** CSR number: inst[31:20], unsigned. */
export const csrOf = (w: number): number => w >>> 20;

export const encR = (rd: number, rs1: number, rs2: number): number => (rd << 7) | (rs1 << 15) | (rs2 << 20);
export const encI = (imm: number): number => (imm & 0xfff) << 20;
export const encS = (imm: number): number => (((imm >> 5) & 0x7f) << 25) | ((imm & 31) << 7);
export const encB = (off: number): number =>
  (((off >> 12) & 1) << 31) |
  (((off >> 5) & 0x3f) << 25) |
  (((off >> 1) & 0xf) << 8) |
  (((off >> 11) & 1) << 7);
export const encU = (imm20: number): number => (imm20 & 0xfffff) << 12;
export const encJ = (off: number): number =>
  (((off >> 20) & 1) << 31) |
  (((off >> 1) & 0x3ff) << 21) |
  (((off >> 11) & 1) << 20) |
  (((off >> 12) & 0xff) << 12);

/** The immediate an instruction's row operates on, by its operand kinds (both engines decode it so). */
export function immediateOf(args: readonly string[], w: number): number {
  if (args.includes("uimm")) return immU(w);
  if (args.includes("joff")) return immJ(w);
  if (args.includes("boff")) return immB(w);
  if (args.includes("simm")) return immS(w);
  if (args.includes("shamt")) return (w >>> 20) & 31;
  if (args.includes("csr")) return w >>> 20;
  if (args.includes("imm")) return immI(w);
  return 0;
}
