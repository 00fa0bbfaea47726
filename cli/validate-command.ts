/** `sluice validate -f <file|dir>...`: offline validation with the API's own schemas. */
import { existsSync } from "node:fs";
import { validateDocument } from "../api/validate.js";
import { loadManifests } from "./manifests.js";

export interface ValidateReport {
  lines: string[];
  ok: boolean;
}

export function validatePaths(paths: string[]): ValidateReport {
  const lines: string[] = [];
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) return { ok: false, lines: missing.map((p) => `${p}: no such file or directory`) };
  const { documents, errors } = loadManifests(paths);
  for (const e of errors) lines.push(`${e.file}: not valid YAML: ${e.message}`);
  let valid = 0;
  let invalid = 0;
  let skipped = 0;
  for (const { file, index, doc } of documents) {
    const verdict = validateDocument(doc);
    const where = `${file}: document ${index} (${verdict.kind} "${verdict.name}")`;
    if (verdict.status === "valid") valid++;
    else if (verdict.status === "skipped") skipped++;
    else {
      invalid++;
      for (const issue of verdict.issues) {
        lines.push(`${where}: ${issue.path || "(document)"}: ${issue.message}${issue.hint ? `\n    hint: ${issue.hint}` : ""}`);
      }
    }
  }
  if (documents.length === 0 && errors.length === 0) lines.push(`no manifests found in ${paths.join(", ")}`);
  const ok = invalid === 0 && errors.length === 0 && documents.length > 0;
  lines.push(`${ok ? "valid" : "invalid"}: ${valid} valid, ${invalid} invalid, ${skipped} skipped (not sluice.dev)${errors.length ? `, ${errors.length} unreadable` : ""}`);
  return { ok, lines };
}
