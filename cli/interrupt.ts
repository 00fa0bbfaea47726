/**
 * Runs a long-lived command (tail, replay) with an AbortSignal that Ctrl-C or SIGTERM
 * fires, so the command ends its own way (a summary, a clean disconnect) instead of the
 * process dying mid-write; the handlers go again when it is done.
 */
export async function untilInterrupted(run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const abort = () => stop.abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    await run(stop.signal);
  } finally {
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
  }
}
