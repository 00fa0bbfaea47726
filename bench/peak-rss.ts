/** A child process's peak memory over a stretch of work, sampled (RSS is not kept as a peak by Node). */
import type { Child } from "./child.js";
import type { ProcessStats } from "./children/serve.js";

/** Samples a child's memory until stopped; resolves with the reading of peak RSS (what held it: V8's heap, Buffers, or native memory outside both). */
export function sampleRss(child: Child, everyMs = 250): { stop(): Promise<ProcessStats | undefined> } {
  let peak: ProcessStats | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await child.stats().catch(() => undefined);
      if (s && (!peak || s.rssBytes > peak.rssBytes)) peak = s;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { stop: async () => ((running = false), await loop, peak) };
}
