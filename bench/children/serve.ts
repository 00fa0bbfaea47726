/**
 * The child side of the benchmark's RPC over the Node IPC channel: the orchestrator
 * calls a named method with JSON arguments and gets its JSON result or error back.
 * A child whose parent goes away exits, so a killed bench leaves nothing running.
 */
export type Handlers = Record<string, (args: any) => Promise<unknown>>;

export interface ProcessStats {
  /** CPU time this process used since it started, user + system, milliseconds. */
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** V8's heap as reserved (what RSS holds for it), and memory outside it: Buffers and native allocations V8 knows of. */
  heapTotalBytes: number;
  externalBytes: number;
}

export function processStats(): ProcessStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external };
}

export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error("this script is started by bench/run.ts with an IPC channel");
  const all: Handlers = { stats: async () => processStats(), ...handlers };
  process.on("message", (msg: { id: number; method: string; args: unknown }) => {
    const handler = all[msg.method];
    const reply = (body: object) => process.send!({ id: msg.id, ...body });
    if (!handler) return reply({ ok: false, error: `no method ${msg.method}` });
    handler(msg.args).then(
      (result) => reply({ ok: true, result }),
      (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: true });
}

/** The arguments startChild passed on the command line. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? "{}") as T;
}
