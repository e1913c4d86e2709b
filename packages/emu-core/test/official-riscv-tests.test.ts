/**
 * The official riscv-tests (github.com/riscv-software-src/riscv-tests), built
 * outside the repository for RV32IMA: every rv32ui, rv32um, rv32ua, rv32mi
 * and rv32si test (-p, and -v where built) in the directory named by
 * SHADOWLAB_RISCV_TESTS runs to a pass (tohost 1) on the machine's default
 * configuration. Skips, saying so, when the variable is not set.
 *
 * Building them (RISC-V GNU toolchain; no newlib needed for -p):
 *   riscv64-unknown-elf-gcc -march=rv32ima_zicsr_zifencei -mabi=ilp32 -static -mcmodel=medany \
 *     -fvisibility=hidden -nostdlib -nostartfiles -Ienv/p -Iisa/macros/scalar -Tenv/p/link.ld \
 *     isa/rv32ui/add.S -o rv32ui-p-add
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../src/elf.ts";
import { Machine } from "../src/machine.ts";

const dir = process.env.SHADOWLAB_RISCV_TESTS;
const SUITES = /^rv32(ui|um|ua|mi|si)-[pv]-[\w-]+$/;

function testsIn(path: string): string[] {
  return readdirSync(path)
    .filter((f) => SUITES.test(f) && statSync(join(path, f)).isFile())
    .sort();
}

if (!dir)
  console.warn("official-riscv-tests: skipped; set SHADOWLAB_RISCV_TESTS to a directory of built rv32 tests");

describe.skipIf(!dir)("the official riscv-tests", () => {
  const tests = dir ? testsIn(dir) : [];

  it("the directory holds built tests", () => {
    expect(tests.length).toBeGreaterThan(0);
  });

  it.each(tests)("%s passes", (name) => {
    const file = join(dir as string, name);
    const m = new Machine();
    m.load(readElf(readFileSync(file), file));
    const r = m.run({ maxInstructions: 50_000_000 });
    expect({ reason: r.reason, exitCode: r.exitCode }).toEqual({ reason: "exit", exitCode: 0 });
  });
});
