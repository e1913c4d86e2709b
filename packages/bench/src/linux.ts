/**
 * The Linux workloads as suite workloads (`linux-lat_ctx`, `linux-forkwait`,
 * `linux-mmap`, `linux-pagefault`): each is one job of the /init in the
 * cached Linux image (`npm run linux:build`; packages/workloads/linux/init/init.c),
 * selected on the kernel command line. Their parameters are /init's, with the
 * bounds /init applies. Where the image is not built, every cell of these
 * workloads is left out of a suite at validation, with the reason, so that a
 * machine without it (CI) runs the rest of the suite.
 */
import {
  findLinuxImage,
  findWorkload,
  intParam,
  type LinuxImage,
  type LinuxJob,
  type Params,
  type Workload,
  workloadNames,
} from "@shadowlab/workloads";
import { z } from "zod";

/** What a suite needs of a workload: its name, description, parameter schema and refusals. */
export type SuiteWorkload = Pick<Workload, "name" | "description" | "schema"> & {
  /** Why the workload would refuse a machine (left out of the suite, with this reason), or undefined. */
  refuses(params: Params, machine: { asidBits: number; ramMib?: number }): string | undefined;
};

export interface LinuxWorkload extends SuiteWorkload {
  /** The /init job it runs. */
  readonly job: LinuxJob["name"];
}

export const LINUX_PREFIX = "linux-";

/**
 * The machine RAM Linux gets unless a suite says otherwise: the Image, the
 * initramfs and the tiny kernel's allocations fit well inside it.
 */
export const LINUX_MIN_RAM_MIB = 64;

function linuxWorkload(job: LinuxJob["name"], description: string, schema: z.ZodType<Params>): LinuxWorkload {
  return {
    name: `${LINUX_PREFIX}${job}`,
    job,
    description,
    schema,
    refuses(_params, machine) {
      const image = linuxImage();
      if ("missing" in image) return `the Linux image is not built on this machine (${image.missing})`;
      if (machine.ramMib !== undefined && machine.ramMib < LINUX_MIN_RAM_MIB)
        return `Linux is run with at least ${LINUX_MIN_RAM_MIB} MiB of RAM; the machine has ${machine.ramMib}`;
      return undefined;
    },
  };
}

export const LINUX_WORKLOADS: readonly LinuxWorkload[] = [
  linuxWorkload(
    "lat_ctx",
    "Linux: a ring of processes passing a token through pipes, each summing its working set per turn (lmbench lat_ctx); ops = hops",
    z.object({
      procs: intParam(2, 96, 4, "processes in the ring"),
      ws: intParam(0, 65536, 0, "working set of each process in bytes"),
      rounds: intParam(1, 100_000, 10, "trips of the token around the ring"),
    }),
  ),
  linuxWorkload(
    "forkwait",
    "Linux: fork, the child writes `pages` copy-on-write pages and exits, the parent waits (Adams & Agesen forkwait); ops = forks",
    z.object({
      n: intParam(1, 100_000, 8, "children forked, one at a time"),
      pages: intParam(0, 64, 1, "pages each child writes (a copy-on-write fault each)"),
    }),
  ),
  linuxWorkload(
    "mmap",
    "Linux: mmap, touch, mprotect read-only, read, munmap; ops = mappings",
    z.object({
      n: intParam(1, 100_000, 8, "mappings made and unmade"),
      pages: intParam(1, 1024, 4, "pages per mapping"),
    }),
  ),
  linuxWorkload(
    "pagefault",
    "Linux: map, write-touch every page, unmap; ops = page faults",
    z.object({
      n: intParam(1, 100_000, 4, "mappings made and unmade"),
      pages: intParam(1, 1024, 8, "pages per mapping, each touched once"),
    }),
  ),
];

const BY_NAME = new Map(LINUX_WORKLOADS.map((w) => [w.name, w]));

export function findLinuxWorkload(name: string): LinuxWorkload | undefined {
  return BY_NAME.get(name);
}

export function isLinuxWorkload(name: string): boolean {
  return BY_NAME.has(name);
}

/** A workload a suite may name: a guest-kernel workload or a Linux one. */
export function findSuiteWorkload(name: string): SuiteWorkload | undefined {
  return findWorkload(name) ?? findLinuxWorkload(name);
}

export function suiteWorkloadNames(): string[] {
  return [...workloadNames(), ...BY_NAME.keys()];
}

/** The /init job of a Linux cell. */
export function linuxJob(workload: string, params: Params): LinuxJob {
  const w = findLinuxWorkload(workload);
  if (!w) throw new Error(`not a Linux workload: ${workload}`);
  return { name: w.job, params: params as Record<string, number> };
}

let cached: { key: string; image: LinuxImage | { missing: string } } | undefined;

/** The cached Linux image (looked up once per process and per $SHADOWLAB_LINUX_IMAGE / cache root). */
export function linuxImage(): LinuxImage | { missing: string } {
  const key = `${process.env.SHADOWLAB_LINUX_IMAGE ?? ""}|${process.env.SHADOWLAB_CACHE ?? ""}|${process.env.XDG_CACHE_HOME ?? ""}`;
  if (cached?.key !== key) cached = { key, image: findLinuxImage() };
  return cached.image;
}
