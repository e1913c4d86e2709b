/**
 * A small line diff for failed cells: the common head and tail are skipped
 * (with a line of context), the differing middle is shown as `-` lines of
 * the expected text and `+` lines of the actual one, capped so that a row
 * stays readable.
 */
const MAX_LINES = 40;

export function lineDiff(expected: string, actual: string, expectedName: string, actualName: string): string {
  if (expected === actual) return "";
  const a = expected.split("\n");
  const b = actual.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const out = [`--- ${expectedName}`, `+++ ${actualName}`, `@@ line ${head + 1} @@`];
  if (head > 0) out.push(`  ${a[head - 1]}`);
  const removed = a.slice(head, a.length - tail);
  const added = b.slice(head, b.length - tail);
  const body = [...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`)];
  out.push(...body.slice(0, MAX_LINES));
  if (body.length > MAX_LINES) out.push(`... ${body.length - MAX_LINES} more differing lines`);
  if (tail > 0) out.push(`  ${a[a.length - tail]}`);
  return out.join("\n");
}
