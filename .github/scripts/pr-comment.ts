// Posts (or edits) the one pull-request comment that carries a preview or plan, for preview.yml
// and preview-comment.yml. Node built-ins only: workflows run it with `npx tsx` without `npm ci`.
//
//   npx tsx .github/scripts/pr-comment.ts --pr 12 --marker twist-preview:staging \
//     --title "Pulumi preview: staging" --status success --output-file preview.txt \
//     [--run-url URL] [--expect-head-sha SHA] [--body-file out.md (render only, no API call)]
//
// Env: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_API_URL (default https://api.github.com).
// GitHub refuses comments over 65,536 characters: a longer output is cut to fit, keeping the
// resource summary and policy results, and the comment links to the run (full log + artifact).
import { readFileSync, writeFileSync } from "node:fs";

export const GITHUB_COMMENT_LIMIT = 65_536;
/** Room kept below GitHub's limit (multi-byte characters, later edits of the template). */
const SAFETY_MARGIN = 1_536;

export interface CommentInput {
  marker: string;
  title: string;
  status: "success" | "failure";
  output: string;
  runUrl?: string;
  limit?: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what an ANSI colour sequence starts with
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The parts of Pulumi output a reviewer needs first: resource counts, policy results, errors. */
export function summarize(output: string): string {
  const lines = output.replace(ANSI, "").split(/\r?\n/);
  const picked: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*Resources:\s*$/.test(line)) {
      picked.push(line);
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) picked.push(lines[++i]!);
    } else if (/^\s*(Policies|Policy Violations):/i.test(line) || /\[(mandatory|advisory)\]/i.test(line) || /^\s*error:/i.test(line)) {
      picked.push(line);
    }
  }
  const text = picked.slice(0, 60).join("\n");
  return text.length > 6_000 ? `${text.slice(0, 6_000)}\n…` : text;
}

/** A code fence longer than any backtick run in the text, so the output cannot close it early. */
function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(longest + 1);
}

export function renderComment(input: CommentInput): string {
  const limit = (input.limit ?? GITHUB_COMMENT_LIMIT) - SAFETY_MARGIN;
  const output = input.output.replace(ANSI, "").replace(/\s+$/, "");
  const icon = input.status === "success" ? "✅" : "❌";
  const summary = summarize(output);
  const run = input.runUrl ? `[workflow run](${input.runUrl})` : "the workflow run";
  const head = [
    `<!-- ${input.marker} -->`,
    `### ${icon} ${input.title}`,
    "",
    summary ? `${fenceFor(summary)}text\n${summary}\n${fenceFor(summary)}` : "_No resource summary in the output._",
    "",
  ].join("\n");
  const fence = fenceFor(output);
  const details = (body: string, note: string) => `<details><summary>Full output${note}</summary>\n\n${fence}diff\n${body}\n${fence}\n</details>\n\nUpdated for ${run}.`;

  const full = head + details(output, "");
  if (full.length <= limit) return full;

  const note = ` (cut to fit GitHub's comment limit: see ${run} for all ${output.length.toLocaleString("en-US")} characters)`;
  const room = limit - (head + details("", note)).length - 20;
  if (room <= 0) return `${head}Output too long for a comment: see ${run}.`.slice(0, limit);
  return head + details(`${output.slice(0, room)}\n… (truncated)`, note);
}

export interface Comment {
  id: number;
  body?: string | null;
  user?: { login?: string; type?: string } | null;
}

/** The slice of the GitHub REST API this script uses (boundary; tests use a local stand-in server). */
export interface GitHubApi {
  listComments(issueNumber: number): Promise<Comment[]>;
  createComment(issueNumber: number, body: string): Promise<Comment>;
  updateComment(commentId: number, body: string): Promise<Comment>;
  pullHeadSha(pullNumber: number): Promise<string>;
}

export function githubApi(opts: { token: string; repository: string; apiUrl?: string }): GitHubApi {
  const base = `${(opts.apiUrl ?? "https://api.github.com").replace(/\/$/, "")}/repos/${opts.repository}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`GitHub API ${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res.json();
  };
  return {
    async listComments(issueNumber) {
      const all: Comment[] = [];
      for (let page = 1; page <= 50; page++) {
        const batch = (await call("GET", `/issues/${issueNumber}/comments?per_page=100&page=${page}`)) as Comment[];
        all.push(...batch);
        if (batch.length < 100) break;
      }
      return all;
    },
    createComment: async (issueNumber, body) => (await call("POST", `/issues/${issueNumber}/comments`, { body })) as Comment,
    updateComment: async (commentId, body) => (await call("PATCH", `/issues/comments/${commentId}`, { body })) as Comment,
    pullHeadSha: async (pullNumber) => ((await call("GET", `/pulls/${pullNumber}`)) as { head: { sha: string } }).head.sha,
  };
}

/**
 * Edits the comment that carries `marker`, or creates it: one comment per PR and marker. Only a
 * bot's comment is edited (a person quoting the marker keeps their comment).
 */
export async function upsertComment(api: GitHubApi, issueNumber: number, marker: string, body: string): Promise<{ action: "created" | "updated"; id: number }> {
  const tag = `<!-- ${marker} -->`;
  const existing = (await api.listComments(issueNumber)).find((c) => c.body?.startsWith(tag) && c.user?.type === "Bot");
  if (existing) {
    const updated = await api.updateComment(existing.id, body);
    return { action: "updated", id: updated.id };
  }
  const created = await api.createComment(issueNumber, body);
  return { action: "created", id: created.id };
}

interface Args {
  pr: number;
  marker: string;
  title: string;
  status: "success" | "failure";
  outputFile: string;
  runUrl?: string;
  expectHeadSha?: string;
  bodyFile?: string;
}

export function parseArgs(argv: string[]): Args {
  const map = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) throw new Error(`bad argument near "${key}": expected --name value pairs`);
    map.set(key.slice(2), value);
  }
  const need = (k: string) => {
    const v = map.get(k);
    if (!v) throw new Error(`--${k} is required`);
    return v;
  };
  const pr = need("pr");
  if (!/^[1-9][0-9]{0,9}$/.test(pr)) throw new Error(`--pr must be a pull request number, got "${pr}"`);
  const marker = need("marker");
  if (!/^[a-z0-9:._-]{1,64}$/i.test(marker)) throw new Error("--marker may hold only letters, digits and : . _ -");
  const status = need("status");
  if (status !== "success" && status !== "failure") throw new Error("--status must be success or failure");
  const sha = map.get("expect-head-sha");
  if (sha !== undefined && !/^[0-9a-f]{40}$/.test(sha)) throw new Error("--expect-head-sha must be a full commit SHA");
  const args: Args = { pr: Number(pr), marker, title: need("title"), status, outputFile: need("output-file") };
  if (map.get("run-url")) args.runUrl = map.get("run-url")!;
  if (sha) args.expectHeadSha = sha;
  if (map.get("body-file")) args.bodyFile = map.get("body-file")!;
  return args;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const args = parseArgs(argv);
  const body = renderComment({
    marker: args.marker,
    title: args.title,
    status: args.status,
    output: readFileSync(args.outputFile, "utf8"),
    ...(args.runUrl ? { runUrl: args.runUrl } : {}),
  });
  if (args.bodyFile) {
    writeFileSync(args.bodyFile, body);
    return `rendered ${body.length} characters to ${args.bodyFile}`;
  }
  if (!env.GITHUB_TOKEN || !env.GITHUB_REPOSITORY) throw new Error("GITHUB_TOKEN and GITHUB_REPOSITORY must be set");
  const api = githubApi({ token: env.GITHUB_TOKEN, repository: env.GITHUB_REPOSITORY, ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}) });
  if (args.expectHeadSha) {
    // The PR number came from an untrusted artifact (fork): only comment where it belongs.
    const head = await api.pullHeadSha(args.pr);
    if (head !== args.expectHeadSha) throw new Error(`pull request #${args.pr} is at ${head}, not ${args.expectHeadSha}: not commenting`);
  }
  const result = await upsertComment(api, args.pr, args.marker, body);
  return `${result.action} comment ${result.id} on #${args.pr} (${body.length} characters)`;
}

if (process.argv[1] && /pr-comment\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2), process.env).then(
    (message) => console.log(message),
    (err: Error) => {
      console.error(`pr-comment: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
