/** Parses the Go duration subset the API accepts ("1h30m", "500ms") into milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  if (text === "infinite") return Number.POSITIVE_INFINITY;
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new Error(`not a duration: "${text}"`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}
