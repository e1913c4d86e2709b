/**
 * A memory-mapped device on the physical bus. Offsets are relative to `base`.
 * Accesses have width 1, 2 or 4 bytes and natural alignment (the hart raises
 * misaligned-access exceptions before the bus is reached). Loads return the
 * value zero-extended to 32 bits; the hart sign-extends where the
 * instruction asks for it.
 */
export interface Device {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  load(offset: number, width: 1 | 2 | 4): number;
  store(offset: number, width: 1 | 2 | 4, value: number): void;
}
