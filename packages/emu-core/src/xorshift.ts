/** One step of xorshift32 (Marsaglia 2003): the next state, an unsigned 32-bit integer, never 0 from a nonzero state. */
export function xorshift32(state: number): number {
  let x = state;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
