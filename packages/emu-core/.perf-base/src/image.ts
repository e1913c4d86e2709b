/**
 * A loadable program: what the assembler produces, what the ELF loader reads
 * and what the ELF writer writes. Addresses are physical load addresses
 * (the machine has no loader beyond copying sections into RAM).
 */
export interface Section {
  /** ".text", ".data", ... */
  readonly name: string;
  /** Load address (unsigned 32-bit). */
  readonly addr: number;
  readonly bytes: Uint8Array;
  /** Memory size when larger than bytes (e.g. .bss): the rest is zero. */
  readonly memSize?: number;
  readonly flags: "rx" | "rw" | "r";
}

export interface Image {
  /** Entry point (unsigned 32-bit). */
  readonly entry: number;
  readonly sections: readonly Section[];
  /** Symbol name to address (unsigned 32-bit). */
  readonly symbols: Readonly<Record<string, number>>;
}
