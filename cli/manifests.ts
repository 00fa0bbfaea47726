/** Reads manifests from files and folders: multi-document YAML, in a stable order. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";

export interface LoadedDocument {
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  doc: unknown;
}

export interface LoadError {
  file: string;
  message: string;
}

const MANIFEST = /\.(ya?ml|json)$/;

export function manifestFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const entry of readdirSync(p).sort()) {
        const child = join(p, entry);
        if (statSync(child).isDirectory() || MANIFEST.test(entry)) files.push(...manifestFiles([child]));
      }
    } else files.push(p);
  }
  return files;
}

export function loadManifests(paths: string[]): { documents: LoadedDocument[]; errors: LoadError[] } {
  const documents: LoadedDocument[] = [];
  const errors: LoadError[] = [];
  for (const file of manifestFiles(paths)) {
    try {
      let index = 0;
      for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
        index++;
        // An empty document (a stray `---`) is not a manifest; kubectl skips it too.
        if (doc !== null && doc !== undefined) documents.push({ file, index, doc });
      }
    } catch (err) {
      errors.push({ file, message: err instanceof Error ? err.message.split("\n")[0]! : String(err) });
    }
  }
  return { documents, errors };
}
