/**
 * Shrinking a failing guest: remove operations (halves, then quarters, down
 * to single ones, as delta debugging does) while the guest still fails the
 * same way, so the reproducer is as small as the bug allows.
 */
import type { FuzzProgram } from "./generate.ts";

/** The smallest program found for which `fails` still holds; `budget` caps the attempts. */
export function shrink(p: FuzzProgram, fails: (p: FuzzProgram) => boolean, budget = 400): FuzzProgram {
  let ops = p.ops;
  let attempts = 0;
  let chunk = Math.max(1, Math.floor(ops.length / 2));
  while (chunk >= 1 && attempts < budget) {
    let removed = false;
    for (let at = 0; at < ops.length && attempts < budget; ) {
      const candidate = [...ops.slice(0, at), ...ops.slice(at + chunk)];
      attempts++;
      let still = false;
      try {
        still = fails({ ...p, ops: candidate });
      } catch {
        still = false; // a candidate that breaks differently is not the same failure
      }
      if (still) {
        ops = candidate;
        removed = true;
      } else {
        at += chunk;
      }
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return { ...p, ops };
}
