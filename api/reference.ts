/**
 * docs/reference.md, rendered from the same OpenAPI schemas the CRDs carry (crd.ts), so the
 * reference says exactly what the API server enforces and `kubectl explain` prints:
 * types, bounds, patterns, enums, defaults, required-ness (as written in a manifest: a
 * field with a default is never required) and the CEL rules.
 */
import { API_VERSION } from "./common.js";
import { openApiSchema } from "./crd.js";
import { KINDS, type KindDef } from "./kinds.js";

type Json = Record<string, any>;

export const REFERENCE_FILE = "docs/reference.md";

const HEADER = `<!-- Generated from api/*.ts by \`make reference\`. Do not edit: change the zod schema instead. -->
# Field reference

Every field of the three Sluice kinds (\`apiVersion: ${API_VERSION}\`), from the zod schemas in
\`api/\` through the CRDs' OpenAPI schemas, so this is what the API server checks. The
offline validator (\`sluice validate\`) checks the same. What each condition and reason in
\`status.conditions\` means is in [conditions.md](conditions.md).

- **Required** is within the parent: a field of an optional object is needed only when
  that object is given. A field with a default is never required.
- **Default** is what the API server fills in when the field is left out. "its fields'
  defaults" means the object is created and each of its fields takes its own default.
- \`a[]\` is an element of the list \`a\`.
`;

export function referenceMarkdown(kinds: readonly KindDef[] = KINDS): string {
  const contents = kinds.map((k) => `- [${k.kind}](#${k.kind.toLowerCase()})`).join("\n");
  return [HEADER, contents + "\n", ...kinds.map(kindSection)].join("\n");
}

function kindSection(def: KindDef): string {
  const names = [def.plural, def.singular, ...def.shortNames].map((n) => `\`${n}\``).join(", ");
  const scale = def.scalable ? " It has a scale subresource (`spec.scaling.replicas`, `status.replicas`): `kubectl scale`, an HPA or KEDA can set its replicas." : "";
  return [
    `## ${def.kind}`,
    "",
    `${def.description} Names for kubectl: ${names}; category \`sluice\`.${scale}`,
    "",
    "### spec",
    "",
    fieldTable(openApiSchema(def.spec), "spec", true),
    "### status",
    "",
    "Written by the operator; never set it yourself. " +
      `Condition types and reasons: [conditions.md](conditions.md#${conditionsAnchor(def)}).`,
    "",
    fieldTable(openApiSchema(def.status), "status", false),
    "### kubectl get columns",
    "",
    "| column | from | shown |",
    "|---|---|---|",
    ...def.columns.map((c) => `| ${c.name} | \`${cell(c.jsonPath)}\` | ${c.priority ? "with `-o wide`" : "always"} |`),
    "",
  ].join("\n");
}

/** docs/conditions.md (hand-written) has one section for the streams and one for both readers. */
const conditionsAnchor = (def: KindDef) => (def.scalable ? "sink-and-aggregation" : "eventstream");

interface Row {
  path: string;
  node: Json;
  required: boolean;
}

/** Depth first, in declaration order, so the table reads like a manifest. */
function* rows(node: Json, path: string, required: boolean): Generator<Row> {
  yield { path, node, required };
  const req = new Set<string>(node.required ?? []);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Json>)) yield* rows(child, `${path}.${key}`, req.has(key));
  if (node.items?.type === "object") yield* rows(node.items, `${path}[]`, true);
  if (typeof node.additionalProperties === "object") yield* rows(node.additionalProperties, `${path}{}`, true);
}

/** `required`: whether the root itself is (the CRD requires spec, never status). */
function fieldTable(root: Json, path: string, required: boolean): string {
  const lines = ["| field | type | required | default | description |", "|---|---|---|---|---|"];
  for (const row of rows(root, path, required)) {
    // The item row of an object list repeats the list's own row; its fields follow it.
    if (row.path.endsWith("[]")) continue;
    lines.push(`| \`${row.path}\` | ${cell(typeOf(row.node))} | ${row.required ? "yes" : ""} | ${cell(defaultOf(row.node))} | ${cell(prose(describe(row.node)))} |`);
  }
  return lines.join("\n") + "\n";
}

function typeOf(node: Json): string {
  if (node.type === "array") {
    const items = node.items ?? {};
    const each = constraints(items);
    const of = items.type === "object" ? "object" : scalarType(items) + (each.length > 0 ? ` (each ${each.join("; ")})` : "");
    return [`list of ${of}`, ...bounds(node, "minItems", "maxItems", "items")].join("; ");
  }
  if (node.type === "object" && typeof node.additionalProperties === "object") return `map of ${scalarType(node.additionalProperties)}`;
  return [scalarType(node), ...constraints(node)].join("; ");
}

function scalarType(node: Json): string {
  if (Array.isArray(node.enum)) return `${node.type}: one of ${node.enum.map((v: unknown) => `\`${String(v)}\``).join(", ")}`;
  return String(node.type);
}

function constraints(node: Json): string[] {
  const out = [...bounds(node, "minimum", "maximum", ""), ...bounds(node, "minLength", "maxLength", "characters")];
  if (node.pattern) out.push(`pattern \`${node.pattern}\``);
  return out;
}

function bounds(node: Json, minKey: string, maxKey: string, unit: string): string[] {
  const min = node[minKey] as number | undefined;
  const max = node[maxKey] as number | undefined;
  const u = unit ? ` ${unit}` : "";
  if (min !== undefined && max !== undefined) return [`${min} to ${max}${u}`];
  if (min !== undefined) return [`at least ${min}${u}`];
  if (max !== undefined) return [`at most ${max}${u}`];
  return [];
}

function defaultOf(node: Json): string {
  if (!("default" in node)) return "";
  const value = node.default as unknown;
  if (isFieldsDefaults(node, value)) return "its fields' defaults";
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** An object default that only repeats its fields' own defaults says nothing new. */
function isFieldsDefaults(node: Json, value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value) || !node.properties) return false;
  return Object.entries(value).every(([k, v]) => JSON.stringify(node.properties[k]?.default) === JSON.stringify(v));
}

function describe(node: Json): string {
  const parts: string[] = [node.description ?? ""];
  if (node["x-kubernetes-list-type"] === "set") parts.push("Entries are unique.");
  const keys = node["x-kubernetes-list-map-keys"] as string[] | undefined;
  if (keys) parts.push(`Entries are unique by ${keys.map((k) => `\`${k}\``).join(", ")}.`);
  for (const rule of (node["x-kubernetes-validations"] ?? []) as Json[]) {
    const where = rule.fieldPath ? ` (\`${rule.fieldPath.replace(/^\./, "")}\`)` : "";
    parts.push(`Rule${where}: ${rule.message}.`);
  }
  return parts.filter(Boolean).join(" ");
}

/** Descriptions say `<namespace>.<name>`: outside code spans, Markdown would take that for HTML. */
function prose(text: string): string {
  return text
    .split("`")
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, "&lt;").replace(/>/g, "&gt;") : part))
    .join("`");
}

/** Text safe in a table cell: a pipe would split it, a newline would end the row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}
