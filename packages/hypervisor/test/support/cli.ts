import { main } from "../../src/cli.ts";

/** `shadowlab-hv` with these arguments, its exit code and what it wrote to stdout and stderr. */
export async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr, errLines: stderr.split("\n").filter(Boolean) };
}
