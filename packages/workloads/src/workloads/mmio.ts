/**
 * mmio: console-heavy output. Process 1 writes B bytes to the console through
 * SYS.write, one line of L bytes per call: the line number in 8 hex digits, a
 * space, letters a..z (byte k of the line is 'a' + k % 26) and a newline. When
 * L does not divide B the last call writes the last B mod L bytes of the next
 * line, so the output always ends with a newline. The kernel drives the UART
 * registers for every byte. The line is built in one stack page (demand-zero);
 * process 1 exits with the FNV-1a fold of every write's result.
 */
import type { Assembler } from "@shadowlab/emu-core";
import { z } from "zod";
import { SYS, USER } from "../kernel/abi.ts";
import {
  asidParam,
  defineWorkload,
  exitWith,
  FNV_BASIS,
  fnv,
  fnvStep,
  hex8,
  intParam,
  loadOps,
  OPS,
  PAGE,
  prologue,
  sys,
  warmupOf,
} from "./common.ts";

export const mmioSchema = z
  .object({
    bytes: intParam(1, 16 * 1024 * 1024, 4096, "bytes written to the console (B)"),
    line: intParam(16, 4096, 64, "bytes per write call, one line each (L)"),
    asid: asidParam(),
  })
  .strict();
export type MmioParams = z.output<typeof mmioSchema>;

/** Where the line is built: the lowest page below the initial stack top. */
const BUF = USER.stackTop - PAGE;

function lineText(n: number, length: number): string {
  let s = hex8(n);
  s += " ";
  for (let k = 9; k < length - 1; k++) s += String.fromCharCode(0x61 + (k % 26));
  return `${s}\n`;
}

function program(p: MmioParams) {
  const full = Math.floor(p.bytes / p.line);
  const rest = p.bytes % p.line;
  return {
    user(a: Assembler) {
      prologue(a);
      a.li("s1", BUF);
      // The fixed part of the line: letters, newline.
      a.li("t0", 9);
      a.li("t1", p.line - 1);
      a.li("t3", 26);
      a.label("fill");
      a.beq("t0", "t1", "fill_done");
      a.remu("t2", "t0", "t3");
      a.addi("t2", "t2", 0x61);
      a.add("t4", "s1", "t0");
      a.sb("t2", 0, "t4");
      a.addi("t0", "t0", 1);
      a.j("fill");
      a.label("fill_done");
      a.li("t2", 10);
      a.add("t4", "s1", "t1");
      a.sb("t2", 0, "t4");
      a.li("t2", 0x20);
      a.sb("t2", 8, "s1");

      a.li("s4", FNV_BASIS);
      a.li("s0", 0); // line number
      // The full lines: the first tenth warm up, the rest are the region of interest, a byte an operation.
      const warm = warmupOf(full);
      const lines = (limit: number, tag: string) => {
        a.li("s2", limit);
        a.label(`line${tag}`);
        a.call("number");
        a.beq("s0", "s2", `lines_done${tag}`);
        a.mv("a0", "s1");
        a.li("a1", p.line);
        sys(a, SYS.write);
        fnvStep(a, "s4", "a0");
        a.addi("s0", "s0", 1);
        a.j(`line${tag}`);
        a.label(`lines_done${tag}`);
      };
      lines(warm, "_warmup");
      loadOps(a, (full - warm) * p.line);
      a.roiBegin();
      lines(full, "");
      a.roiEnd(OPS);
      if (rest > 0) {
        a.addi("a0", "s1", p.line - rest);
        a.li("a1", rest);
        sys(a, SYS.write);
        fnvStep(a, "s4", "a0");
      }
      exitWith(a, "s4");

      // number: the 8 hex digits of s0 at s1[0..8).
      a.label("number");
      a.li("t0", 28); // shift
      a.mv("t4", "s1");
      a.li("t3", 10);
      a.label("digit");
      a.srl("t1", "s0", "t0");
      a.andi("t1", "t1", 15);
      a.blt("t1", "t3", "decimal");
      a.addi("t1", "t1", 0x61 - 10 - 0x30);
      a.label("decimal");
      a.addi("t1", "t1", 0x30);
      a.sb("t1", 0, "t4");
      a.addi("t4", "t4", 1);
      a.addi("t0", "t0", -4);
      a.bgez("t0", "digit");
      a.ret();
    },
  };
}

export const mmio = defineWorkload<MmioParams>({
  name: "mmio",
  description:
    "console-heavy output: B bytes through write, one line of L bytes per call, every byte through the UART",
  schema: mmioSchema,
  small: [{ bytes: 300, line: 32 }],
  quick: [{ bytes: 120_000, line: 64 }],
  program,
  model(p) {
    const full = Math.floor(p.bytes / p.line);
    const rest = p.bytes % p.line;
    let out = "";
    let acc = FNV_BASIS;
    for (let n = 0; n < full; n++) {
      out += lineText(n, p.line);
      acc = fnv(acc, p.line);
    }
    if (rest > 0) {
      out += lineText(full, p.line).slice(p.line - rest);
      acc = fnv(acc, rest);
    }
    return { exitCodes: [acc], userOutput: out };
  },
});
