/**
 * Every workload, at small parameters, booted with the guest kernel and run
 * natively on emu-core: it powers off with exit code 0 and prints exactly the
 * per-process lines and the checksum its reference model predicts; the ASID
 * and non-ASID kernels print the same; long forkwait and pagefault runs give
 * every page back.
 */
import { describe, expect, it } from "vitest";
import { getWorkload, parseParams, WORKLOADS } from "../src/registry.ts";
import type { Params } from "../src/workloads/common.ts";
import { runNative } from "../src/workloads/native.ts";

/** Every workload's small parameter sets. */
const SMALL: [string, Record<string, unknown>][] = WORKLOADS.flatMap((w) =>
  w.small.map((raw): [string, Record<string, unknown>] => [w.name, raw]),
);

const BUDGET = 50_000_000;

const label = (name: string, raw: Record<string, unknown>) =>
  `${name} ${Object.entries(raw)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}`;

function run(name: string, raw: Record<string, unknown>, asid = false) {
  const w = getWorkload(name);
  const p: Params = parseParams(w, { ...raw, asid });
  return { w, p, run: runNative(w, p, { maxInstructions: BUDGET }) };
}

describe("workloads run natively", () => {
  for (const [name, raw] of SMALL) {
    it(`${label(name, raw)}: exits 0 and prints the reference model's lines and checksum; asid gives the same output`, () => {
      const { w, p, run: r } = run(name, raw);
      const e = w.expected(p);
      expect(r.result.reason, r.output).toBe("exit");
      expect(r.result.exitCode, r.output).toBe(0);
      expect(r.output).not.toMatch(/killed/);
      const lines = r.output.replace(/\n$/, "").split("\n");
      expect(lines.slice(-e.consoleLines.length)).toEqual(e.consoleLines);
      expect(r.output.endsWith(`${e.userOutput}${e.reportLines.join("\n")}\n`)).toBe(true);
      expect(r.checksum).toBe(e.checksum);
      const withAsid = run(name, raw, true).run;
      expect(withAsid.result.reason).toBe("exit");
      expect(withAsid.output).toBe(r.output);
    });
  }

  it("every workload at its defaults (nano: every variant) matches its model in under 2M instructions", () => {
    for (const w of WORKLOADS) {
      const sets =
        w.name === "nano" ? w.small.map((s) => ({ variant: (s as { variant: string }).variant })) : [{}];
      for (const raw of sets) {
        const p = parseParams(w, raw);
        const r = runNative(w, p, { maxInstructions: BUDGET });
        expect(r.result.reason, `${w.name} ${JSON.stringify(raw)}`).toBe("exit");
        expect(r.checksum, `${w.name} ${JSON.stringify(raw)}`).toBe(w.expected(p).checksum);
        expect(r.result.instructions).toBeLessThan(2_000_000);
      }
    }
  });

  it("compute takes no trap but its exit; preempt is switched only by the timer", () => {
    const c = run("compute", { iterations: 2000 }).run.result.stats.traps.exceptions;
    expect(Object.values(c).reduce((s, n) => s + n, 0)).toBe(1);
    expect(c.ecall_u).toBe(1);
    const P = 3;
    const pre = run("preempt", { processes: P, iterations: 5000, quantum: 200 }).run.result.stats.traps;
    // P-1 forks, P getpids, P-1 waits, P exits: no yield anywhere.
    expect(pre.exceptions.ecall_u).toBe(4 * P - 2);
    expect(pre.interrupts.supervisor_timer).toBeGreaterThan(P * 5);
  });

  it("nano counters scale with iterations: one ecall, ebreak or page fault per iteration", () => {
    const traps = (variant: string, iterations: number) =>
      run("nano", { variant, iterations }).run.result.stats.traps.exceptions;
    const d = (variant: string, key: string) => traps(variant, 300)[key] - traps(variant, 100)[key];
    expect(d("syscall", "ecall_u")).toBe(200);
    expect(d("trap", "breakpoint")).toBe(200);
    expect(d("pgfault", "store_page_fault")).toBe(200);
    expect(d("callret", "ecall_u")).toBe(0);
    expect(d("in", "ecall_u")).toBe(0);
  });

  it("kernel options passed to build override the ones the parameters ask for", () => {
    const w = getWorkload("ctxswitch");
    const p = parseParams(w, { processes: 2, pages: 1, rounds: 3 });
    const tagged = runNative(w, p, { kernel: { asid: true } }).result.stats.tlb.tlb;
    const plain = runNative(w, p).result.stats.tlb.tlb;
    expect(plain.flushAll).toBeGreaterThan(tagged.flushAll);
    expect(w.kernelOptions({ ...p, asid: true }).asid).toBe(true);
  });

  it("gives every page back after a long forkwait and a long pagefault run", () => {
    for (const [name, raw] of [
      ["forkwait", { children: 150, pages: 3 }],
      ["pagefault", { pages: 16, cycles: 100 }],
      ["ctxswitch", { processes: 8, pages: 4, rounds: 4 }],
    ] as const) {
      const { w, p, run: r } = run(name, raw);
      expect(r.result.reason).toBe("exit");
      expect(r.checksum).toBe(w.expected(p).checksum);
      expect(r.freePagesBoot, `${name}: kernel_free_pages_boot`).toBeGreaterThan(0);
      expect(r.freePages, name).toBe(r.freePagesBoot);
    }
  });
});
