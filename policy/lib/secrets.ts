// Structural secret detection. A policy cannot see whether a value is a Pulumi secret (the SDK
// strips the markers), so "plaintext secret" means: a plaintext slot (plain_text binding, container
// env, command environment) whose name or value looks like a secret.
import { entropy } from "@twist/shared/entropy";
import { isWalletAddress } from "@twist/shared/wallet";

/** Words that make a variable name secret-like when they appear as a whole word. */
const SECRET_WORDS = new Set([
  "SECRET",
  "SECRETS",
  "TOKEN",
  "TOKENS",
  "KEY",
  "KEYS",
  "PASSWORD",
  "PASSWORDS",
  "PASSWD",
  "PASS",
  "PWD",
  "PASSPHRASE",
  "CREDENTIAL",
  "CREDENTIALS",
  "CREDS",
  "SALT",
  "PEPPER",
  "APIKEY",
  "DSN",
]);
/** Fragments that make a word secret-like even inside a longer word (APIKEY, CLIENTSECRET...). */
const SECRET_FRAGMENTS = ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "APIKEY", "PRIVATEKEY", "ACCESSKEY"];
/** A last word that says the variable holds a reference or a duration, not the secret itself. */
const REFERENCE_SUFFIXES = new Set(["FILE", "PATH", "DIR", "ID", "KID", "TTL", "SECONDS", "MS", "NAME", "HEADER", "VERSION", "PREFIX"]);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== "");
}

/** True when a variable or binding name says it holds a secret (JWT_KEYS, dbPassword, API_TOKEN). */
export function isSecretLikeName(name: string): boolean {
  const parts = words(name);
  const last = parts[parts.length - 1];
  if (last === undefined || REFERENCE_SUFFIXES.has(last)) return false;
  return parts.some((w) => SECRET_WORDS.has(w) || SECRET_FRAGMENTS.some((f) => w.includes(f)));
}

const PATTERNS: { reason: string; pattern: RegExp }[] = [
  { reason: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { reason: "a PEM private key", pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  { reason: "a connection string with a password", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:[^\s@/]+@/i },
  { reason: "a connection string with a password", pattern: /\b(?:password|pwd)=[^\s&;'"]+/i },
  {
    reason: "a cloud or SaaS access key",
    pattern: /\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|xox[abprs]-[A-Za-z0-9-]{10,})\b/,
  },
];

/**
 * A random-looking token: long hex (a 256-bit key; 32-hex account ids and 40-hex commit ids are
 * not), or a long base64/base64url string mixing letters and digits with high entropy. Solana
 * addresses (public keys) are not secrets and are let through.
 */
export function isHighEntropyToken(token: string): boolean {
  if (/^[0-9a-f]+$/i.test(token)) return token.length >= 48;
  if (token.length < 20 || !/^[A-Za-z0-9+/=_-]+$/.test(token)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(token)).length;
  if (classes < 3 || entropy(token) < 4) return false;
  return !isWalletAddress(token);
}

/**
 * Why a plaintext value looks like a secret, or undefined. `entropyCheck: false` skips the
 * high-entropy heuristic (for command lines, where image digests and hashes are normal).
 */
export function secretLikeValue(value: unknown, { entropyCheck = true } = {}): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  for (const { reason, pattern } of PATTERNS) if (pattern.test(value)) return reason;
  if (entropyCheck && value.split(/[\s,;:=@]+/).some(isHighEntropyToken)) return "a high-entropy string (a key or token)";
  return undefined;
}

/** Splits `NAME=value` (docker env entry) into its parts. */
export function splitEnvEntry(entry: string): { name: string; value: string } {
  const eq = entry.indexOf("=");
  return eq < 0 ? { name: entry, value: "" } : { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
}
