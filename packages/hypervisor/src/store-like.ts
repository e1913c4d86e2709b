/**
 * Performing a guest's store-like instruction on its behalf: sb, sh, sw,
 * sc.w and every AMO (including the ones that also read, which is all of
 * them), on guest RAM, exactly as the hart would have performed it had the
 * page been writable — the same memory, the same rd, the same reservation
 * state — and stepping over it. A strategy that write-protects guest page
 * tables emulates every store that hits one through here, once.
 */
import { amoResult, decode, type Hart, RAM_BASE, rdOf, rs2Of, specByName } from "@shadowlab/emu-core";

const STORE_WIDTH: Readonly<Record<string, 1 | 2 | 4>> = { sb: 1, sh: 2, sw: 4 };
const SC = specByName("sc.w")?.op ?? -1;
const AMO_FIRST = specByName("amoswap.w")?.op ?? -1;
const AMO_LAST = specByName("amomaxu.w")?.op ?? -1;

/** Whether a decoded instruction writes memory (and so can take a store/AMO fault). */
export function isStoreLike(word: number): boolean {
  const spec = decode(word);
  if (!spec) return false;
  return STORE_WIDTH[spec.name] !== undefined || (spec.op >= SC && spec.op <= AMO_LAST);
}

/** Whether a decoded instruction is LR, SC or an AMO. */
export function isAtomic(word: number): boolean {
  const spec = decode(word);
  return spec !== undefined && spec.ext === "A";
}

/**
 * Perform store-like instruction `word` (fetched from the guest's pc) at
 * machine physical address `ma` (the guest's target, already translated and
 * permitted) and step over it. Returns the width written (SC and AMOs: 4),
 * or 0 when `word` is not a store-like instruction or `ma` is misaligned for
 * it; then nothing happened and the caller must deal with it otherwise.
 */
export function performStoreLike(hart: Hart, word: number, ma: number): 0 | 1 | 2 | 4 {
  const spec = decode(word);
  if (!spec) return 0;
  const x = hart.x;
  const rd = rdOf(word);
  const src = x[rs2Of(word)];
  const plain = STORE_WIDTH[spec.name];
  if (plain !== undefined) {
    if (ma % plain !== 0) return 0;
    hart.writePhys(ma, plain, plain === 4 ? src >>> 0 : src & ((1 << (plain * 8)) - 1));
  } else if (spec.op === SC) {
    if (ma % 4 !== 0) return 0;
    // As the hart: the SC succeeds only on the word the LR reserved, and consumes the reservation.
    const ok = hart.reservation === ma - RAM_BASE;
    hart.reservation = -1;
    if (ok) hart.writePhys(ma, 4, src >>> 0);
    if (rd !== 0) x[rd] = ok ? 0 : 1;
  } else if (spec.op >= AMO_FIRST && spec.op <= AMO_LAST) {
    if (ma % 4 !== 0) return 0;
    const old = (hart.readPhys(ma, 4) ?? 0) | 0;
    hart.writePhys(ma, 4, amoResult(spec.op, old, src) >>> 0);
    if (rd !== 0) x[rd] = old;
  } else {
    return 0;
  }
  hart.pc = (hart.pc + 4) >>> 0;
  hart.instret++; // it retires, as natively (the guest reads instret and time)
  return plain ?? 4;
}
