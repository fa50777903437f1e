// Secret scanner for the working tree: the test suite and CI run it; CI also runs gitleaks with
// the same allow-list policy (.github/gitleaks.toml). Node built-ins only.
//
//   npx tsx scripts/scan-secrets.ts [path ...]     (default: every file git tracks)
//
// Exits 1 and lists every finding (file:line, rule, a redacted excerpt) when something looks like
// a credential; never prints the full value. Suppress a false positive narrowly: an entry in
// scripts/scan-secrets.allowlist.json (exact path + rule ids + reason) or, for one line, a
// trailing `gitleaks:allow` comment (the marker gitleaks honours too).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
// Relative, not @twist/shared: CI runs this scan before `npm ci`.
import { entropy } from "../runtime/shared/src/entropy";
import { CliUsageError, exitOnUsageError, parseCommandLine } from "./lib/cli";

export interface Finding {
  file: string;
  line: number;
  rule: string;
  description: string;
  /** The matched text with the middle masked. */
  redacted: string;
}

export interface AllowEntry {
  path: string;
  rules: string[];
  reason: string;
}

interface Rule {
  id: string;
  description: string;
  pattern: RegExp;
  /** Index of the capture group holding the secret value (0 = whole match). */
  group?: number;
  /** Extra check on the captured value. */
  accept?: (value: string) => boolean;
}

const STOPWORDS = /test|example|sample|dummy|fake|mock|placeholder|changeme|change-me|insecure|local|dev|bench|redacted|xxxx|\$\{|\{\{|<[a-z_-]+>|process\.env|secrets\.|vars\./i;

/** Values made of words ("bench-only-jwt-secret-0001", "plan-1:PLACEHOLDER-x") are labels a person wrote, not key material. */
const looksHumanMade = (value: string) => value.split(/[-_:.]/).filter((part) => /^[a-zA-Z]{3,}$/.test(part)).length >= 2;

const looksRandom = (value: string) => value.length >= 20 && entropy(value) >= 3.5 && /[0-9]/.test(value) && /[a-zA-Z]/.test(value) && !STOPWORDS.test(value) && !looksHumanMade(value);

export const RULES: Rule[] = [
  {
    id: "private-key",
    description: "PEM private key block",
    // Header, a body of key material (64+ characters, as gitleaks requires), footer.
    pattern: /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----([\s\S]{64,}?)-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/g,
    group: 1,
    accept: (body) => !/placeholder|example|redacted|\.\.\./i.test(body),
  },
  { id: "aws-access-key-id", description: "AWS access key id", pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g },
  { id: "github-token", description: "GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/g },
  { id: "slack-token", description: "Slack token", pattern: /\bxox[abposr]-[0-9A-Za-z-]{10,}/g },
  { id: "stripe-live-key", description: "Stripe live key", pattern: /\b[rs]k_live_[0-9A-Za-z]{20,}/g },
  { id: "npm-token", description: "npm access token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { id: "pulumi-access-token", description: "Pulumi access token", pattern: /\bpul-[a-f0-9]{40}\b/g },
  { id: "gcp-api-key", description: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  {
    id: "jwt",
    description: "signed JSON Web Token",
    pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/g,
  },
  {
    id: "solana-keypair",
    description: "Solana keypair (64-byte JSON array)",
    pattern: /\[\s*(?:\d{1,3}\s*,\s*){63}\d{1,3}\s*\]/g,
  },
  {
    id: "cloudflare-api-token",
    description: "Cloudflare API token assignment",
    pattern: /(?:cloudflare|\bcf)[\w.-]{0,20}(?:token|key)\b["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{37,40})\b/gi,
    group: 1,
    accept: looksRandom,
  },
  {
    id: "url-credentials",
    description: "password in a connection URL",
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"`]+:([^\s:@/'"`]{8,})@[^\s'"`]+/gi,
    group: 1,
    accept: looksRandom,
  },
  {
    id: "generic-secret",
    description: "high-entropy value assigned to a secret-named key",
    pattern:
      /\b[\w.-]*(?:secret|passphrase|password|passwd|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token|signing[_-]?keys?|jwt[_-]?keys?|seed)[\w.-]*["']?\s*[:=]\s*["'`]([^"'`\s]{20,})["'`]/gi,
    group: 1,
    accept: looksRandom,
  },
];

const INLINE_ALLOW = /gitleaks:allow|scan-secrets:allow/;
const MAX_BYTES = 2 * 1024 * 1024;
const SKIP = [/(^|\/)node_modules\//, /(^|\/)dist\//, /(^|\/)package-lock\.json$/, /\.(png|jpe?g|gif|ico|wasm|woff2?|ttf|pdf|zip|gz|tgz)$/i];

export function redact(value: string): string {
  if (value.length <= 12) return `${value.slice(0, 2)}…`;
  return `${value.slice(0, 6)}…${value.slice(-4)} (${value.length} chars)`;
}

/** Scans one file's text. `file` is the repository-relative path used in findings and allow-list matches. */
export function scanText(file: string, text: string, allow: AllowEntry[] = []): Finding[] {
  const findings: Finding[] = [];
  const allowed = new Set(allow.filter((a) => a.path === file).flatMap((a) => a.rules));
  if (/(^|\/)\.env(\.[\w-]+)?$/.test(file) && !/\.env\.(example|sample|template)$/.test(file)) {
    findings.push({ file, line: 1, rule: "dotenv-file", description: "committed .env file", redacted: file });
  }
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const reported = new Set<string>(); // one finding per value: specific rules come before generic ones
  for (const rule of RULES) {
    if (allowed.has(rule.id)) continue;
    for (const match of text.matchAll(rule.pattern)) {
      const value = match[rule.group ?? 0] ?? match[0];
      if (rule.accept && !rule.accept(value)) continue;
      const line = lineOf(match.index ?? 0);
      const lineText = text.slice(lineStarts[line], lineStarts[line + 1] ?? text.length);
      if (INLINE_ALLOW.test(lineText) || [...reported].some((r) => r.includes(value) || value.includes(r))) continue;
      reported.add(value);
      findings.push({ file, line: line + 1, rule: rule.id, description: rule.description, redacted: redact(value) });
    }
  }
  return findings;
}

export function loadAllowlist(root: string): AllowEntry[] {
  const file = join(root, "scripts", "scan-secrets.allowlist.json");
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { allow?: unknown };
  if (!Array.isArray(parsed.allow)) throw new Error(`${file}: expected {"allow": [...]}`);
  return parsed.allow.map((entry, i) => {
    const e = entry as Partial<AllowEntry>;
    if (typeof e.path !== "string" || !Array.isArray(e.rules) || e.rules.length === 0 || typeof e.reason !== "string" || !e.reason.trim()) {
      throw new Error(`${file}: entry ${i} needs an exact "path", a non-empty "rules" list and a "reason"`);
    }
    if (/[*?[]/.test(e.path)) throw new Error(`${file}: entry ${i}: "path" must be an exact file path, not a pattern`);
    const unknown = e.rules.filter((r) => r !== "dotenv-file" && !RULES.some((rule) => rule.id === r));
    if (unknown.length) throw new Error(`${file}: entry ${i}: unknown rule ids ${unknown.join(", ")}`);
    return { path: e.path, rules: e.rules, reason: e.reason };
  });
}

/**
 * Files of the tree: what git tracks (the index). Untracked scratch files in a shared work tree are
 * left out; they are scanned once added, and CI scans a fresh clone.
 */
export function listFiles(root: string): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--cached"], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return [...new Set(out.split("\0").filter(Boolean))];
}

export function scanFiles(root: string, files: string[], allow: AllowEntry[]): { findings: Finding[]; scanned: number } {
  const findings: Finding[] = [];
  let scanned = 0;
  for (const file of files) {
    const rel = relative(root, join(root, file)).split(sep).join("/");
    if (SKIP.some((re) => re.test(rel))) continue;
    const abs = join(root, rel);
    if (!existsSync(abs)) continue; // deleted in the work tree but still in the index
    const stat = statSync(abs);
    if (!stat.isFile() || stat.size > MAX_BYTES) continue;
    const buf = readFileSync(abs);
    if (buf.subarray(0, 8192).includes(0)) continue; // binary
    scanned++;
    findings.push(...scanText(rel, buf.toString("utf8"), allow));
  }
  return { findings, scanned };
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: [${f.rule}] ${f.description}: ${f.redacted}`).join("\n");
}

export const USAGE = `usage: npm run scan-secrets -- [<file> ...]
  <file>  scan only these files (each must exist); default: every file git tracks
Exits 1 when a possible secret is found (see docs/secrets.md), 2 on a usage mistake.`;

if (process.argv[1] && /scan-secrets\.ts$/.test(process.argv[1])) {
  const root = join(__dirname, "..");
  const { positionals } = parseCommandLine({ usage: USAGE, options: {}, allowPositionals: true });
  // A mistyped path must not pass as "no secrets found in 0 files".
  const missing = positionals.filter((a) => !existsSync(resolve(a)));
  if (missing.length) exitOnUsageError(new CliUsageError(`no such file: ${missing.join(", ")}\n\n${USAGE}`, 2));
  const files = positionals.length ? positionals.map((a) => relative(root, resolve(a))) : listFiles(root);
  const { findings, scanned } = scanFiles(root, files, loadAllowlist(root));
  if (findings.length) {
    process.stderr.write(`${formatFindings(findings)}\n${findings.length} possible secret(s) in ${scanned} files. See docs/secrets.md.\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`scan-secrets: no secrets found in ${scanned} files\n`);
  }
}
