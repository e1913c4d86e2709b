/**
 * The words at the top of a suite's page: a headline that says what the
 * suite found (which strategy costs least and most, by the geometric mean of
 * its slowdowns over the cells it ran), and one paragraph per strategy and
 * per workload, taken from the descriptions the bench stored with the
 * results (the registries' own words), so a strategy or workload added later
 * describes itself here with no change to the report.
 */
import { type CellRow, isNativeName, type Results } from "./results.ts";

interface StrategyCost {
  strategy: string;
  geomean: number;
  cells: number;
  worst: CellRow;
}

/** Per strategy (native excepted), the geometric-mean slowdown over its ok cells and its worst cell. */
export function strategyCosts(results: Results): StrategyCost[] {
  const out: StrategyCost[] = [];
  for (const strategy of results.strategies) {
    if (isNativeName(strategy)) continue;
    const rows = results.rows.filter(
      (r) => r.strategy === strategy && r.ok && r.slowdown !== null && r.slowdown > 0,
    );
    if (rows.length === 0) continue;
    const logSum = rows.reduce((a, r) => a + Math.log(r.slowdown as number), 0);
    const worst = rows.reduce((a, r) => ((r.slowdown as number) > (a.slowdown as number) ? r : a));
    out.push({ strategy, geomean: Math.exp(logSum / rows.length), cells: rows.length, worst });
  }
  return out.sort((a, b) => a.geomean - b.geomean);
}

const times = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)}×`;

/** One or two sentences, plain text. */
export function headline(results: Results): string {
  const costs = strategyCosts(results);
  const failed = results.rows.filter((r) => !r.ok).length;
  const failedText = failed ? ` ${failed} cell${failed === 1 ? "" : "s"} failed (listed below).` : "";
  if (costs.length === 0)
    return `No strategy other than native has a usable measurement in this suite.${failedText}`;
  const [best, ...rest] = costs;
  const worst = costs.reduce((a, c) => ((c.worst.slowdown ?? 0) > (a.worst.slowdown ?? 0) ? c : a));
  const others = rest.map((c) => `${times(c.geomean)} for ${c.strategy}`);
  const first =
    costs.length === 1
      ? `${best.strategy} runs ${times(best.geomean)} slower than native (geometric mean over ${best.cells} cells).`
      : `${best.strategy} costs least: ${times(best.geomean)} the native run's modeled cycles (geometric mean over its ${best.cells} cells), against ${others.join(", ")}.`;
  const w = worst.worst;
  return `${first} The largest slowdown is ${times(w.slowdown as number)}: ${w.strategy} on ${w.workload}${w.params ? ` (${w.params.replace(/,/g, ", ")})` : ""}.${failedText}`;
}

export interface Described {
  name: string;
  text: string;
}

function descriptions(results: Results, kind: "strategies" | "workloads"): Record<string, string> {
  const d = results.metadata.descriptions as Record<string, Record<string, unknown>> | undefined;
  const group = d?.[kind];
  if (!group || typeof group !== "object") return {};
  return Object.fromEntries(
    Object.entries(group).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""),
  );
}

/** The strategies and workloads of the results with the paragraphs stored for them ("" where none was). */
export function describedParts(results: Results): { strategies: Described[]; workloads: Described[] } {
  const s = descriptions(results, "strategies");
  const w = descriptions(results, "workloads");
  const workloads = [...new Set(results.rows.map((r) => r.workload))];
  return {
    strategies: results.strategies.map((name) => ({ name, text: s[name] ?? "" })),
    workloads: workloads.map((name) => ({ name, text: w[name] ?? "" })),
  };
}
