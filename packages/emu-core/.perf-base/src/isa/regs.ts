/**
 * Integer register names. The ABI names are what GNU objdump prints; the
 * parser also accepts `fp` (the frame-pointer name of s0) and x0..x31.
 */

// biome-ignore format: one row per 8 registers reads like the ABI table
export const ABI_NAMES = [
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
  "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
  "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
] as const;

export type AbiName = (typeof ABI_NAMES)[number];
/** Any spelling the assembler accepts (x-names are range-checked at run time). */
export type RegName = AbiName | "fp" | `x${number}`;

const byName = new Map<string, number>(ABI_NAMES.map((name, i) => [name, i]));
byName.set("fp", 8);
for (let i = 0; i < 32; i++) byName.set(`x${i}`, i);

/** The objdump name of register `n` (0..31): `s0`, never `fp`. */
export function regName(n: number): AbiName {
  const name = ABI_NAMES[n];
  if (name === undefined) throw new RangeError(`no register x${n}`);
  return name;
}

/** The register number for a name, or undefined when `name` is not a register. */
export function parseReg(name: string): number | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** True when `name` spells a register (labels must not, or operands would be ambiguous). */
export function isRegName(name: string): boolean {
  return parseReg(name) !== undefined;
}
