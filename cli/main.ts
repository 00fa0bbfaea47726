/** The `sluice` command line. */
import { Command } from "commander";
import { validatePaths } from "./validate-command.js";

export function program(): Command {
  const cli = new Command("sluice").description("Declarative real-time event pipelines: Kafka in, ClickHouse out.");
  cli
    .command("validate")
    .description("Validate EventStream, Aggregation and Sink manifests offline with the API's own schemas")
    .requiredOption("-f, --filename <path...>", "manifest files or folders (YAML, multi-document)")
    .action((opts: { filename: string[] }) => {
      const report = validatePaths(opts.filename);
      (report.ok ? console.log : console.error)(report.lines.join("\n"));
      process.exitCode = report.ok ? 0 : 1;
    });
  return cli;
}

await program().parseAsync(process.argv);
