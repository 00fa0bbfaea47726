/**
 * A pod's CPU time so far, read from its cgroup on this machine (the testbed's node runs
 * here). The kubelet's summary API serves the same counter but refreshes it every ~10 s;
 * a drain of a few seconds needs the counter as it is now.
 *
 * cgroup v1 with the cgroupfs driver (this machine, ../shared/CLUSTER.md):
 * `cpuacct/kubepods/<qos>/pod<uid>/cpuacct.usage` in nanoseconds, Guaranteed pods one level
 * up. cgroup v2 (and the systemd driver's `kubepods-<qos>-pod<uid_>.slice`) are found too.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOTS = ["/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup"];

/** The pod's cgroup directory, or undefined when this machine has none for it. */
export function podCgroupDir(uid: string, roots: string[] = ROOTS): string | undefined {
  const names = [`pod${uid}`, `pod${uid.replaceAll("-", "_")}`];
  const matches = (entry: string) => names.some((n) => entry === n || entry.endsWith(`-${n}.slice`));
  for (const root of roots) {
    // Pods sit at most three levels below the root: kubepods[.slice]/<qos>/pod<uid>.
    const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
    while (queue.length > 0) {
      const { dir, depth } = queue.shift()!;
      let entries: string[];
      try {
        entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        continue;
      }
      for (const e of entries) {
        if (matches(e)) return join(dir, e);
        if (depth < 3 && (depth > 0 || e.startsWith("kubepods"))) queue.push({ dir: join(dir, e), depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** CPU milliseconds (user + system, every container of the pod) used since it started. */
export function podCpuMs(dir: string): number {
  const v1 = join(dir, "cpuacct.usage");
  if (existsSync(v1)) return Number(readFileSync(v1, "utf8").trim()) / 1e6;
  const stat = readFileSync(join(dir, "cpu.stat"), "utf8");
  const usec = /^usage_usec (\d+)$/m.exec(stat);
  if (!usec) throw new Error(`${dir}/cpu.stat has no usage_usec`);
  return Number(usec[1]) / 1e3;
}
