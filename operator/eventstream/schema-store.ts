/**
 * Schema versions live in ConfigMaps, one per version, named `<stream>-schema-v<N>`:
 * - immutable (`immutable: true`): a stored version can never be rewritten, only added to;
 * - owner-referenced to the EventStream, so they go when the stream goes, and not before;
 * - plain Kubernetes: `kubectl get cm -l sluice.dev/eventstream=<name>` shows the history,
 *   RBAC and backups already cover them, workers can mount the version they run, and no
 *   schema-registry service has to be deployed, secured and kept available.
 * A schema of at most 500 fields is far below the 1 MiB ConfigMap limit.
 */
import type * as k8s from "@kubernetes/client-node";
import type { CompiledField } from "../../runtime/pipeline/compiled.js";
import { ownerReference, type OwnerRef } from "../owner.js";
import { canonicalJson } from "../spec-hash.js";
import type { KubeObject } from "../apply.js";
import type { SchemaVersion } from "./schema-compat.js";

export const STREAM_LABEL = "sluice.dev/eventstream";
export const VERSION_LABEL = "sluice.dev/schema-version";
const KEY = "schema.json";

export interface StoredSchema extends SchemaVersion {
  compatibility: string;
  strict: boolean;
}

export const schemaConfigMapName = (stream: string, version: number) => `${stream}-schema-v${version}`;

export function schemaConfigMap(owner: OwnerRef, schema: StoredSchema): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: schemaConfigMapName(owner.name, schema.version),
      namespace: owner.namespace,
      labels: {
        [STREAM_LABEL]: owner.name,
        [VERSION_LABEL]: String(schema.version),
        "app.kubernetes.io/component": "schema",
        "app.kubernetes.io/part-of": "sluice",
        "app.kubernetes.io/managed-by": "sluice-operator",
      },
      ownerReferences: [ownerReference(owner)],
    },
    immutable: true,
    data: { [KEY]: canonicalJson(schema) },
  };
}

/** Parses the stored versions of one stream; ConfigMaps that do not parse are skipped. */
export function storedSchemas(configMaps: readonly k8s.V1ConfigMap[]): StoredSchema[] {
  return configMaps
    .flatMap((cm) => {
      try {
        const s = JSON.parse(cm.data?.[KEY] ?? "") as StoredSchema;
        return Number.isInteger(s.version) && Array.isArray(s.fields) ? [s] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.version - b.version);
}

/** The running version is the newest stored one: a version is stored only once accepted. */
export function runningSchema(stored: readonly StoredSchema[]): StoredSchema | undefined {
  return stored[stored.length - 1];
}

export function fieldsOf(s: { fields: readonly CompiledField[] }): CompiledField[] {
  return s.fields.map((f) => ({ ...f }));
}
