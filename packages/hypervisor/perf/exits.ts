/**
 * `npm run perf:exits` (hypervisor): only the exit-path tables of `npm run perf`
 * (exit-costs.ts: µs per exit per strategy and mode, host time against 2..96
 * processes with its linearity; fill-cost.ts: µs per shadow-fill exit alone).
 * `--quick` for fewer points and samples.
 */
import { exitCosts } from "./exit-costs.ts";
import { fillCosts } from "./fill-cost.ts";

const quick = process.argv.includes("--quick");
console.log(`Node ${process.version}`);
exitCosts({ quick });
fillCosts({ quick });
