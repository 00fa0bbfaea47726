import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CRD_DIRS, crdFiles } from "./crd-files.js";
import { crdFor } from "./crd.js";
import { KINDS } from "./kinds.js";
import { repoRoot } from "./repo-root.js";

type Json = Record<string, any>;

/** Every schema node with its path, depth first. */
function* nodes(node: Json, path: string): Generator<[string, Json]> {
  yield [path, node];
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Json>)) yield* nodes(v, `${path}.${k}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (typeof node.additionalProperties === "object") yield* nodes(node.additionalProperties, `${path}{}`);
}

describe("the generated CRDs", () => {
  it("match the files in crds/ and the chart's crds/ (run `make crds` after changing api/)", () => {
    for (const dir of CRD_DIRS) {
      for (const [file, text] of crdFiles()) {
        expect(readFileSync(join(repoRoot, dir, file), "utf8"), `${dir}/${file} is stale: run make crds`).toBe(text);
      }
    }
  });

  for (const def of KINDS) {
    const root = (crdFor(def) as Json).spec.versions[0].schema.openAPIV3Schema as Json;
    describe(def.kind, () => {
      it("is structural: every node typed, no $ref, no additionalProperties beside properties", () => {
        for (const [path, node] of nodes(root, def.kind)) {
          expect(node.type, `${path} has no type`).toBeTypeOf("string");
          expect(JSON.stringify(node), `${path} uses $ref`).not.toContain('"$ref"');
          if (node.properties) expect(node.additionalProperties, `${path} has additionalProperties beside properties`).toBeUndefined();
          for (const k of ["anyOf", "oneOf", "allOf", "not"]) expect(node[k], `${path} uses ${k}`).toBeUndefined();
        }
      });

      it("describes every field, so kubectl explain helps", () => {
        for (const [path, node] of nodes(root.properties.spec, `${def.kind}.spec`)) expect(node.description, `${path} has no description`).toBeTruthy();
        for (const [path, node] of nodes(root.properties.status, `${def.kind}.status`)) expect(node.description, `${path} has no description`).toBeTruthy();
      });

      it("shows Ready and its Reason in plain kubectl get, not only with -o wide", () => {
        const columns = (crdFor(def) as Json).spec.versions[0].additionalPrinterColumns as Json[];
        for (const name of ["Ready", "Reason"]) {
          const column = columns.find((c) => c.name === name);
          expect(column, `${def.kind} has no ${name} column`).toBeDefined();
          expect(column!.priority ?? 0, `${def.kind}'s ${name} column is hidden behind -o wide`).toBe(0);
        }
      });

      it("keeps conditions as a list-map keyed on type, with observedGeneration beside them", () => {
        const status = root.properties.status;
        expect(status.properties.conditions["x-kubernetes-list-type"]).toBe("map");
        expect(status.properties.conditions["x-kubernetes-list-map-keys"]).toEqual(["type"]);
        expect(status.properties.observedGeneration.type).toBe("integer");
      });
    });
  }

  it("gives the worker kinds a scale subresource and EventStream a partitions-only-grow rule", () => {
    const byKind = new Map(KINDS.map((d) => [d.kind, crdFor(d) as Json]));
    expect(byKind.get("Sink")!.spec.versions[0].subresources.scale.specReplicasPath).toBe(".spec.scaling.replicas");
    expect(byKind.get("Aggregation")!.spec.versions[0].subresources.scale.statusReplicasPath).toBe(".status.replicas");
    expect(byKind.get("EventStream")!.spec.versions[0].subresources.scale).toBeUndefined();
    const partitions = byKind.get("EventStream")!.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.topic.properties.partitions;
    expect(partitions["x-kubernetes-validations"][0].rule).toBe("self >= oldSelf");
  });

  it("shows EventStream's partitions from status (what Kafka has), which the status schema declares", () => {
    const version = (crdFor(KINDS.find((d) => d.kind === "EventStream")!) as Json).spec.versions[0];
    const column = (version.additionalPrinterColumns as Json[]).find((c) => c.name === "Partitions");
    expect(column?.jsonPath).toBe(".status.partitions");
    expect(version.schema.openAPIV3Schema.properties.status.properties.partitions.type).toBe("integer");
  });
});
