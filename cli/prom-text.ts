/**
 * A reader of the Prometheus text exposition format, enough for `sluice top`: sample
 * lines as name, labels and value (comments, HELP and TYPE skipped; a trailing timestamp
 * ignored). Our own rather than npm's parse-prometheus-text-format: that one has no types,
 * is CommonJS and unchanged for years, and we only need the samples, not metric families.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const sample = parseLine(line);
    if (sample) out.push(sample);
  }
  return out;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** One sample line; undefined for a line that is not one (a scrape is read, not validated). */
function parseLine(line: string): PromSample | undefined {
  const name = NAME.exec(line)?.[0];
  if (!name) return undefined;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.replace(/^[\s,]+/, "");
      if (rest.startsWith("}")) {
        rest = rest.slice(1);
        break;
      }
      const label = LABEL_NAME.exec(rest)?.[0];
      if (!label) return undefined;
      rest = rest.slice(label.length).replace(/^\s*=\s*/, "");
      if (!rest.startsWith('"')) return undefined;
      const value = readQuoted(rest);
      if (!value) return undefined;
      labels[label] = value.text;
      rest = rest.slice(value.length);
    }
  }
  const valueText = rest.trim().split(/\s+/)[0];
  if (valueText === undefined || valueText === "") return undefined;
  const value = parseValue(valueText);
  return Number.isNaN(value) && valueText !== "NaN" ? undefined : { name, labels, value };
}

/** A double-quoted label value with \\, \" and \n escapes; its text and the characters it took. */
function readQuoted(s: string): { text: string; length: number } | undefined {
  let text = "";
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { text, length: i + 1 };
    if (c === "\\") {
      const next = s[++i];
      text += next === "n" ? "\n" : (next ?? "");
    } else text += c;
  }
  return undefined;
}

function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  return text.trim() === "" ? Number.NaN : Number(text);
}
