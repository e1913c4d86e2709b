import { type InsnSpec, OP_ILLEGAL, TABLE } from "./table.ts";

/**
 * Decoder derived from the ISA table. Rows are bucketed by major opcode
 * (bits 6:0) so a word is compared against a handful of rows at most. The hart
 * decodes each word once per physical page slot (see hart.ts), so this path
 * is not per-instruction hot.
 */
const buckets: InsnSpec[][] = Array.from({ length: 128 }, () => []);
for (const spec of TABLE) buckets[spec.match & 0x7f].push(spec);

/** The table row matching `word`, or undefined when the encoding is illegal. */
export function decode(word: number): InsnSpec | undefined {
  const w = word >>> 0;
  for (const spec of buckets[w & 0x7f]) {
    if ((w & spec.mask) >>> 0 === spec.match) return spec;
  }
  return undefined;
}

/** Op id of `word` (1-based row number), or OP_ILLEGAL. */
export function decodeOp(word: number): number {
  return decode(word)?.op ?? OP_ILLEGAL;
}
