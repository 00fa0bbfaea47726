import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { podCgroupDir, podCpuMs } from "./pod-cpu.js";

const uid = "0b5c7e1e-3f9a-4c55-9a57-2f0c3d1e6a11";

describe("a pod's CPU from its cgroup", () => {
  const made: string[] = [];
  const tree = (dirs: string[], file?: [string, string]) => {
    const root = mkdtempSync(join(tmpdir(), "pod-cpu-"));
    made.push(root);
    for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
    if (file) writeFileSync(join(root, file[0]), file[1]);
    return root;
  };
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("cgroup v1, cgroupfs driver: a Burstable pod under its QoS class, its cpuacct.usage in ns", () => {
    const root = tree(["kubepods/besteffort/podother", `kubepods/burstable/pod${uid}/abc`], [`kubepods/burstable/pod${uid}/cpuacct.usage`, "2500000000\n"]);
    const dir = podCgroupDir(uid, [root]);
    expect(dir).toBe(join(root, "kubepods", "burstable", `pod${uid}`));
    expect(podCpuMs(dir!)).toBe(2500);
  });

  it("a Guaranteed pod sits right under kubepods", () => {
    const root = tree([`kubepods/pod${uid}`]);
    expect(podCgroupDir(uid, [root])).toBe(join(root, "kubepods", `pod${uid}`));
  });

  it("cgroup v2 with the systemd driver: the slice name with underscores, usage_usec in cpu.stat", () => {
    const slice = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll("-", "_")}.slice`;
    const root = tree([slice], [`${slice}/cpu.stat`, "usage_usec 1234000\nuser_usec 1000000\nsystem_usec 234000\n"]);
    const dir = podCgroupDir(uid, [root]);
    expect(dir).toBe(join(root, slice));
    expect(podCpuMs(dir!)).toBe(1234);
  });

  it("another pod's cgroup is not taken for this one", () => {
    const root = tree(["kubepods/burstable/pod11111111-2222-3333-4444-555555555555"]);
    expect(podCgroupDir(uid, [root])).toBeUndefined();
  });
});
