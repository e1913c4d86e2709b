import { Hypervisor } from "@shadowlab/hypervisor";
import { WORKLOADS } from "@shadowlab/workloads";

const only = process.argv[2];
for (const w of WORKLOADS)
  for (const q of w.quick) {
    if (only && !JSON.stringify(q).includes(only) && w.name !== only) continue;
    const p = w.schema.parse(q);
    for (const s of ["shadow-ondemand", "shadow-proactive", "shadow-tagged"]) {
      const hv = new Hypervisor({ machine: { ramSize: 96 * 2 ** 20 }, guestRamSize: 64 * 2 ** 20 });
      hv.addGuest(w.build(p), s);
      const r0 = hv.run({ maxInstructions: 5e8, stopAtMark: "begin" });
      const t0 = performance.now();
      const r = hv.run({ maxInstructions: 5e8, stopAtMark: "end" });
      const t = performance.now() - t0;
      const roi = hv.machine.roi();
      console.log(
        w.name,
        JSON.stringify(q),
        s,
        r0.stoppedAtMark,
        r.stoppedAtMark,
        "roi",
        roi?.stats.instructions.total,
        "ops",
        roi?.ops,
        "exits",
        roi?.stats.traps.toHandler,
        "ms",
        t.toFixed(0),
      );
    }
  }
