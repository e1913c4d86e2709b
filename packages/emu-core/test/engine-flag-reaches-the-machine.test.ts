/**
 * `--engine jit|interp` is a machine option of every command that runs a
 * machine: it reaches HartConfig.engine, the run's counters name the engine
 * that ran, the default is jit, and a bad value is one line naming the flag.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { addMachineOptions, EXIT_USAGE, type Io, machineConfig, main } from "../src/cli/emu.ts";
import { writeElf } from "../src/elf.ts";
import { DEFAULT_HART } from "../src/hart.ts";

const dir = mkdtempSync(join(tmpdir(), "shadowlab-engine-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Counts a0 down from 100, then stops the machine through the SiFive test device with status 0. */
function countdown(): string {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start").li("a0", 100);
  a.label("loop").addi("a0", "a0", -1).bnez("a0", "loop");
  a.li("s1", 0x0010_0000).li("a0", 0x5555).sw("a0", 0, "s1");
  a.label("halt").j("halt");
  const path = join(dir, "countdown.elf");
  writeFileSync(path, writeElf(a.assemble()));
  return path;
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string[] }> {
  const stderr: string[] = [];
  let stdout = "";
  const io: Io = {
    out: () => {},
    flush: () => {},
    write: (t) => {
      stdout += t;
    },
    err: (l) => stderr.push(l),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The machine configuration a command built with addMachineOptions makes of `argv`. */
function configOf(...argv: string[]) {
  const cmd = addMachineOptions(new Command().exitOverride());
  cmd.parse(argv, { from: "user" });
  return machineConfig(cmd.opts() as never);
}

describe("--engine", () => {
  it("is jit unless asked, and interp when asked", () => {
    expect(DEFAULT_HART.engine).toBe("jit");
    expect(configOf().engine).toBe("jit");
    expect(configOf("--engine", "interp").engine).toBe("interp");
    expect(configOf("--engine", "jit").engine).toBe("jit");
  });

  it("reaches the machine of `run`, whose counters name the engine; both engines count the same", async () => {
    const elf = countdown();
    const byDefault = await cli("run", elf, "--stats");
    const interp = await cli("run", elf, "--engine", "interp", "--stats");
    expect(byDefault.code).toBe(0);
    expect(interp.code).toBe(0);
    const d = JSON.parse(byDefault.stdout);
    const i = JSON.parse(interp.stdout);
    expect(d.engine).toBe("jit");
    expect(i.engine).toBe("interp");
    expect(i.instructions.total).toBeGreaterThan(200);
    expect({ ...i, engine: "jit" }).toEqual(d);
  });

  it("a bad value is one line naming the flag and the engines, exit code 2", async () => {
    const r = await cli("run", countdown(), "--engine", "fast");
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/--engine/);
    expect(r.stderr[0]).toMatch(/fast/);
    expect(r.stderr[0]).toMatch(/jit, interp/);
  });

  it("is in the help of `run`", async () => {
    const r = await cli("run", "--help");
    expect(r.stdout + r.stderr.join("\n")).toMatch(/--engine <engine>.*\n?.*jit/);
  });
});
