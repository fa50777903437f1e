// Picks the commit a stack rolls back to, from `pulumi stack history --json`.
//
//   pulumi stack history --stack staging --json --page-size 0 | npx tsx scripts/rollback.ts
//   npx tsx scripts/rollback.ts --file history.json [--target <commit-sha | update-version>] [--json]
//   npx tsx scripts/rollback.ts --file history.json --require-deployed <commit-sha>
//
// The chosen commit names the *artifacts* to redeploy (its Worker bundle and service images); the
// rollback runs the current program with the current config and secrets (docs/rollback.md).
// Prints the chosen full commit SHA on stdout (or a JSON description with --json); every
// diagnostic goes to stderr; a history the script cannot roll back from exits 1 with a message.
//
// Where the commit comes from (see docs/rollback.md): the deploy workflows pass
// `--config twist:commit=<sha>` to `pulumi up`, so each update's recorded config names its commit
// explicitly; updates made without it (a laptop, an older workflow) fall back to the
// `git.head` the CLI records from the checked-out repository. Nothing else is trusted.
//
// No package imports (Node built-ins and scripts/lib only): the rollback workflow runs this with
// `npx tsx` before any `npm ci`.
import { readFileSync } from "node:fs";
import { CliUsageError, parseCommand } from "./lib/cli";

/** One entry of `pulumi stack history --json` (only the fields this script reads). Newest first. */
export interface HistoryEntry {
  version?: number;
  kind?: string;
  startTime?: string;
  endTime?: string;
  message?: string;
  result?: string;
  environment?: Record<string, string>;
  config?: Record<string, { value?: string; secret?: boolean; objectValue?: unknown }>;
  resourceChanges?: Record<string, number>;
}

export const COMMIT_CONFIG_KEY = "twist:commit";
export const GIT_HEAD_KEY = "git.head";
const FULL_SHA = /^[0-9a-f]{40}$/;
const SHA_PREFIX = /^[0-9a-f]{7,40}$/;
const VERSION = /^[1-9][0-9]{0,9}$/;

export type RollbackErrorCode =
  | "INVALID_HISTORY"
  | "EMPTY_HISTORY"
  | "NO_EARLIER_SUCCESS"
  | "TARGET_NOT_FOUND"
  | "TARGET_NOT_SUCCESSFUL"
  | "TARGET_AMBIGUOUS"
  | "TARGET_IS_CURRENT"
  | "INVALID_TARGET"
  | "VERSIONS_UNAVAILABLE";

export class RollbackError extends Error {
  constructor(
    readonly code: RollbackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RollbackError";
  }
}

export interface RollbackChoice {
  /** Full 40-character commit SHA to check out and `pulumi up`. */
  commit: string;
  /** The history entry that deployed it. */
  entry: HistoryEntry;
  /** Position of that entry in the history (0 = newest). */
  index: number;
  /** The commit currently deployed (newest update's commit), if it is recorded. */
  from: string | undefined;
  /** How the target was chosen. */
  reason: "previous-success" | "requested-commit" | "requested-version";
}

/** Validates the parsed JSON and returns it as a newest-first list of entries. */
export function parseHistory(json: unknown): HistoryEntry[] {
  if (!Array.isArray(json)) {
    throw new RollbackError("INVALID_HISTORY", "stack history must be the JSON array printed by `pulumi stack history --json`");
  }
  json.forEach((entry, i) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw new RollbackError("INVALID_HISTORY", `stack history entry ${i} is not an object`);
    }
    const e = entry as Record<string, unknown>;
    if (typeof e.kind !== "string") throw new RollbackError("INVALID_HISTORY", `stack history entry ${i} has no "kind"`);
    if (e.environment !== undefined && (e.environment === null || typeof e.environment !== "object")) {
      throw new RollbackError("INVALID_HISTORY", `stack history entry ${i} has a malformed "environment"`);
    }
    if (e.config !== undefined && (e.config === null || typeof e.config !== "object")) {
      throw new RollbackError("INVALID_HISTORY", `stack history entry ${i} has a malformed "config"`);
    }
  });
  return json as HistoryEntry[];
}

/** The commit an update deployed: the explicit `twist:commit` config, else the CLI's `git.head`. */
export function commitOf(entry: HistoryEntry): string | undefined {
  const configured = entry.config?.[COMMIT_CONFIG_KEY]?.value?.trim().toLowerCase();
  if (configured && FULL_SHA.test(configured)) return configured;
  const head = entry.environment?.[GIT_HEAD_KEY]?.trim().toLowerCase();
  if (head && FULL_SHA.test(head)) return head;
  return undefined;
}

/** Updates (`pulumi up`) only: refreshes, destroys, imports and renames are not deploys of a commit. */
function isUpdate(entry: HistoryEntry): boolean {
  return entry.kind === "update";
}

function isSuccess(entry: HistoryEntry): boolean {
  return isUpdate(entry) && entry.result === "succeeded";
}

function describe(entry: HistoryEntry, index: number): string {
  const when = entry.startTime ? ` started ${entry.startTime}` : "";
  const version = entry.version ? `version ${entry.version}` : `entry ${index} (newest is 0)`;
  return `${version}${when}, result ${entry.result ?? "unknown"}`;
}

/**
 * Chooses the rollback target.
 *
 * Without a target: the newest successful update whose commit differs from the commit of the
 * newest update (the one being rolled back, whether it succeeded or failed). Successful updates
 * of the same commit (re-runs) are skipped, since redeploying them would change nothing.
 *
 * With a target: a commit SHA (7 to 40 hex characters) or an update version number (Pulumi Cloud
 * only: a self-managed backend records every version as 0). The target must be a successful
 * update in this history; a failed or unknown one is refused.
 */
export function pickRollbackTarget(history: HistoryEntry[], options: { target?: string } = {}): RollbackChoice {
  const updates = history.map((entry, index) => ({ entry, index })).filter(({ entry }) => isUpdate(entry));
  if (updates.length === 0) {
    throw new RollbackError("EMPTY_HISTORY", "the stack has no recorded `pulumi up` updates: nothing to roll back to");
  }
  const from = commitOf(updates[0]!.entry);
  const target = options.target?.trim().toLowerCase();

  if (target) {
    if (VERSION.test(target) && !SHA_PREFIX.test(target)) return pickByVersion(updates, Number(target), from);
    if (SHA_PREFIX.test(target)) return pickByCommit(updates, target, from);
    throw new RollbackError("INVALID_TARGET", `target "${options.target}" is neither a commit SHA (7-40 hex characters) nor an update version number`);
  }

  const [newest] = updates;
  for (const { entry, index } of updates.slice(1)) {
    if (!isSuccess(entry)) continue;
    const commit = commitOf(entry);
    if (!commit || commit === from) continue;
    return { commit, entry, index, from, reason: "previous-success" };
  }
  throw new RollbackError(
    "NO_EARLIER_SUCCESS",
    `no successful update older than the newest one (${describe(newest!.entry, newest!.index)}${from ? `, commit ${from}` : ""}) ` +
      "records a different commit: there is no earlier version to roll back to. Pass --target to choose one explicitly, or fix forward.",
  );
}

type Indexed = { entry: HistoryEntry; index: number };

function pickByVersion(updates: Indexed[], version: number, from: string | undefined): RollbackChoice {
  if (updates.every(({ entry }) => !entry.version)) {
    throw new RollbackError(
      "VERSIONS_UNAVAILABLE",
      `cannot select update version ${version}: this backend records every update as version 0 (self-managed state). Pass the commit SHA instead.`,
    );
  }
  const match = updates.find(({ entry }) => entry.version === version);
  if (!match) throw new RollbackError("TARGET_NOT_FOUND", `update version ${version} is not in the stack history`);
  return chosen(match, from, "requested-version", `update version ${version}`);
}

function pickByCommit(updates: Indexed[], prefix: string, from: string | undefined): RollbackChoice {
  const deployed = updates.filter(({ entry }) => commitOf(entry)?.startsWith(prefix));
  if (deployed.length === 0) {
    throw new RollbackError("TARGET_NOT_FOUND", `commit ${prefix} was never deployed to this stack (not in its history)`);
  }
  const commits = new Set(deployed.map(({ entry }) => commitOf(entry)));
  if (commits.size > 1) {
    throw new RollbackError("TARGET_AMBIGUOUS", `commit prefix ${prefix} matches several deployed commits: ${[...commits].join(", ")}`);
  }
  const success = deployed.find(({ entry }) => isSuccess(entry));
  return chosen(success ?? deployed[0]!, from, "requested-commit", `commit ${prefix}`);
}

function chosen(match: Indexed, from: string | undefined, reason: RollbackChoice["reason"], label: string): RollbackChoice {
  if (!isSuccess(match.entry)) {
    throw new RollbackError("TARGET_NOT_SUCCESSFUL", `${label} did not deploy successfully (${describe(match.entry, match.index)}): refusing to roll back to it`);
  }
  const commit = commitOf(match.entry);
  if (!commit) {
    throw new RollbackError("TARGET_NOT_FOUND", `${label} (${describe(match.entry, match.index)}) records no commit (${COMMIT_CONFIG_KEY} or ${GIT_HEAD_KEY})`);
  }
  if (commit === from && match.index === 0) {
    throw new RollbackError("TARGET_IS_CURRENT", `${label} is the update currently deployed (commit ${commit}): nothing to roll back`);
  }
  return { commit, entry: match.entry, index: match.index, from, reason };
}

/** True when `commit` (a full SHA) has a successful update in this history: "it passed this stack". */
export function wasDeployed(history: HistoryEntry[], commit: string): boolean {
  const wanted = commit.trim().toLowerCase();
  return history.some((entry) => isSuccess(entry) && commitOf(entry) === wanted);
}

export const USAGE = `usage: rollback [--file history.json | -] [--target <sha|version>] [--json]
       rollback [--file history.json | -] --require-deployed <sha>
Reads \`pulumi stack history --json\` (stdin by default) and prints the commit whose artifacts a
rollback redeploys (with the current program, config and secrets: docs/rollback.md).
  -f, --file <path>            the history JSON ("-" or absent: stdin)
  -t, --target <sha|version>   a commit (7-40 hex) or update version to return to
      --json                   print a JSON description instead of the bare SHA
      --require-deployed <sha> exit 0 if the commit has a successful update, else 1`;

const SPEC = {
  usage: USAGE,
  options: {
    file: { type: "string", short: "f" },
    target: { type: "string", short: "t" },
    json: { type: "boolean" },
    "require-deployed": { type: "string" },
  },
} as const;

export function runCli(argv: string[], readInput: (file: string | undefined) => string): { stdout: string; stderr: string; code: number } {
  let args: { file: string | undefined; target: string | undefined; json: boolean; requireDeployed: string | undefined };
  try {
    const { values } = parseCommand(SPEC, argv);
    args = { file: values.file, target: values.target, json: values.json ?? false, requireDeployed: values["require-deployed"] };
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    return err.exitCode === 0 ? { stdout: `${err.message}\n`, stderr: "", code: 0 } : { stdout: "", stderr: `error: ${err.message}\n`, code: 2 };
  }
  try {
    const raw = readInput(args.file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new RollbackError("INVALID_HISTORY", "stack history is not valid JSON (expected the output of `pulumi stack history --json`)");
    }
    const history = parseHistory(parsed);
    if (args.requireDeployed) {
      const ok = wasDeployed(history, args.requireDeployed);
      return ok
        ? { stdout: "", stderr: `commit ${args.requireDeployed} has a successful update in this history\n`, code: 0 }
        : { stdout: "", stderr: `error: commit ${args.requireDeployed} has no successful update in this history\n`, code: 1 };
    }
    const choice = pickRollbackTarget(history, args.target ? { target: args.target } : {});
    const summary = `rolling back ${choice.from ?? "(unrecorded commit)"} -> ${choice.commit} (${choice.reason}, ${describe(choice.entry, choice.index)})\n`;
    const stdout = args.json
      ? `${JSON.stringify({ commit: choice.commit, from: choice.from ?? null, reason: choice.reason, index: choice.index, version: choice.entry.version ?? 0, startTime: choice.entry.startTime ?? null })}\n`
      : `${choice.commit}\n`;
    return { stdout, stderr: summary, code: 0 };
  } catch (err) {
    if (err instanceof RollbackError) return { stdout: "", stderr: `error [${err.code}]: ${err.message}\n`, code: 1 };
    throw err;
  }
}

function readInput(file: string | undefined): string {
  return readFileSync(file === undefined || file === "-" ? 0 : file, "utf8");
}

if (process.argv[1] && /rollback\.ts$/.test(process.argv[1])) {
  const { stdout, stderr, code } = runCli(process.argv.slice(2), readInput);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = code;
}
