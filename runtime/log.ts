/** Structured logs: a fixed message plus fields, one JSON object per line on stderr. */
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function jsonLogger(component: string, write: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  const emit = (level: string) => (msg: string, fields: Fields = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }));
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
