import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file so scripts work from any cwd. */
export const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Built tools and downloaded jars live outside the repo so fresh clones (CI) reuse them. */
export const cacheDir = process.env.SLUICE_CACHE ?? join(homedir(), ".cache", "sluice");
export const binDir = join(cacheDir, "bin");

/** The shell-sourceable env file and server state written by `make testbed-up`. */
export const stateDir = join(repoRoot, ".testbed");
export const envFile = join(stateDir, "env");
export const pidsFile = join(stateDir, "pids.json");

export const kafkaVersion = process.env.KAFKA_VERSION ?? "3.9.1";
export const kafkaLibs = (version = kafkaVersion) => join(cacheDir, `kafka-${version}`, "libs");
