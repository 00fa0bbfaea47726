/**
 * containerd with runc for the testbed node, its root, state and socket under the
 * testbed folder. Two settings this VM needs (../shared/CLUSTER.md): cgroupfs, since there
 * is no systemd, and restrict_oom_score_adj, since the VM cannot lower oom_score_adj and
 * pod sandboxes ask for -998.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POD_BRIDGE, POD_CIDR, POD_GATEWAY } from "./addresses.js";
import { repoRoot } from "../paths.js";
import { GiveUp, waitFor } from "../poll.js";
import { readyOrExplain, spawnServer, type ServerHandle } from "../server-process.js";

export const PAUSE_IMAGE = "localhost/pause:sluice";
/** Debian's containernetworking-plugins. */
const CNI_BIN = "/usr/lib/cni";

export interface Containerd {
  address: string;
  server: ServerHandle;
}

export async function startContainerd(opts: { dir: string; logDir: string; detached?: boolean }): Promise<Containerd> {
  for (const bin of ["containerd", "runc", "containerd-shim-runc-v2"]) {
    if (!onPath(bin)) throw new Error(`testbed: ${bin} missing; run \`make setup\` (Debian containerd and runc)`);
  }
  if (!existsSync(join(CNI_BIN, "bridge"))) throw new Error(`testbed: CNI plugins missing in ${CNI_BIN}; run \`make setup\``);
  const root = join(opts.dir, "root");
  const state = join(opts.dir, "state");
  const cniConf = join(opts.dir, "cni");
  for (const d of [root, state, cniConf]) mkdirSync(d, { recursive: true });
  writeFileSync(join(cniConf, "10-sluice.conflist"), JSON.stringify(cniConfig(join(opts.dir, "ipam")), null, 2));
  const address = join(state, "containerd.sock");
  const config = join(opts.dir, "config.toml");
  writeFileSync(config, configToml({ root, state, address, cniConf }));
  const server = spawnServer({
    name: "containerd",
    command: "containerd",
    args: ["--config", config],
    logFile: join(opts.logDir, "containerd.log"),
    detached: opts.detached,
  });
  await readyOrExplain(server, () =>
    waitFor("containerd's socket", async () => {
      if (server.exited()) throw new GiveUp("process exited");
      if (!existsSync(address)) return undefined;
      execFileSync("ctr", ["--address", address, "version"], { stdio: "pipe", timeout: 5_000 });
      return true;
    }, { timeoutMs: 30_000 }),
  );
  return { address, server };
}

/**
 * Imports `docker save` archives into the CRI namespace through scripts/image/load.sh,
 * the same loader `make image` uses (it skips an image already imported from that archive).
 */
export function importImages(address: string, archives: { archive: string }[]): void {
  execFileSync("bash", [join(repoRoot, "scripts", "image", "load.sh"), address, ...archives.map((a) => a.archive)], { stdio: "pipe" });
}

/**
 * Stops every container the node left (the kubelet is gone by now, so nobody tears the
 * sandboxes down gracefully): kill, delete task, delete container. Their shims exit
 * with them; their netns and mounts are removed by the host restore.
 */
export function removeAllContainers(address: string): string[] {
  const problems: string[] = [];
  const ctr = (args: string[]) =>
    execFileSync("ctr", ["--address", address, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  let ids: string[];
  try {
    ids = ctr(["containers", "ls", "-q"]).split("\n").filter(Boolean);
  } catch (err) {
    return [`list containers: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`];
  }
  for (const id of ids) {
    try {
      ctr(["tasks", "kill", "-s", "SIGKILL", id]);
    } catch {
      // No task, or already stopped.
    }
  }
  for (const id of ids) {
    for (const args of [["tasks", "delete", "-f", id], ["containers", "delete", id]]) {
      try {
        ctr(args);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (!/not found/.test(msg)) problems.push(`ctr ${args.join(" ")}: ${msg.split("\n")[0]}`);
      }
    }
  }
  return problems;
}

function cniConfig(ipamDir: string): object {
  return {
    cniVersion: "1.0.0",
    name: "sluice",
    plugins: [
      {
        type: "bridge",
        bridge: POD_BRIDGE,
        isGateway: true,
        // Pods reach only the node address (Kafka, ClickHouse, the API server): no NAT.
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: POD_CIDR, gateway: POD_GATEWAY }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ipamDir },
      },
      { type: "loopback" },
    ],
  };
}

function configToml(p: { root: string; state: string; address: string; cniConf: string }): string {
  return `version = 2
root = "${p.root}"
state = "${p.state}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${p.address}"

[ttrpc]
  address = "${p.address}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${p.cniConf}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`;
}

function onPath(bin: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}
