/**
 * An event's Kafka value as the bytes the client sent, instead of JSON.stringify of the
 * parsed object (that and the string's copy into a Buffer were a noticeable share of the
 * collector's CPU).
 *
 * Why it is safe: the sink reads a value with the same JSON.parse and validates it with the
 * same checkEvent as the collector did, so a value only has to parse into the object the
 * collector validated, and JSON.parse of an event's own source text gives exactly the
 * object JSON.parse gave for it inside the body (whitespace is kept and ignored by both;
 * of duplicate keys both parses keep the last). A field the collector fills (the event
 * id, the tenant) is written before the client's fields only when the client's object
 * lacks it entirely, so the text holds it once. The only differences from the stringified
 * value are what JSON cannot say twice alike: -0 stays -0 (the row the sink writes through
 * JSON says 0 either way) and a number beyond the float range stays Infinity, which no
 * schema type accepts and unknown fields never reach a row.
 */

import { isJsonWhitespace } from "./array-elements.js";

/** A field the collector sets because the event had none. */
export interface Fill {
  field: string;
  value: string;
}

/**
 * JSON.stringify of a parsed value is at most 5.25 times as long as the text it came from:
 * strings, literals and structure never grow (an escape is written in its shortest form,
 * and a character that must be escaped was escaped in the source too), whitespace and
 * duplicate keys only shrink, and a number grows the most from "1e20" (4 bytes) to
 * "100000000000000000000" (21). A value this many times smaller than the event limit is
 * therefore under the limit both ways; a larger one is measured as JSON.stringify says, so
 * the limit accepts and rejects exactly the events it did when every value was stringified.
 */
export const MAX_GROWTH = 6;

/**
 * Bytes that JSON.parse to the source's object with `fills` added, or undefined when they
 * cannot be written (an empty object has no member to write them before). `source` is the
 * text of a JSON object that has none of the fields; without fills it is returned as is (a
 * view of the body, no copy).
 */
export function rawValue(source: Buffer, fills: readonly Fill[]): Buffer | undefined {
  if (fills.length === 0) return source;
  if (isEmptyObject(source)) return undefined;
  let head = "{";
  for (const f of fills) head += JSON.stringify(f.field) + ":" + JSON.stringify(f.value) + ",";
  const headBytes = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headBytes + source.length - 1);
  // The source's "{" lands on the head's last byte and the head's "," then replaces it:
  // the client's members follow the filled ones.
  out.set(source, headBytes - 1);
  out.write(head, 0);
  return out;
}

function isEmptyObject(source: Buffer): boolean {
  let i = 1;
  while (isJsonWhitespace(source[i]!)) i++;
  return source[i] === 0x7d;
}

/** True when `part` lies inside `whole`'s bytes (a view, not a copy). */
export function isViewOf(part: Buffer, whole: Buffer): boolean {
  return part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset && part.byteOffset + part.length <= whole.byteOffset + whole.length;
}

/**
 * Copies the values that are views of `body` into one new buffer when they hold less than
 * half of it. A view keeps the whole body in memory until Kafka acknowledges, while the
 * collector's in-flight budget counts only the values' bytes: a large body of mostly
 * rejected events, or mostly whitespace, would otherwise hold far more than it is charged.
 */
export function detachFromBody<T extends { value: Buffer | string }>(records: T[], body: Buffer): void {
  let viewed = 0;
  for (const r of records) if (typeof r.value !== "string" && isViewOf(r.value, body)) viewed += r.value.length;
  if (viewed === 0 || viewed * 2 >= body.length) return;
  const copy = Buffer.allocUnsafeSlow(viewed);
  let at = 0;
  for (const r of records) {
    if (typeof r.value === "string" || !isViewOf(r.value, body)) continue;
    const end = at + r.value.copy(copy, at);
    r.value = copy.subarray(at, end);
    at = end;
  }
}
