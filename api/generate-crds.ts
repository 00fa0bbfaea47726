/** `make crds`: writes crds/<plural>.sluice.dev.yaml from the zod schemas. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdFiles } from "./crd-files.js";
import { repoRoot } from "./repo-root.js";

const dir = join(repoRoot, "crds");
mkdirSync(dir, { recursive: true });
for (const [file, text] of crdFiles()) {
  writeFileSync(join(dir, file), text);
  console.log(`wrote crds/${file}`);
}
