/**
 * Failpoints for crash tests: named places where a test can make the worker die as a
 * crash would (SIGKILL, no cleanup). Armed only by SLUICE_FAILPOINTS, e.g.
 * "sink.before-insert=3,sink.after-insert=1": kill the process the 3rd time the first point
 * is reached. Unset (production), a failpoint is one Map lookup on an empty map.
 */
const armed = parse(process.env.SLUICE_FAILPOINTS ?? "");
const hits = new Map<string, number>();

function parse(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [name, nth] = part.split("=");
    out.set(name!, Number(nth ?? 1));
  }
  return out;
}

export function failpoint(name: string): void {
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === at) {
    process.stderr.write(`failpoint ${name} hit ${n} time(s): SIGKILL\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
