/**
 * The hypervisor's counters: every exit by reason and every shadow
 * operation. Names are dotted paths (`exit.emulate.csrrs`,
 * `shadow.fill`, ...) and become the `extra` part of the machine's stats.
 */
export class HvCounters {
  private readonly values = new Map<string, number>();

  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** All counters, sorted by name, optionally prefixed. */
  snapshot(prefix = ""): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.values.keys()].sort()) out[prefix + k] = this.values.get(k) ?? 0;
    return out;
  }
}
