/**
 * `make crds`: writes <plural>.sluice.dev.yaml from the zod schemas into crds/ and into the
 * chart's crds/ (Helm installs CRDs only from its own folder; a stale copy there would
 * silently prune new fields on install).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CRD_DIRS, crdFiles } from "./crd-files.js";
import { repoRoot } from "./repo-root.js";

for (const rel of CRD_DIRS) {
  const dir = join(repoRoot, rel);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of crdFiles()) {
    writeFileSync(join(dir, file), text);
    console.log(`wrote ${rel}/${file}`);
  }
}
