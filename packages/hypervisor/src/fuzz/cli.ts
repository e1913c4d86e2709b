/**
 * `npm run fuzz -- --count N --seed S [--out DIR] [--qemu] [--modes trap,...] [--engine jit|interp] [--compare-engines]`:
 * a differential fuzzing campaign (campaign.ts) with progress on stderr and a
 * summary on stdout; exit code 1 when any guest failed (its reproducer is in
 * --out), 2 for a mistake on the command line.
 */
import {
  DEFAULT_HART,
  ENGINES,
  type Engine,
  integer,
  packageVersion,
  withExamples,
} from "@shadowlab/emu-core";
import { Command, Option } from "commander";
import { type CampaignResult, runCampaign } from "./campaign.ts";
import { allTargets, EXECUTION_MODES } from "./differential.ts";
import { qemuVersion } from "./qemu.ts";

/** The integer parser every shadowlab CLI shares (emu-core's CLI shell), from 0. */
const nonNegative = (name: string) => integer(name, 0, Number.MAX_SAFE_INTEGER);

export async function main(argv: string[]): Promise<number> {
  const program = new Command("shadowlab-fuzz")
    .description(
      "run random RV32IMA guests natively and under every paging strategy and mode; report any difference",
    )
    .option("--count <n>", "guests to generate", nonNegative("--count"), 1000)
    .option("--seed <n>", "seed of the first guest (guest i uses seed + i)", nonNegative("--seed"), 1)
    .option("--out <dir>", "where reproducers of failing guests are written", "fuzz-failures")
    .option(
      "--modes <list>",
      `execution modes, comma-separated (known: ${EXECUTION_MODES.join(", ")})`,
      EXECUTION_MODES.join(","),
    )
    .addOption(
      new Option("--engine <engine>", "the engine of every run, native and under each target")
        .choices(ENGINES)
        .default(DEFAULT_HART.engine),
    )
    .option("--qemu", "generate portable guests and also compare each with qemu-system-riscv32")
    .option(
      "--compare-engines",
      "also run each guest on the block translator and on the interpreter in lockstep, natively and under every target, and compare everything they let one observe",
    )
    .option("--shrink <n>", "shrink attempts per failing guest", nonNegative("--shrink"), 300)
    .version(packageVersion(import.meta.url), "-V, --version", "print the version and exit")
    .exitOverride()
    .configureOutput({ writeErr: (t) => process.stderr.write(t) });
  withExamples(program, [
    "npm run fuzz -- --count 200 --seed 1",
    "shadowlab-fuzz --count 50 --qemu --out /tmp/fuzz-failures",
    "npm run fuzz -- --count 500 --compare-engines",
  ]);
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<{
    count: number;
    seed: number;
    out: string;
    modes: string;
    engine: Engine;
    qemu?: boolean;
    compareEngines?: boolean;
    shrink: number;
  }>();
  const modes = o.modes.split(",").filter(Boolean);
  const unknown = modes.filter((m) => !EXECUTION_MODES.includes(m));
  if (unknown.length > 0) {
    process.stderr.write(
      `shadowlab-fuzz: unknown mode ${unknown.join(", ")} (known: ${EXECUTION_MODES.join(", ")})\n`,
    );
    return 2;
  }
  if (o.qemu && !qemuVersion()) {
    process.stderr.write(
      "shadowlab-fuzz: --qemu needs qemu-system-riscv32 on PATH (apt-get install qemu-system-misc)\n",
    );
    return 2;
  }
  const targets = allTargets(modes);
  const started = Date.now();
  let last = 0;
  const line = (done: number, r: CampaignResult) =>
    `fuzz: ${done}/${o.count} guests (seeds ${o.seed}..${o.seed + done - 1}), ${r.runs} runs under ${targets.length} targets (engine ${r.engine}), ` +
    `${r.crashes} crashes, ${r.differences} differences, ${r.budgetOverruns} budget overruns` +
    (o.qemu ? `, ${r.qemuDifferences}/${r.qemuRuns} differ from QEMU` : "") +
    (o.compareEngines ? `, ${r.engineDifferences}/${r.engineRuns} engine comparisons differ` : "") +
    `, ${((Date.now() - started) / 1000).toFixed(0)} s`;
  const r = runCampaign({
    seed: o.seed,
    count: o.count,
    targets,
    engine: o.engine,
    qemu: o.qemu,
    compareEngines: o.compareEngines,
    outDir: o.out,
    shrinkBudget: o.shrink,
    onProgress: (done, res) => {
      if (Date.now() - last > 5000 || done === o.count) {
        last = Date.now();
        process.stderr.write(`${line(done, res)}\n`);
      }
    },
  });
  process.stdout.write(`${line(o.count, r)}\n`);
  for (const f of r.failures) {
    process.stdout.write(
      `FAIL seed ${f.seed} ${f.target} ${f.kind} (${f.ops[0]} of ${f.ops[1]} ops): ${f.files[0] ?? ""}\n`,
    );
  }
  return r.failures.length === 0 ? 0 : 1;
}
