import yaml from "js-yaml";
import { crdFor } from "./crd.js";
import { KINDS } from "./kinds.js";

/** Where the generated CRDs live, relative to the repo: the install folder and the chart's. */
export const CRD_DIRS = ["crds", "charts/sluice/crds"] as const;

const HEADER = "# Generated from api/*.ts by `make crds`. Do not edit: change the zod schema instead.\n";

/** File name → YAML text of every CRD, as `make crds` writes them and the staleness test reads them. */
export function crdFiles(): Map<string, string> {
  return new Map(
    KINDS.map((def) => [`${def.plural}.sluice.dev.yaml`, HEADER + yaml.dump(crdFor(def), { noRefs: true, lineWidth: 120, sortKeys: false })]),
  );
}
