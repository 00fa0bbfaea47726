/**
 * Turns the zod schemas into CustomResourceDefinitions. The output must be a structural
 * schema: every node typed, no $ref, and no additionalProperties beside properties.
 */
import { z } from "zod";
import { GROUP, VERSION } from "./common.js";
import type { KindDef } from "./kinds.js";

type Json = Record<string, unknown>;

const SAFE_INT = 9007199254740991;

/** The JSON Schema zod emits, cleaned into what the API server accepts. */
export function openApiSchema(schema: z.ZodType): Json {
  const raw = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" }) as Json;
  return structural(raw);
}

function structural(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "id") continue;
    // Strict zod objects say additionalProperties: false; in a CRD, unknown fields are
    // instead rejected by the server's strict field validation (kubectl's default).
    if (key === "additionalProperties" && value === false) continue;
    if ((key === "maximum" && value === SAFE_INT) || (key === "minimum" && value === -SAFE_INT)) continue;
    if (key === "properties") out[key] = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, structural(v)]));
    else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) out[key] = structural(value as Json);
    else out[key] = value;
  }
  return out;
}

export function crdFor(def: KindDef): Json {
  const spec = openApiSchema(def.spec);
  const status = openApiSchema(def.status);
  const root: Json = {
    type: "object",
    description: def.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
      kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
      // The API server owns metadata's schema and refuses anything but its type here.
      metadata: { type: "object" },
      spec,
      status,
    },
  };
  const subresources: Json = { status: {} };
  if (def.scalable) {
    subresources.scale = { specReplicasPath: ".spec.scaling.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.selector" };
  }
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}`, labels: { "app.kubernetes.io/part-of": "sluice" } },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular, shortNames: def.shortNames, categories: ["sluice"] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources,
          additionalPrinterColumns: def.columns,
        },
      ],
    },
  };
}
