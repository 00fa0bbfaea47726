/**
 * `sluice crds`: the CustomResourceDefinitions as one multi-document YAML, for
 * `kubectl apply -f -`. Generated from the zod schemas in api/ (what `make crds` writes to
 * crds/), so it needs no files beside the code: the image and an installed package ship
 * only the compiled dist/.
 */
import { Command } from "commander";
import { crdFiles } from "../api/crd-files.js";
import { runAction, withHelp } from "./exit-codes.js";

/** Each CRD document as `make crds` writes it, separated by `---`. */
export function crdsYaml(): string {
  return [...crdFiles().values()].join("---\n");
}

export function crdsCommand(): Command {
  const cmd = new Command("crds")
    .description("Print the Sluice CustomResourceDefinitions (EventStream, Aggregation, Sink) as one YAML stream")
    .action(() => runAction(() => void process.stdout.write(crdsYaml())));
  return withHelp(cmd, [
    "sluice crds | kubectl apply --server-side -f -     # install or upgrade the CRDs",
    "sluice crds | kubectl diff -f -                    # what an upgrade would change",
    "docker run --rm sluice crds > sluice-crds.yaml",
  ]);
}
