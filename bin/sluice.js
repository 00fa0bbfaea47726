#!/usr/bin/env node
// The `sluice` command. In a checkout it runs the TypeScript sources through tsx's loader
// (a dev dependency), so a change needs no build step; where the sources are absent (the
// image, an installed package) it runs the compiled dist/ from `npm run build`.
import { existsSync } from "node:fs";

const source = new URL("../cli/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("../dist/cli/main.js");
}
