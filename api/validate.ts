/**
 * Offline validation of manifests with the same zod schemas the CRDs come from, with
 * errors that name the field path and, where we can guess the fix, a hint.
 */
import { z } from "zod";
import { API_VERSION, GROUP } from "./common.js";
import { kindByName, manifestSchema } from "./kinds.js";

export interface ValidationIssue {
  /** Dotted field path inside the document, e.g. "spec.topic.partitions". */
  path: string;
  message: string;
  hint?: string;
}

export type DocumentVerdict =
  | { status: "valid"; kind: string; name: string; value: unknown }
  | { status: "invalid"; kind: string; name: string; issues: ValidationIssue[] }
  | { status: "skipped"; kind: string; name: string; reason: string };

const SECRET_WORDS = /pass(word)?|secret|token|api_?key|apikey|credential|private/i;

export function validateDocument(doc: unknown): DocumentVerdict {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { status: "invalid", kind: "?", name: "?", issues: [{ path: "", message: "a manifest must be a YAML mapping with apiVersion, kind, metadata and spec" }] };
  }
  const obj = doc as Record<string, unknown>;
  const kind = typeof obj.kind === "string" ? obj.kind : "?";
  const name = typeof (obj.metadata as { name?: unknown } | undefined)?.name === "string" ? ((obj.metadata as { name: string }).name) : "?";
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  if (!apiVersion.startsWith(`${GROUP}/`)) return { status: "skipped", kind, name, reason: `not a ${GROUP} resource` };
  const def = kindByName.get(kind);
  if (!def) {
    return { status: "invalid", kind, name, issues: [{ path: "kind", message: `unknown kind "${kind}"`, hint: `${GROUP} kinds are ${[...kindByName.keys()].join(", ")}` }] };
  }
  if (apiVersion !== API_VERSION) {
    return { status: "invalid", kind, name, issues: [{ path: "apiVersion", message: `unsupported version "${apiVersion}"`, hint: `use apiVersion: ${API_VERSION}` }] };
  }
  const schema = manifestSchema(def);
  const result = schema.safeParse(doc, { error: kubernetesStyleMessage });
  if (result.success) return { status: "valid", kind, name, value: result.data };
  return { status: "invalid", kind, name, issues: result.error.issues.flatMap((i) => toIssues(i, schema)) };
}

/**
 * Messages phrased like the API server's for the same mistake, so a user sees one story
 * from `sluice validate` and from `kubectl apply`.
 */
function kubernetesStyleMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const input = JSON.stringify(issue.input);
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "array") return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return `must be at least ${issue.minimum} character(s) long`;
      return `${input} must be greater than or equal to ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array") return `must have at most ${issue.maximum} item(s)`;
      if (issue.origin === "string") return `may not be more than ${issue.maximum} characters long`;
      return `${input} must be less than or equal to ${issue.maximum}`;
    case "invalid_value":
      return `unsupported value ${input}: supported values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.message ? `${input} ${issue.message}` : undefined;
    case "invalid_type":
      // zod's final issues carry no input, so this is the one place that can tell a
      // missing field from a wrong one.
      if (issue.input === undefined) return MISSING;
      return `must be of type ${openApiType(issue)}, found ${jsonType(issue.input)} ${(input ?? String(issue.input)).slice(0, 64)}`;
    default:
      return undefined;
  }
}

const MISSING = "required field is missing";

/** The type as the CRD's OpenAPI schema (and so the API server) names it: an int is an integer. */
function openApiType(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidType>): string {
  if (issue.expected === "int") return "integer";
  return issue.expected === "number" && issue.inst instanceof z.ZodNumber && issue.inst.isInt ? "integer" : issue.expected;
}

/** What a YAML/JSON value is, in the same vocabulary. */
function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Kubernetes writes list positions as fields[0].type; so do we. */
export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)), "");
}

function toIssues(issue: z.core.$ZodIssue, root: z.ZodType): ValidationIssue[] {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: path ? `${path}.${key}` : key,
      message: `unknown field "${key}"`,
      hint: unknownFieldHint(key, root, issue.path),
    }));
  }
  return [{ path, message: issue.message }];
}

function unknownFieldHint(key: string, root: z.ZodType, path: PropertyKey[]): string {
  if (SECRET_WORDS.test(key)) return "credentials are never inline: put them in a Secret and reference it by name (secretRef)";
  const known = objectKeysAt(root, path);
  const close = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  if (close.length > 0) return `did you mean "${close[0]}"?`;
  return known.length > 0 ? `known fields here: ${known.join(", ")}` : "remove it";
}

/** The field names an object schema accepts at `path`, looking through optional/default wrappers. */
function objectKeysAt(root: z.ZodType, path: PropertyKey[]): string[] {
  let node: unknown = root;
  for (const seg of [...path, null]) {
    node = unwrap(node);
    if (seg === null) break;
    if (node instanceof z.ZodObject) node = node.shape[String(seg)];
    else if (node instanceof z.ZodArray) node = node.element;
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(node: unknown): unknown {
  let n = node;
  while (n instanceof z.ZodOptional || n instanceof z.ZodDefault || n instanceof z.ZodNullable) n = n.unwrap();
  return n;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
