/**
 * The hypervisor's counters: every exit by reason and every shadow
 * operation. Names are dotted paths (`exit.emulate.csrrs`,
 * `shadow.fill`, ...) and become the `extra` part of the machine's stats.
 *
 * Each name is interned once into a small integer id (process-wide, so ids
 * are the same for every guest and every checkpoint); the values live in a
 * typed array indexed by id. Hot paths resolve their ids at module load
 * (`counterId`) and count with `bump`, so an exit costs no string hashing.
 * `add(name)` stays for names built at run time.
 */

const idOf = new Map<string, number>();
const names: string[] = [];

/** The id of a counter name (interned on first use). */
export function counterId(name: string): number {
  let id = idOf.get(name);
  if (id === undefined) {
    id = names.length;
    names.push(name);
    idOf.set(name, id);
  }
  return id;
}

export class HvCounters {
  /** Value per counter id. */
  private values = new Float64Array(64);
  /** 1 for each id counted at least once (snapshot lists those, zeros included, as before). */
  private seen = new Uint8Array(64);

  /** Count `n` on the counter with id `id` (from counterId). */
  bump(id: number, n = 1): void {
    if (id >= this.values.length) this.grow(id);
    this.values[id] += n;
    this.seen[id] = 1;
  }

  add(name: string, n = 1): void {
    this.bump(counterId(name), n);
  }

  get(name: string): number {
    const id = idOf.get(name);
    return id === undefined || id >= this.values.length ? 0 : this.values[id];
  }

  /** All counters, sorted by name, optionally prefixed. */
  snapshot(prefix = ""): Record<string, number> {
    const live: string[] = [];
    for (let id = 0; id < this.seen.length; id++) if (this.seen[id] === 1) live.push(names[id]);
    live.sort();
    const out: Record<string, number> = {};
    for (const k of live) out[prefix + k] = this.values[idOf.get(k) as number];
    return out;
  }

  private grow(id: number): void {
    let n = this.values.length;
    while (n <= id) n *= 2;
    const values = new Float64Array(n);
    values.set(this.values);
    const seen = new Uint8Array(n);
    seen.set(this.seen);
    this.values = values;
    this.seen = seen;
  }
}

/**
 * Counter ids for a family of names indexed by a small integer (a trap cause, a CSR number):
 * each id is interned the first time its index is counted, never again.
 */
export class CounterFamily {
  private readonly ids: Int32Array;

  constructor(
    size: number,
    private readonly nameOf: (i: number) => string,
  ) {
    this.ids = new Int32Array(size).fill(-1);
  }

  id(i: number): number {
    if (i < 0 || i >= this.ids.length) return counterId(this.nameOf(i));
    let id = this.ids[i];
    if (id < 0) {
      id = counterId(this.nameOf(i));
      this.ids[i] = id;
    }
    return id;
  }
}
