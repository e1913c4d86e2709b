/**
 * `npm run perf`: the emulator's speed in guest MIPS (million guest
 * instructions per host second), both engines side by side, and QEMU's on
 * the same ELF files.
 *
 * Programs (perf/programs.ts): a compute loop and the mixed ALU/mul/load/store
 * loop, each in M-mode without translation and in U-mode with Sv32 on (every
 * fetch, load and store goes through the TLB model), and a U-mode loop over
 * more pages than the TLB holds, so every page visit misses and walks.
 *
 * 1. interp and jit, sampled round-robin in one run (perf/engines.ts), and
 *    their ratio per program. Each machine runs the program built with its
 *    largest loop count, so it never powers off while being measured.
 * 2. QEMU TCG when qemu-system-riscv32 is installed (perf/qemu.ts): each
 *    program's ELF file at two loop counts, start-up subtracted. The images
 *    differ from the engines' only in the loop bound.
 *
 * Options: --quick (a short run), --json FILE (write the figures; a relative
 * path is taken from where npm was started), --no-qemu.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type EngineFigure, measureEngines, type Spread } from "./engines.ts";
import { PERF_PROGRAMS } from "./programs.ts";
import { measureQemu, QEMU, QEMU_CPU, type QemuFigure, qemuVersion } from "./qemu.ts";

const SLICE = 2_000_000;

interface Args {
  quick: boolean;
  json?: string;
  qemu: boolean;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      "no-qemu": { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.json === "") throw new Error("--json needs a file name");
  return { quick: values.quick, json: values.json, qemu: !values["no-qemu"] };
}

const range = (s: Spread, digits: number) => `${s.p25.toFixed(digits)}–${s.p75.toFixed(digits)}`;
const millions = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 0)}M`;

/** A plain text table: the first column left-aligned, the others right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function engineTable(figures: readonly EngineFigure[]): string {
  return table(
    ["program", "interp MIPS", "jit MIPS", "jit/interp", "ratio p25–p75", "rounds"],
    figures.map((f) => [
      f.name,
      f.mips.interp.median.toFixed(1),
      f.mips.jit.median.toFixed(1),
      f.ratio.median.toFixed(2),
      range(f.ratio, 2),
      String(f.rounds),
    ]),
  );
}

type QemuRow = QemuFigure | { id: string; error: string };

function qemuTable(rows: readonly QemuRow[], engines: readonly EngineFigure[]): string {
  return table(
    ["program", "QEMU MIPS", "QEMU/interp", "instructions small / big", "best s small / big"],
    rows.map((r) => {
      const name = PERF_PROGRAMS.find((p) => p.id === r.id)?.name ?? r.id;
      if ("error" in r) return [name, "error", "-", "-", "-"];
      const interp = engines.find((e) => e.id === r.id)?.mips.interp.median;
      return [
        name,
        r.mips.toFixed(0),
        interp ? (r.mips / interp).toFixed(1) : "-",
        `${millions(r.small.instructions)} / ${millions(r.big.instructions)}`,
        `${r.small.seconds.toFixed(3)} / ${r.big.seconds.toFixed(3)}`,
      ];
    }),
  );
}

function measureAllOnQemu(quick: boolean): QemuRow[] {
  return PERF_PROGRAMS.map((p) => {
    try {
      return measureQemu(p, {
        runs: quick ? 2 : 3,
        minDeltaSeconds: quick ? 0.15 : 0.5,
        smallInstructions: 2_000_000,
      });
    } catch (e) {
      return { id: p.id, error: (e as Error).message };
    }
  });
}

/** The 1-minute load average: wall-clock figures from a busy host are low, and say so. */
const load = () => Number(loadavg()[0].toFixed(2));

function main(): void {
  const args = parse(process.argv.slice(2));
  const loadBefore = load();
  const engines = measureEngines(PERF_PROGRAMS, {
    slice: SLICE,
    warmupMs: args.quick ? 50 : 300,
    timeMs: args.quick ? 150 : 2000,
    minRounds: args.quick ? 6 : 10,
  });
  console.log(
    `Node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}; interp and jit sampled round-robin, ` +
      `${SLICE.toLocaleString("en")} instructions per sample; MIPS = median of samples; ` +
      `load average ${loadBefore} before, ${load()} after`,
  );
  console.log(engineTable(engines));

  let qemu: { version: string; cpu: string; method: string; programs: QemuRow[] } | { skipped: string };
  const version = args.qemu ? qemuVersion() : undefined;
  if (!args.qemu) qemu = { skipped: "--no-qemu" };
  else if (!version) qemu = { skipped: `${QEMU} not found` };
  else {
    qemu = {
      version,
      cpu: QEMU_CPU,
      method:
        "(instructions big - small) / (best time big - best time small); instructions counted by this machine",
      programs: measureAllOnQemu(args.quick),
    };
  }
  if ("skipped" in qemu) {
    console.log(`QEMU: skipped (${qemu.skipped})`);
  } else {
    console.log(`${qemu.version}, -cpu ${QEMU_CPU}; MIPS = Δinstructions / Δtime of two sizes, best of runs`);
    console.log(qemuTable(qemu.programs, engines));
    for (const r of qemu.programs) if ("error" in r) console.error(`QEMU, ${r.id}: ${r.error}`);
  }

  if (args.json) {
    const file = resolve(process.env.INIT_CWD ?? process.cwd(), args.json);
    const doc = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      quick: args.quick,
      cores: cpus().length,
      loadAverage: { before: loadBefore, after: load() },
      engines: {
        method:
          "one machine per program and engine, one slice each per round, rounds round-robin; MIPS = median",
        slice: SLICE,
        programs: engines,
      },
      qemu,
    };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`figures written to ${file}`);
  }
  if ("programs" in qemu && qemu.programs.some((r) => "error" in r)) process.exitCode = 1;
}

try {
  main();
} catch (e) {
  console.error(`perf: ${(e as Error).message}`);
  process.exitCode = 1;
}
