/** `make reference` (and `make crds`): writes docs/reference.md from the zod schemas. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REFERENCE_FILE, referenceMarkdown } from "./reference.js";
import { repoRoot } from "./repo-root.js";

const file = join(repoRoot, REFERENCE_FILE);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, referenceMarkdown());
console.log(`wrote ${REFERENCE_FILE}`);
