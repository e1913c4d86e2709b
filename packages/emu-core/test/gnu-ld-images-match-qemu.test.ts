/**
 * Images as GNU ld links them the usual way load and print what QEMU's
 * `virt` board prints: random RV32IM programs (test/support/random-program.ts)
 * and a loop benchmark, each built with `riscv64-unknown-elf-gcc -nostdlib
 * -nostartfiles -Wl,-Ttext=0x80000000` (whose first PT_LOAD, holding the ELF
 * headers, starts one page below RAM and is dropped with a warning) and run
 * on both. Skips where the toolchain or QEMU is absent.
 *
 * SHADOWLAB_RANDOM_PROGRAMS=300 runs the acceptance count (default 8).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readElf } from "../src/elf.ts";
import { Machine } from "../src/machine.ts";
import { loopBenchmark, randomProgram } from "./support/random-program.ts";

const GCC = "riscv64-unknown-elf-gcc";
const QEMU = "qemu-system-riscv32";
/** The plain RV32IMA hart of the machine: QEMU's rv32 cpu without the extensions it adds by default. */
const QEMU_CPU =
  "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false";

const has = (tool: string) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
const missing = [GCC, QEMU].filter((t) => !has(t));
const COUNT = Number(process.env.SHADOWLAB_RANDOM_PROGRAMS ?? 8);

if (missing.length) console.warn(`gnu-ld-images-match-qemu: skipped, ${missing.join(" and ")} not found`);

const dir = missing.length ? "" : mkdtempSync(join(tmpdir(), "shadowlab-gnu-ld-"));
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function build(name: string, source: string): string {
  const src = join(dir, `${name}.S`);
  const elf = join(dir, `${name}.elf`);
  writeFileSync(src, source);
  execFileSync(GCC, [
    "-march=rv32im",
    "-mabi=ilp32",
    "-nostdlib",
    "-nostartfiles",
    "-Wl,-Ttext=0x80000000",
    src,
    "-o",
    elf,
  ]);
  return elf;
}

function onQemu(elf: string): string {
  const args = ["-machine", "virt", "-bios", "none", "-nographic", "-cpu", QEMU_CPU, "-kernel", elf];
  const r = spawnSync(QEMU, args, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${QEMU} exited with ${r.status}: ${r.stderr}`);
  return r.stdout.replace(/\r\n/g, "\n");
}

function onMachine(elf: string): { output: string; warnings: readonly string[]; exitCode: number } {
  const m = new Machine();
  const warnings = m.load(readElf(readFileSync(elf), elf));
  const r = m.run({ maxInstructions: 50_000_000 });
  expect(r.reason).toBe("exit");
  return { output: m.output, warnings, exitCode: r.exitCode };
}

function compare(name: string, source: string): void {
  const elf = build(name, source);
  const ours = onMachine(elf);
  expect(ours.exitCode).toBe(0);
  expect(ours.output).toMatch(/^[0-9a-f]{8}\n$/);
  // The header segment below RAM is the only thing dropped.
  expect(ours.warnings).toHaveLength(1);
  expect(ours.warnings[0]).toMatch(/0x7ffff000-.*map no memory or device; dropped/);
  expect(ours.output).toBe(onQemu(elf));
}

describe.skipIf(missing.length > 0)("GNU ld images print what QEMU prints", () => {
  it("the loop benchmark", () => compare("loop", loopBenchmark()), 120_000);

  it(
    `${COUNT} random RV32IM programs`,
    () => {
      for (let seed = 1; seed <= COUNT; seed++) compare(`random-${seed}`, randomProgram(seed));
    },
    120_000 + COUNT * 20_000,
  );
});
