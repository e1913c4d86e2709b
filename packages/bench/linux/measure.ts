/**
 * `npm run linux:measure`: the Linux figures of the hypervisor study, from
 * the image `npm run linux:build` made. For native execution (our SBI
 * firmware) and every paging strategy in trap mode it boots the kernel with
 * one /init job and reports, in the job's region of interest (ROI marks):
 * exits (traps that reach the monitor) per operation, the leading exit
 * kinds, and for the whole run the instructions to the first ROI mark (boot
 * to /init plus /init's first few syscalls), exits and host seconds.
 *
 *   npm run linux:measure -- [--engine jit|interp] [lat_ctx procs=8 ws=4096 rounds=20] ...
 */
import { bootMachine, type Engine, Machine, type Roi, type StatsSnapshot } from "@shadowlab/emu-core";
import { Hypervisor, strategyNames } from "@shadowlab/hypervisor";
import { findLinuxImage, type LinuxJob, linuxBootFiles, linuxResults } from "@shadowlab/workloads";
import { MeasureArgsError, parseMeasureArgs } from "./measure-args.ts";

const RAM = 128 * 2 ** 20;
const BUDGET = 2_000_000_000;

interface Run {
  config: string;
  output: string;
  ok: boolean;
  instructions: number;
  exits: number;
  seconds: number;
  firstMark: number | undefined;
  firstMarkExits: number | undefined;
  roi: Roi | undefined;
}

const exitsOf = (s: StatsSnapshot) => s.traps.toHandler;

function run(
  config: string,
  job: LinuxJob,
  image: Exclude<ReturnType<typeof findLinuxImage>, { missing: string }>,
  engine: Engine,
): Run {
  const files = linuxBootFiles(image, [job], { ramSize: RAM });
  const t0 = performance.now();
  if (config === "native") {
    const m = new Machine({ ramSize: RAM, engine });
    bootMachine(m, files);
    const r = m.run({ maxInstructions: BUDGET });
    return {
      config,
      output: m.output,
      ok: r.reason === "exit" && r.exitCode === 0,
      instructions: r.instructions,
      exits: 0,
      seconds: (performance.now() - t0) / 1000,
      firstMark: m.roiMarks[0]?.stats.instructions.total,
      firstMarkExits: 0,
      roi: m.roi(),
    };
  }
  const hv = new Hypervisor({ guestRamSize: RAM, machine: { engine } });
  hv.addGuest(files, config, "linux");
  const r = hv.run({ maxInstructions: BUDGET });
  return {
    config,
    output: r.guests[0].output,
    ok: r.guests[0].state === "exited",
    instructions: r.instructions,
    exits: exitsOf(r.stats),
    seconds: (performance.now() - t0) / 1000,
    firstMark: hv.machine.roiMarks[0]?.stats.instructions.total,
    firstMarkExits: hv.machine.roiMarks[0] ? exitsOf(hv.machine.roiMarks[0].stats) : undefined,
    roi: hv.machine.roi(),
  };
}

function topExits(roi: Roi, n = 4): string {
  const extra = Object.entries(roi.stats.extra)
    .filter(([k, v]) => k.startsWith("hv.exit.") && v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
  const ops = roi.ops ?? 1;
  return extra.map(([k, v]) => `${k.slice(8)} ${(v / ops).toFixed(1)}`).join(", ");
}

function main(argv: string[]): void {
  let args: ReturnType<typeof parseMeasureArgs>;
  try {
    args = parseMeasureArgs(argv);
  } catch (e) {
    if (!(e instanceof MeasureArgsError)) throw e;
    process.stderr.write(`linux:measure: ${e.message}\n`);
    process.exit(2);
  }
  const image = findLinuxImage();
  if ("missing" in image) {
    process.stderr.write(`linux:measure: ${image.missing}\n`);
    process.exit(1);
  }
  const jobs =
    args.jobs.length > 0
      ? args.jobs
      : ([
          { name: "lat_ctx", params: { procs: 2, ws: 0, rounds: 50 } },
          { name: "lat_ctx", params: { procs: 8, ws: 4096, rounds: 20 } },
          { name: "forkwait", params: { n: 20, pages: 4 } },
        ] satisfies LinuxJob[]);
  const configs = ["native", ...strategyNames()];
  process.stdout.write(`engine: ${args.engine}\n`);
  for (const job of jobs) {
    const label = `${job.name} ${Object.entries(job.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`;
    process.stdout.write(`\n## ${label}\n`);
    process.stdout.write(
      "config            | to 1st mark | its exits | total instr | exits    | host s | ROI ops | ROI instr/op | ROI exits/op | leading exits per op\n",
    );
    let reference = "";
    for (const c of configs) {
      const r = run(c, job, image, args.engine);
      if (c === "native") reference = r.output;
      const same = r.output === reference ? "" : " OUTPUT DIFFERS";
      const roi = r.roi;
      const ops = roi?.ops ?? 0;
      const perOp = (n: number) => (ops > 0 ? (n / ops).toFixed(1) : "-");
      process.stdout.write(
        `${c.padEnd(17)} | ${String(r.firstMark ?? "-").padStart(11)} | ${String(r.firstMarkExits ?? "-").padStart(9)} | ${String(r.instructions).padStart(11)} | ${String(r.exits).padStart(8)} | ${r.seconds.toFixed(1).padStart(6)} | ${String(ops).padStart(7)} | ${(roi ? perOp(roi.stats.instructions.total) : "-").padStart(12)} | ${(roi && c !== "native" ? perOp(exitsOf(roi.stats)) : "-").padStart(12)} | ${roi && c !== "native" ? topExits(roi) : ""}${r.ok ? "" : " NOT POWERED OFF"}${same}\n`,
      );
      if (c === "native")
        process.stdout.write(`${" ".repeat(20)}result: ${JSON.stringify(linuxResults(r.output))}\n`);
    }
  }
}

main(process.argv.slice(2));
