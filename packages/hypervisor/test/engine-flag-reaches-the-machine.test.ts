/**
 * `shadowlab-hv run --engine jit|interp`: the engine reaches the machine the
 * guest runs on, natively and under the hypervisor in both execution modes;
 * the counters name it; the default is jit; a bad value is one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Assembler, EXIT_USAGE, writeElf } from "@shadowlab/emu-core";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./support/cli.ts";
import { bootStub, TEST_DEVICE, UART } from "./support/guests.ts";

const dir = mkdtempSync(join(tmpdir(), "shadowlab-hv-engine-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A guest that prints "ok" and passes. */
function guestFile(): string {
  const a = new Assembler({ text: 0x8000_0000 });
  bootStub(a);
  a.label("supervisor_entry");
  a.li("s0", UART).li("a0", 0x6f).sb("a0", 0, "s0").li("a0", 0x6b).sb("a0", 0, "s0");
  a.li("s1", TEST_DEVICE).li("a0", 0x5555).sw("a0", 0, "s1");
  a.label("halt").j("halt");
  const p = join(dir, "ok.elf");
  writeFileSync(p, writeElf(a.assemble()));
  return p;
}

const RUNS: [string, string[]][] = [
  ["natively", ["--strategy", "native"]],
  ["under shadow-ondemand (trap)", ["--strategy", "shadow-ondemand"]],
  ["under nested (hw)", ["--strategy", "nested", "--mode", "hw"]],
];

describe("shadowlab-hv run --engine", () => {
  const elf = guestFile();
  for (const [where, flags] of RUNS)
    it(`reaches the machine ${where}: jit by default, interp when asked, the same counters`, async () => {
      const d = await cli("run", elf, ...flags, "--stats", "-");
      const i = await cli("run", elf, ...flags, "--engine", "interp", "--stats", "-");
      expect(d.code).toBe(0);
      expect(i.code).toBe(0);
      const ds = JSON.parse(d.stdout);
      const is = JSON.parse(i.stdout);
      expect(ds.engine).toBe("jit");
      expect(is.engine).toBe("interp");
      expect({ ...is, engine: "jit" }).toEqual(ds);
    });

  it("a bad value is one line naming --engine and its choices, exit code 2", async () => {
    const r = await cli("run", elf, "--strategy", "native", "--engine", "turbo");
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/--engine.*turbo.*jit, interp/);
  });
});
