/**
 * The live screen of `sluice top`: the terminal's alternate screen (so quitting gives the
 * shell back as it was, as top and less do), frames redrawn in place by log-update, and
 * keys read in raw mode: q or Ctrl-C quits. Raw mode turns Ctrl-C into a key rather than
 * SIGINT, so it is handled here; SIGINT and SIGTERM from elsewhere quit too.
 */
import { createLogUpdate } from "log-update";

const ENTER_ALT_SCREEN = "\x1b[?1049h";
const LEAVE_ALT_SCREEN = "\x1b[?1049l";

export interface Screen {
  draw(lines: string[]): void;
  width(): number;
  /** Resolves when the user asked to quit. */
  quit: Promise<void>;
  /** Restores the terminal: raw mode off, cursor back, the shell's screen back. Idempotent. */
  close(): void;
}

export function openScreen(out: NodeJS.WriteStream, input: NodeJS.ReadStream, onResize: () => void): Screen {
  let signalQuit: () => void = () => {};
  const quit = new Promise<void>((r) => (signalQuit = r));
  out.write(ENTER_ALT_SCREEN);
  const log = createLogUpdate(out);
  const onKey = (data: Buffer) => {
    const key = data.toString("utf8");
    if (key === "q" || key === "Q" || key === "\x03") signalQuit();
  };
  const rawMode = input.isTTY === true;
  if (rawMode) {
    input.setRawMode(true);
    input.on("data", onKey);
    input.resume();
  }
  const onSignal = () => signalQuit();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  out.on("resize", onResize);
  let closed = false;
  return {
    draw: (lines) => {
      if (!closed) log(lines.join("\n"));
    },
    width: () => out.columns ?? 80,
    quit,
    close: () => {
      if (closed) return;
      closed = true;
      out.off("resize", onResize);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (rawMode) {
        input.off("data", onKey);
        input.setRawMode(false);
        input.pause();
      }
      log.clear();
      log.done();
      out.write(LEAVE_ALT_SCREEN);
    },
  };
}
