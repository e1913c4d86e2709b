/**
 * A fuzzing campaign: guests from consecutive seeds, each run natively and
 * under every target (and on QEMU when asked), with progress, counts by
 * outcome, and every failing guest shrunk and written as a reproducer: an
 * ELF that boots natively, on QEMU and under the hypervisor, its assembly,
 * and what differed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_HART, type Engine, type Image, writeElf } from "@shadowlab/emu-core";
import { compareGuest, type Difference, FUZZ_BUDGET, runNative, type Target } from "./differential.ts";
import { engineDifference } from "./engines.ts";
import { type FuzzProgram, generate } from "./generate.ts";
import { assembleGuest } from "./image.ts";
import { runOnQemu } from "./qemu.ts";
import { shrink } from "./shrink.ts";

export interface CampaignOptions {
  seed: number;
  count: number;
  targets: readonly Target[];
  /** The engine of every run, native and under each target (default jit). */
  engine?: Engine;
  /** Also compare each (portable) guest's console with QEMU's. */
  qemu?: boolean;
  /** Also compare the two engines on each guest, natively and under every target (engines.ts). */
  compareEngines?: boolean;
  /** Where reproducers go (none written when undefined). */
  outDir?: string;
  /** Shrink attempts per failure (0: write the guest as generated). */
  shrinkBudget?: number;
  onProgress?: (done: number, result: CampaignResult) => void;
}

export interface Failure {
  seed: number;
  /** "qemu" for a console that differs from QEMU's; "engines …" for the engines compared natively or under a target. */
  target: string;
  kind: Difference["kind"] | "qemu" | "engines";
  detail: string;
  /** Operations left after shrinking, of the generated number. */
  ops: [number, number];
  files: string[];
}

export interface CampaignResult {
  /** The engine every run used. */
  engine: Engine;
  guests: number;
  /** Runs under a target (guests x targets). */
  runs: number;
  crashes: number;
  differences: number;
  budgetOverruns: number;
  qemuRuns: number;
  qemuDifferences: number;
  /** Engine comparisons made (guests x (1 + targets) with compareEngines) and those that differed. */
  engineRuns: number;
  engineDifferences: number;
  failures: Failure[];
}

export function runCampaign(o: CampaignOptions): CampaignResult {
  const engine = o.engine ?? DEFAULT_HART.engine;
  const r: CampaignResult = {
    engine,
    guests: 0,
    runs: 0,
    crashes: 0,
    differences: 0,
    budgetOverruns: 0,
    qemuRuns: 0,
    qemuDifferences: 0,
    engineRuns: 0,
    engineDifferences: 0,
    failures: [],
  };
  for (let i = 0; i < o.count; i++) {
    const seed = o.seed + i;
    const p = generate(seed, { portable: o.qemu });
    const { image } = assembleGuest(p);
    let diffs: Difference[];
    try {
      diffs = compareGuest(p, image, o.targets, engine);
    } catch (e) {
      // The native run itself threw: the machine is at fault, which is a crash too.
      r.crashes++;
      r.failures.push(fail(o, p, "native", "crash", String(e), () => false));
      continue;
    }
    r.guests++;
    r.runs += o.targets.length;
    for (const d of diffs) {
      if (d.kind === "crash") r.crashes++;
      else if (d.kind === "budget") r.budgetOverruns++;
      else r.differences++;
      const same = (q: FuzzProgram) =>
        compareGuest(q, assembleGuest(q).image, [d.target], engine).some((x) => x.kind === d.kind);
      r.failures.push(fail(o, p, `${d.target.strategy}/${d.target.mode}`, d.kind, describe(d), same));
    }
    if (o.qemu) {
      r.qemuRuns++;
      const native = runNative(p, image, FUZZ_BUDGET, engine).output;
      const q = runOnQemu(image).output;
      if (q !== native) {
        r.qemuDifferences++;
        const same = (x: FuzzProgram) => {
          const img = assembleGuest(x).image;
          return runOnQemu(img).output !== runNative(x, img, FUZZ_BUDGET, engine).output;
        };
        r.failures.push(fail(o, p, "qemu", "qemu", `native:\n${native}\nqemu:\n${q}`, same));
      }
    }
    if (o.compareEngines) compareEngines(o, p, image, r);
    o.onProgress?.(i + 1, r);
  }
  return r;
}

/** The engines on one guest, natively and under every target; a difference is a failure with its reproducer. */
function compareEngines(o: CampaignOptions, p: FuzzProgram, image: Image, r: CampaignResult): void {
  for (const t of [undefined, ...o.targets]) {
    r.engineRuns++;
    const detail = engineDifference(p, image, t);
    if (detail === undefined) continue;
    r.engineDifferences++;
    const where = t === undefined ? "engines native" : `engines ${t.strategy}/${t.mode}`;
    const same = (q: FuzzProgram) => engineDifference(q, assembleGuest(q).image, t) !== undefined;
    r.failures.push(fail(o, p, where, "engines", detail, same));
  }
}

function describe(d: Difference): string {
  return [
    `${d.kind} under ${d.target.strategy} (mode ${d.target.mode}, engine ${d.native.engine})`,
    d.error ? `error: ${d.error}` : "",
    `native: ${d.native.state} exit ${d.native.exitCode}\n${d.native.output}`,
    `got:    ${d.got.state} exit ${d.got.exitCode}\n${d.got.output}`,
  ]
    .filter(Boolean)
    .join("\n");
}

function fail(
  o: CampaignOptions,
  p: FuzzProgram,
  target: string,
  kind: Failure["kind"],
  detail: string,
  stillFails: (q: FuzzProgram) => boolean,
): Failure {
  const small = (o.shrinkBudget ?? 300) > 0 ? shrink(p, stillFails, o.shrinkBudget ?? 300) : p;
  const files: string[] = [];
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    const base = join(o.outDir, `seed-${p.seed}-${target.replace(/[^\w.-]+/g, "_")}`);
    const { image, source } = assembleGuest(small);
    writeFileSync(`${base}.elf`, writeElf(image));
    writeFileSync(
      `${base}.s`,
      `# seed ${p.seed}, ${small.ops.length} of ${p.ops.length} operations, machine TLB ${JSON.stringify(p.tlb)}, engine ${o.engine ?? DEFAULT_HART.engine}\n${source}\n`,
    );
    writeFileSync(`${base}.txt`, `${detail}\n`);
    files.push(`${base}.elf`, `${base}.s`, `${base}.txt`);
  }
  return { seed: p.seed, target, kind, detail, ops: [small.ops.length, p.ops.length], files };
}
