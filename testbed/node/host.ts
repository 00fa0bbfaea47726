/**
 * What the testbed node changes on the host, recorded before it starts and undone after
 * it stops. The kubelet sets sysctls, the CNI bridge turns on forwarding, kube-proxy and
 * the kubelet add nftables tables and chains, containerd and CNI write under /run and
 * /var/lib. We restore the recorded values and delete only what was not there before,
 * then compare the host with the record: anything left is reported, never ignored.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_IP, NODE_LINK } from "./addresses.js";

/** Every sysctl the kubelet, kube-proxy or CNI is known to write. */
const SYSCTLS = [
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.forwarding",
  "net.ipv4.conf.all.route_localnet",
  "net.ipv6.conf.all.forwarding",
];

/** Paths the node's programs write outside the testbed folder. */
const HOST_PATHS = ["/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/var/lib/cni", "/run/netns", "/run/containerd", "/etc/cni"];

export interface HostRecord {
  sysctls: Record<string, string>;
  /** Paths that existed before; the others are removed on teardown. */
  paths: string[];
  links: string[];
  nftChains: string[];
  mounts: string[];
  netns: string[];
  /** Pod cgroups present before: a node already running (never this testbed's own). */
  kubepods: string[];
}

export function recordHost(): HostRecord {
  const sysctls: Record<string, string> = {};
  for (const key of SYSCTLS) {
    const value = readSysctl(key);
    if (value !== undefined) sysctls[key] = value;
  }
  return {
    sysctls,
    paths: HOST_PATHS.filter((p) => existsSync(p)),
    links: links(),
    nftChains: nftChains(),
    mounts: mounts(),
    netns: existsSync("/run/netns") ? readdirSync("/run/netns") : [],
    kubepods: kubepodsCgroups(),
  };
}

export function saveRecord(file: string, record: HostRecord): void {
  writeFileSync(file, JSON.stringify(record, null, 2));
}

export function loadRecord(file: string): HostRecord {
  return JSON.parse(readFileSync(file, "utf8")) as HostRecord;
}

/**
 * The node's address on a link of its own: Kafka, ClickHouse and the kubelet bind it.
 * A port-less bridge rather than a dummy link: this VM's kernel has no dummy driver.
 */
export function addNodeLink(): void {
  if (!links().includes(NODE_LINK)) run("ip", ["link", "add", NODE_LINK, "type", "bridge"]);
  const addrs = run("ip", ["-o", "-4", "addr", "show", "dev", NODE_LINK]);
  if (!addrs.includes(`${NODE_IP}/`)) run("ip", ["addr", "add", `${NODE_IP}/32`, "dev", NODE_LINK]);
  run("ip", ["link", "set", NODE_LINK, "up"]);
}

/**
 * Undoes the node's host changes. Call after every node process has stopped. Returns
 * what could not be undone (empty when the host is as it was).
 */
export function restoreHost(before: HostRecord, ownedRoots: string[]): string[] {
  const problems: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    }
  };
  // Mounts first (container rootfs, netns, kubelet volumes): deepest first.
  for (const m of mounts().filter((m) => !before.mounts.includes(m) && isOurs(m, ownedRoots)).sort((a, b) => b.length - a.length)) {
    attempt(`umount ${m}`, () => umount(m));
  }
  if (existsSync("/run/netns")) {
    for (const ns of readdirSync("/run/netns").filter((n) => !before.netns.includes(n))) {
      attempt(`remove netns ${ns}`, () => {
        umount(join("/run/netns", ns), true);
        rmSync(join("/run/netns", ns), { force: true });
      });
    }
  }
  // Links: the bridge, veths still attached to it, and the node's own link.
  problems.push(...removeNewLinks(before));
  attempt("nftables", () => removeNewNft(before.nftChains));
  for (const [key, value] of Object.entries(before.sysctls)) {
    if (readSysctl(key) !== value) attempt(`sysctl ${key}`, () => writeFileSync(sysctlPath(key), value));
  }
  // Pod processes whose shim died with a crashed run are still in the pod cgroups. Only
  // when the record had none: pod cgroups that were there before are another node's.
  if ((before.kubepods ?? []).length === 0) {
    attempt("kill pod processes", killPodProcesses);
    for (const dir of kubepodsCgroups()) attempt(`cgroup ${dir}`, () => removeCgroupTree(dir));
  }
  for (const p of HOST_PATHS.filter((p) => !before.paths.includes(p) && existsSync(p))) {
    attempt(`remove ${p}`, () => rmSync(p, { recursive: true, force: true }));
  }
  return [...problems, ...differences(before, ownedRoots)];
}

/** Deletes the links that were not there at the record; returns what could not be. */
export function removeNewLinks(before: HostRecord): string[] {
  const problems: string[] = [];
  for (const link of links().filter((l) => !before.links.includes(l))) {
    try {
      run("ip", ["link", "delete", link]);
    } catch (err) {
      // A veth goes with its peer: it may be gone by the time it is reached.
      if (links().includes(link)) problems.push(`delete link ${link}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    }
  }
  return problems;
}

/** What differs between the host now and the record: the teardown check. */
export function differences(before: HostRecord, ownedRoots: string[]): string[] {
  const now = recordHost();
  const out: string[] = [];
  for (const [key, value] of Object.entries(before.sysctls)) {
    if (now.sysctls[key] !== value) out.push(`sysctl ${key} is ${now.sysctls[key]}, was ${value}`);
  }
  for (const p of now.paths.filter((p) => !before.paths.includes(p))) out.push(`path ${p} left behind`);
  for (const l of now.links.filter((l) => !before.links.includes(l))) out.push(`link ${l} left behind`);
  for (const c of now.nftChains.filter((c) => !before.nftChains.includes(c))) out.push(`nftables chain ${c} left behind`);
  for (const m of now.mounts.filter((m) => !before.mounts.includes(m) && isOurs(m, ownedRoots))) out.push(`mount ${m} left behind`);
  for (const n of now.netns.filter((n) => !before.netns.includes(n))) out.push(`netns ${n} left behind`);
  for (const d of kubepodsCgroups().filter((d) => !(before.kubepods ?? []).includes(d))) out.push(`cgroup ${d} left behind`);
  return out;
}

function isOurs(mount: string, ownedRoots: string[]): boolean {
  return ownedRoots.some((r) => mount === r || mount.startsWith(r + "/")) || HOST_PATHS.some((p) => mount.startsWith(p + "/"));
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(sysctlPath(key), "utf8").trim();
  } catch {
    return undefined;
  }
}

function sysctlPath(key: string): string {
  return join("/proc/sys", ...key.split("."));
}

function links(): string[] {
  return run("ip", ["-o", "link", "show"])
    .split("\n")
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** "family table" and "family table chain" entries, from `nft list ruleset`. */
function nftChains(): string[] {
  let text: string;
  try {
    text = run("nft", ["list", "ruleset"]);
  } catch {
    return [];
  }
  const out: string[] = [];
  let table = "";
  for (const line of text.split("\n")) {
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) {
      table = `${t[1]} ${t[2]}`;
      out.push(table);
      continue;
    }
    const c = /^\s+chain (\S+) \{/.exec(line);
    if (c && table) out.push(`${table} ${c[1]}`);
  }
  return out;
}

/**
 * Deletes the tables that were not there before, then the chains added to tables that
 * were (the kubelet's iptables canaries live in the shared iptables-nft tables). A rule
 * that jumps to a new chain is removed with it.
 */
export function removeNewNft(before: string[]): void {
  const now = nftChains();
  const tables = now.filter((e) => e.split(" ").length === 2 && !before.includes(e));
  for (const t of tables) run("nft", ["delete", "table", ...t.split(" ")]);
  const chains = nftChains().filter((e) => e.split(" ").length === 3 && !before.includes(e));
  if (chains.length === 0) return;
  // Rules in old chains that jump to new ones: delete by handle first.
  const listing = run("nft", ["-a", "list", "ruleset"]);
  let table = "";
  let chain = "";
  const newNames = new Set(chains.map((c) => c.split(" ")[2]));
  for (const line of listing.split("\n")) {
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) table = `${t[1]} ${t[2]}`;
    const c = /^\s+chain (\S+) \{/.exec(line);
    if (c) chain = c[1]!;
    const jump = /(?:jump|goto) (\S+).*# handle (\d+)/.exec(line);
    if (jump && newNames.has(jump[1]!) && !newNames.has(chain)) {
      run("nft", ["delete", "rule", ...table.split(" "), chain, "handle", jump[2]!]);
    }
  }
  for (const c of chains) run("nft", ["flush", "chain", ...c.split(" ")]);
  for (const c of chains) run("nft", ["delete", "chain", ...c.split(" ")]);
}

function mounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => m !== undefined && m !== "")
    .map((m) => m.replace(/\\040/g, " "));
}

function umount(path: string, quiet = false): void {
  try {
    run("umount", [path]);
  } catch (err) {
    try {
      run("umount", ["-l", path]);
    } catch {
      if (!quiet) throw err;
    }
  }
}

/** The kubelet's pod cgroups (cgroupfs driver, cgroup v1 and v2). */
function kubepodsCgroups(): string[] {
  const root = "/sys/fs/cgroup";
  const candidates = [join(root, "kubepods"), join(root, "kubepods.slice")];
  if (existsSync(root)) {
    for (const ctrl of readdirSync(root)) candidates.push(join(root, ctrl, "kubepods"), join(root, ctrl, "kubepods.slice"));
  }
  return candidates.filter((d) => existsSync(d));
}

function killPodProcesses(): void {
  const pids = new Set<number>();
  const collect = (dir: string) => {
    const procs = join(dir, "cgroup.procs");
    if (existsSync(procs)) for (const l of readFileSync(procs, "utf8").split("\n")) if (l.trim()) pids.add(Number(l));
    for (const e of readdirSync(dir)) if (statSync(join(dir, e)).isDirectory()) collect(join(dir, e));
  };
  for (const d of kubepodsCgroups()) collect(d);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  // A killed process leaves its cgroup a moment later; rmdir below needs it empty.
  const until = Date.now() + 5_000;
  while ([...pids].some(alive) && Date.now() < until) execFileSync("sleep", ["0.1"]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** rmdir depth-first; a cgroup with processes in it refuses, which is reported. */
function removeCgroupTree(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const child = join(dir, entry);
    if (statSync(child).isDirectory()) removeCgroupTree(child);
  }
  rmdirSync(dir);
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
