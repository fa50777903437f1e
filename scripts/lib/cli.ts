// One strict command-line parser for every script and benchmark (node:util parseArgs, strict):
// `--help` prints the usage and exits 0; an unknown flag, a missing value or a stray positional
// exits 2 with a message naming it, then the usage. Commands never guess what a typo meant.
import { parseArgs, type ParseArgsConfig } from "node:util";

export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

export interface CommandSpec<O extends CliOptions> {
  /** Usage text: first line `usage: npm run x -- [--flag <value>]`, then one line per flag. */
  usage: string;
  options: O;
  /** Positional arguments are refused unless this is set. */
  allowPositionals?: boolean;
}

export class CliUsageError extends Error {
  readonly exitCode: 0 | 2;
  constructor(message: string, exitCode: 0 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Parses argv, or throws CliUsageError (exit 0 for --help, 2 for a usage mistake). Use this form
 * where a test calls the command in-process; `parseCommandLine` is the form for `main`.
 */
export function parseCommand<O extends CliOptions>(spec: CommandSpec<O>, argv: string[]) {
  const options = { ...spec.options, help: { type: "boolean", short: "h" } } as O & { help: { type: "boolean"; short: "h" } };
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: boolean }>>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: spec.allowPositionals ?? false });
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${spec.usage}`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) throw new CliUsageError(spec.usage, 0);
  return parsed;
}

/** A usage mistake found after parsing (a bad value): exit 2 naming it, like a parse error. */
export function usageError(message: string, usage: string): never {
  throw new CliUsageError(`${message}\n\n${usage}`, 2);
}

/** For a process entry point: a CliUsageError is printed and exits with its code; anything else is rethrown. */
export function exitOnUsageError(err: unknown): void {
  if (!(err instanceof CliUsageError)) throw err;
  if (err.exitCode === 0) process.stdout.write(`${err.message}\n`);
  else process.stderr.write(`error: ${err.message}\n`);
  process.exit(err.exitCode);
}

/** parseCommand for a process entry point: prints and exits on --help or a usage mistake. */
export function parseCommandLine<O extends CliOptions>(spec: CommandSpec<O>, argv: string[] = process.argv.slice(2)) {
  try {
    return parseCommand(spec, argv);
  } catch (err) {
    exitOnUsageError(err);
    throw err;
  }
}
