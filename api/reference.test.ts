import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openApiSchema } from "./crd.js";
import { KINDS } from "./kinds.js";
import { REFERENCE_FILE, referenceMarkdown } from "./reference.js";
import { repoRoot } from "./repo-root.js";

type Json = Record<string, any>;

/** Every field path of a schema, as the reference writes them. */
function* paths(node: Json, path: string): Generator<string> {
  yield path;
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Json>)) yield* paths(v, `${path}.${k}`);
  if (node.items?.type === "object") for (const p of paths(node.items, `${path}[]`)) if (p !== `${path}[]`) yield p;
}

describe("docs/reference.md", () => {
  it("matches what the zod schemas generate (run `make reference` after changing api/)", () => {
    const file = join(repoRoot, REFERENCE_FILE);
    const onDisk = existsSync(file) ? readFileSync(file, "utf8") : "(missing)";
    expect(onDisk, `${REFERENCE_FILE} is stale: run make reference`).toBe(referenceMarkdown());
  });

  it("has a row for every spec and status field of every kind", () => {
    const doc = referenceMarkdown();
    for (const def of KINDS) {
      for (const [root, schema] of [["spec", def.spec], ["status", def.status]] as const) {
        for (const path of paths(openApiSchema(schema), root)) expect(doc, `${def.kind} ${path}`).toContain(`| \`${path}\` |`);
      }
    }
  });

  it("shows a field's default, its enum, its bounds and whether it is required", () => {
    const doc = referenceMarkdown();
    const row = (path: string) => doc.split("\n").find((l) => l.startsWith(`| \`${path}\` |`));
    expect(row("spec.topic.partitions")).toMatch(/\| integer; 1 to 10000 \| {2}\| `6` \| Partition count.*Rule: partitions may only grow/);
    expect(row("spec.topic.compression")).toContain("one of `none`, `gzip`, `snappy`, `lz4`, `zstd`");
    expect(row("spec.schema.fields[].name")).toMatch(/\| yes \|/);
    expect(row("spec.topic")).toContain("its fields' defaults");
  });

  it("links to sections of docs/conditions.md that exist", () => {
    // GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens.
    const slug = (heading: string) => heading.toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-");
    const anchors = new Set(readFileSync(join(repoRoot, "docs/conditions.md"), "utf8").split("\n").filter((l) => l.startsWith("#")).map((l) => slug(l.replace(/^#+ /, ""))));
    const links = [...referenceMarkdown().matchAll(/\(conditions\.md#([\w-]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const a of links) expect(anchors, `conditions.md#${a}`).toContain(a);
  });

  it("keeps a pipe in a pattern from splitting its table cell", () => {
    const retention = referenceMarkdown().split("\n").find((l) => l.startsWith("| `spec.topic.retention` |"))!;
    expect(retention.split(/(?<!\\)\|/).length).toBe(7);
  });
});
