/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`) by self time: where a process
 * spent its CPU, as the misses are explained. Pure: a parsed profile in, rows out.
 */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameRow {
  /** Function name and where it is (file:line, relative to node_modules or the repo). */
  frame: string;
  selfMs: number;
  /** Share of the profile's sampled time, 0..1. */
  share: number;
}

/** Self time per frame (nodes of one function at one place are added up), largest first. */
export function topFrames(profile: CpuProfile, limit = 15): FrameRow[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const node = byId.get(id);
    if (!node) return;
    const key = frameName(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: total > 0 ? us / total : 0 }));
}

export function frameName(f: { functionName: string; url: string; lineNumber: number }): string {
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name; // (program), (garbage collector), (idle), native frames
  const where = f.url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "").replace(/^.*\/(runtime|bench|cli|operator)\//, "$1/");
  return `${name} ${where}:${f.lineNumber + 1}`;
}
