/**
 * Exit codes and error reporting shared by the day-two commands (crds, tail, lag, send):
 * 0 ok, 1 a runtime failure (Kafka unreachable, a request refused), 2 a usage error (bad
 * or missing arguments). Scripts tell "try again later" from "fix the command line" by it.
 */
import { type Command, CommanderError } from "commander";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  runtime failure (Kafka or the collector unreachable, a request refused, ...)
  2  usage error (unknown option, missing or malformed argument)`;

/** A failure that says what the user can do about it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/** Bad arguments the parser could not catch (a malformed --from, say): exit 2. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, hint, EXIT_USAGE);
}

/**
 * Help with examples and the exit codes, and commander's own parse errors mapped to exit
 * 2 (commander exits 1 for them, which a script would take for a runtime failure).
 */
export function withHelp(cmd: Command, examples: string[], notes: string[] = []): Command {
  const about = notes.length > 0 ? `\n${notes.join("\n")}\n` : "";
  return cmd
    .addHelpText("after", `\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}\n${about}${EXIT_CODES_HELP}`)
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_USAGE));
}

/** Runs a command's action: a CliError is printed with its hint and sets its exit code. */
export async function runAction(action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (err) {
    const e = err instanceof CliError ? err : new CliError(err instanceof Error ? err.message : String(err));
    console.error(`error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    process.exitCode = e.exitCode;
  }
}
