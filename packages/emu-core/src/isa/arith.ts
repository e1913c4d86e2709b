/**
 * The M extension's results that are not one JavaScript operator, exact for
 * every operand (ISA manual, "M" chapter, table of division corner cases):
 * shared by the interpreter and the translated code (isa/semantics.ts).
 */

/** Signed division: by zero gives -1, overflow gives the dividend (M extension, table 7.1). */
export function div(a: number, b: number): number {
  return b === 0 ? -1 : a === -0x8000_0000 && b === -1 ? a : (a / b) | 0;
}

/** Unsigned division: by zero gives all ones. */
export function divu(a: number, b: number): number {
  const d = b >>> 0;
  return d === 0 ? -1 : ((a >>> 0) / d) | 0;
}

/** Signed remainder: by zero gives the dividend, overflow gives 0. */
export function rem(a: number, b: number): number {
  return b === 0 ? a : a === -0x8000_0000 && b === -1 ? 0 : (a % b) | 0;
}

/** Unsigned remainder: by zero gives the dividend. */
export function remu(a: number, b: number): number {
  const d = b >>> 0;
  return d === 0 ? a : ((a >>> 0) % d) | 0;
}

/** High 32 bits of the unsigned 64-bit product, in 16-bit limbs (exact in doubles). */
export function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + carry) | 0;
}

/** High 32 bits of the signed product: correct the unsigned one for negative operands. */
export function mulh(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  return h;
}

/** High 32 bits of signed a times unsigned b. */
export function mulhsu(a: number, b: number): number {
  const h = mulhu(a, b);
  return a < 0 ? (h - b) | 0 : h;
}
