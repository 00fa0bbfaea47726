/**
 * A Kubernetes memory quantity ("512Mi", "1G", "1.5Gi", "268435456") in bytes; undefined for
 * what is not one. The API validates quantities already (api/common.ts); this only has to
 * read the ones a memory limit takes.
 */
const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function memoryBytes(quantity: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2] ?? ""]!);
}

/**
 * The V8 heap a worker gets within a memory limit: 40%. Node sizes its heap from the
 * machine's memory, not the container's, so without this a worker's garbage could grow
 * past the pod's limit before V8 collects it, and the kernel OOM-kills the pod.
 */
export function heapMiB(limitBytes: number): number {
  return Math.max(64, Math.floor((limitBytes * 0.4) / 2 ** 20));
}

/**
 * The V8 semi-space a worker gets within a memory limit: a 64th, 1 to 16 MiB. Node 24
 * gives every process 64 MiB semi-spaces whatever its heap cap: a young generation of
 * 192 MiB that a 256 MiB pod cannot hold, and that held 128 MiB of a sink's RSS under
 * load in a 1 GiB pod (the heap's largest part, most of it dead records). A worker's
 * records live about one batch (a second or so), so most survive a scavenge either way.
 */
export function semiSpaceMiB(limitBytes: number): number {
  return Math.min(16, Math.max(1, Math.floor(limitBytes / 2 ** 20 / 64)));
}
