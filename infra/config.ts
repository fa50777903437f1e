// Typed stack configuration. Every key of Pulumi.<stack>.yaml is declared here, validated once at
// program start, and a bad or missing key fails the run with one error naming every offender
// ("twist:vmHost: is required"). Secrets are read only through config.requireSecret, so they stay
// Pulumi secrets from the config file to the resource input; their format is checked inside an
// apply so the value itself is never printed.
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { optionalVars, type vars as edgeVarNames } from "../runtime/edge/bindings";
import { tlsProblem } from "../policy/lib/datastore-urls";
import { KeySetError, parseBackupKeySet, parseJwtKeySet, parseSigningKeys } from "../runtime/shared/src/keys";

export const PROJECT = "twist";
export const STACKS = ["staging", "production"] as const;
export type StackName = (typeof STACKS)[number];

export class StackConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(`invalid stack configuration: ${problems.map((p) => `${p.key}: ${p.message}`).join("; ")}`);
    this.name = "StackConfigError";
  }
}

/** Edge variables the program derives itself; the rest come from `twist:edgeVars`. */
const DERIVED_EDGE_VARS = ["ENVIRONMENT", "BACKEND_URL"] as const;
type DerivedEdgeVar = (typeof DERIVED_EDGE_VARS)[number];
export type ConfiguredEdgeVar = Exclude<(typeof edgeVarNames)[number], DerivedEdgeVar>;

const HEX32 = /^[0-9a-f]{32}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const HOST_OR_IP = /^([a-z0-9.-]{1,253}|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i;
const POSINT = /^[1-9]\d{0,8}$/;
const UINT_STRING = /^[1-9]\d{0,38}$/;
const SAFE_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Plain (non-secret) keys: name -> validator returning an error message or undefined. */
type Check = (value: string) => string | undefined;
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(", ")}`;
const matches =
  (re: RegExp, what: string): Check =>
  (v) =>
    re.test(v) ? undefined : `must be ${what}`;
const url: Check = (v) => {
  try {
    const u = new URL(v);
    return u.protocol === "https:" || u.protocol === "http:" ? undefined : "must be an http(s) URL";
  } catch {
    return "must be an http(s) URL";
  }
};
const futureDate: Check = (v) => {
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v) || Number.isNaN(t)) return "must be an ISO-8601 UTC time like 2027-06-30T00:00:00Z";
  if (t <= Date.now()) return "is in the past: API tokens must expire in the future";
  if (t > Date.now() + 400 * 86_400_000) return "is more than 400 days away: rotate tokens at least yearly";
  return undefined;
};
const hostnameList: Check = (v) => (v.split(",").every((h) => HOSTNAME.test(h.trim())) ? undefined : "must be a comma-separated list of hostnames");
const knownHostsLine: Check = (v) =>
  /^\S+ (ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/=]{40,}$/.test(v.trim())
    ? undefined
    : "must be one known_hosts line: '<host> <key-type> <base64 key>' (ssh-keyscan output)";

interface PlainKey {
  check: Check;
  default?: string;
  /** Present only under this condition (other keys already validated). */
  when?: (get: (k: string) => string | undefined) => boolean;
}

export const PLAIN_KEYS = {
  cloudflareAccountId: { check: matches(HEX32, "a 32-character lowercase hex Cloudflare account id") },
  cloudflareZoneId: { check: matches(HEX32, "a 32-character lowercase hex Cloudflare zone id") },
  zoneName: { check: matches(HOSTNAME, "the zone's domain name") },
  edgeHostname: { check: matches(HOSTNAME, "a hostname inside the zone (custom domain of the Worker)") },
  authHostname: { check: matches(HOSTNAME, "a hostname inside the zone (public auth service)") },
  apiHostname: { check: matches(HOSTNAME, "a hostname inside the zone (public influencer API)") },
  vmHost: { check: matches(HOST_OR_IP, "a hostname or IP address") },
  vmUser: { check: matches(SAFE_USER, "a Unix user name"), default: "twist" },
  vmSshPort: { check: matches(POSINT, "a TCP port"), default: "22" },
  vmHostKey: { check: knownHostsLine },
  vmPlatform: { check: oneOf("linux/amd64", "linux/arm64"), default: "linux/amd64" },
  siwsChainId: { check: oneOf("mainnet", "devnet", "testnet") },
  // The web app's host, shown in the sign-in message; wallets compare it with the requesting origin.
  // Empty means the public auth hostname.
  siwsDomain: { check: matches(HOSTNAME, "the hostname of the app users sign in from"), default: "" },
  merchantDomains: { check: hostnameList },
  trustedProxyHeader: { check: matches(/^[A-Za-z0-9-]{1,64}$/, "an HTTP header name"), default: "CF-Connecting-IP" },
  settlementAdapter: { check: oneOf("ledger", "solana"), default: "ledger" },
  solanaRpcUrl: { check: url, when: (get) => get("settlementAdapter") === "solana" },
  twistMint: { check: matches(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "a base58 mint address"), when: (get) => get("settlementAdapter") === "solana" },
  commit: { check: matches(/^[0-9a-f]{7,40}(-dirty)?$/, "a git commit sha"), default: "" },
  // Verification mail (influencer MAIL_TRANSPORT=smtp): any SMTP relay; the password is smtpPassword.
  smtpHost: { check: matches(HOSTNAME, "the SMTP relay's hostname") },
  smtpPort: { check: matches(POSINT, "a TCP port"), default: "587" },
  smtpTls: { check: oneOf("starttls", "implicit"), default: "starttls" },
  smtpUser: { check: matches(/^\S{1,256}$/, "the SMTP user name") },
  mailFrom: { check: matches(/^([^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/, "a sender address, e.g. TWIST <no-reply@example.com>") },
  // Operations (docs/monitoring.md): Grafana's hostname behind Access, who may open it and receives
  // Cloudflare notifications, the zone's plan (some notifications need a paid plan), and the
  // per-IP rate limit of the zone rule in front of /api/v1/vau*.
  grafanaHostname: { check: matches(HOSTNAME, "a hostname inside the zone (Grafana, behind Cloudflare Access)") },
  operatorEmails: { check: (v) => (v.split(",").every((e) => /^[^@\s,]+@[a-z0-9.-]+\.[a-z]{2,63}$/i.test(e.trim())) ? undefined : "must be a comma-separated list of email addresses") },
  cloudflarePlan: { check: oneOf("free", "pro", "business", "enterprise"), default: "free" },
  edgeIpRateLimitPer10s: { check: matches(POSINT, "a positive integer (requests per IP per 10 s)"), default: "50" },
  // Postgres backups (infra/components/backups.ts): how often, how many the job keeps, and the
  // bucket lifecycle rule's age limit behind that count.
  backupIntervalMinutes: { check: matches(/^([1-9]\d{0,3})$/, "a whole number of minutes (1-9999)"), default: "60" },
  backupKeep: { check: matches(/^[1-9]\d{0,3}$/, "a positive number of backups (at most 9999)"), default: "48" },
  backupRetentionDays: { check: matches(/^[1-9]\d{0,3}$/, "a positive number of days"), default: "30" },
  // The backup job's bucket-scoped R2 token (the one token the program mints) expires then: rotate before.
  backupTokenExpiry: { check: futureDate },
  // Where Postgres and Redis run: a container on the data host (the $0 default), or a managed
  // service reached over TLS whose URL is the secret databaseUrl / redisUrl.
  database: { check: oneOf("container", "external"), default: "container" },
  redis: { check: oneOf("container", "external"), default: "container" },
} satisfies Record<string, PlainKey>;
export type PlainKeyName = keyof typeof PLAIN_KEYS;

/** Secret keys: read with requireSecret, format-checked inside an apply (message never shows the value). */
const secretCheck =
  (fn: (v: string) => void): Check =>
  (v) => {
    try {
      fn(v);
      return undefined;
    } catch (err) {
      return err instanceof KeySetError || err instanceof Error ? err.message : "is malformed";
    }
  };
/** An external datastore URL: the right scheme, a host, and TLS required (policy/lib/datastore-urls.ts). */
const externalUrl =
  (scheme: string, example: string): Check =>
  (v) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return `must be a ${example} URL`;
    }
    if (!u.protocol.startsWith(scheme) || u.hostname === "") return `must be a ${example} URL`;
    const problem = tlsProblem(u);
    return problem ? `must require TLS: it ${problem.reason} (${problem.fix})` : undefined;
  };
const whenContainer = (store: "database" | "redis") => (get: (k: string) => string | undefined) => get(store) === "container";
const whenExternal = (store: "database" | "redis") => (get: (k: string) => string | undefined) => get(store) === "external";
const minLength =
  (n: number): Check =>
  (v) =>
    v.length >= n && !/\s/.test(v) ? undefined : `must be at least ${n} characters without whitespace`;

export const SECRET_KEYS = {
  jwtKeys: { check: secretCheck((v) => parseJwtKeySet(v)), purpose: "JWT_KEYS kid:secret list, current first" },
  vauSigningKeys: { check: secretCheck((v) => parseSigningKeys(v)), purpose: "VAU_SIGNING_KEYS (clients -> edge)" },
  serviceSigningKeys: { check: secretCheck((v) => parseSigningKeys(v)), purpose: "SERVICE_SIGNING_KEYS (edge consumer -> backend)" },
  merchantSigningKeys: { check: secretCheck((v) => parseSigningKeys(v)), purpose: "MERCHANT_SIGNING_KEYS (merchant servers -> conversions)" },
  ipHashSalt: { check: minLength(16), purpose: "IP_HASH_SALT" },
  postgresPassword: { check: minLength(20), purpose: "password of the twist Postgres role (database: container)", when: whenContainer("database") },
  redisPassword: { check: minLength(20), purpose: "Redis requirepass (redis: container)", when: whenContainer("redis") },
  databaseUrl: {
    check: externalUrl("postgres", "postgres://user:password@host/database?sslmode=require"),
    purpose: "connection URL of the managed Postgres (database: external), with sslmode=require or stricter",
    when: whenExternal("database"),
  },
  redisUrl: { check: externalUrl("redis", "rediss://user:password@host:port"), purpose: "rediss:// URL of the managed Redis (redis: external)", when: whenExternal("redis") },
  vmSshPrivateKey: {
    check: (v: string) => (/^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z ]*PRIVATE KEY-----\s*$/.test(v) ? undefined : "must be a PEM/OpenSSH private key"),
    purpose: "SSH key of vmUser on the VM (docker provider and host preparation)",
  },
  tunnelSecret: {
    check: (v: string) => (/^[A-Za-z0-9+/]{43,}={0,2}$/.test(v) && Buffer.from(v, "base64").length >= 32 ? undefined : "must be base64 of at least 32 random bytes"),
    purpose: "Cloudflare Tunnel secret (openssl rand -base64 32)",
  },
  smtpPassword: { check: (v: string) => (v.length > 0 ? undefined : "must not be empty"), purpose: "SMTP_PASSWORD of smtpUser at smtpHost (verification mail)" },
  alertWebhookUrl: {
    check: (v: string) => (/^https:\/\/\S+$/.test(v) ? undefined : "must be an https URL (a Slack-compatible incoming webhook)"),
    purpose: "where Alertmanager sends alerts (Slack-compatible incoming webhook URL)",
  },
  grafanaAdminPassword: { check: minLength(20), purpose: "Grafana admin password" },
  analyticsApiToken: { check: minLength(32), purpose: "Cloudflare API token with Account Analytics Read only (Grafana reads the edge dataset)" },
  backupEncryptionKeys: {
    check: secretCheck((v) => parseBackupKeySet(v)),
    purpose: "BACKUP_ENCRYPTION_KEYS kid:<base64 of 32 random bytes> list, current first (openssl rand -base64 32)",
  },
  solanaPayerSecretKey: {
    check: minLength(64),
    purpose: "SOLANA_PAYER_SECRET_KEY (only when settlementAdapter is solana)",
    when: (get: (k: string) => string | undefined) => get("settlementAdapter") === "solana",
  },
} satisfies Record<string, { check: Check; purpose: string; when?: (get: (k: string) => string | undefined) => boolean }>;
export type SecretKeyName = keyof typeof SECRET_KEYS;
/** Secrets present only under a condition (SECRET_KEYS[k].when). */
export type ConditionalSecret = "solanaPayerSecretKey" | "postgresPassword" | "redisPassword" | "databaseUrl" | "redisUrl";

/** Plain (non-secret) settings the backend services receive as environment. */
export interface ServiceSettings {
  siwsChainId: string;
  /** Domain and https URI of the sign-in message (contract 2). */
  siwsDomain: string;
  merchantDomains: string;
  trustedProxyHeader: string;
  settlementAdapter: "ledger" | "solana";
  solanaRpcUrl?: string;
  twistMint?: string;
  /** SMTP relay of the verification mail (the password is the smtpPassword secret). */
  smtp: { host: string; port: string; tls: string; user: string; from: string };
}

export const HOST_ROLES = ["app", "data"] as const;
/** `app`: auth, influencer, settlement and a connector of the stack's tunnel. `data`: the Postgres and Redis containers. */
export type HostRole = (typeof HOST_ROLES)[number];

/** One VM of the backend: an entry of twist:backend.hosts, or the single-VM keys (twist:vmHost...) as the only one. */
export interface BackendVm {
  /** Short name. The first host keeps the single-VM logical names; every other host prefixes its resources with `<name>-`. */
  name: string;
  host: string;
  user: string;
  port: number;
  hostKey: string;
  platform: string;
  roles: readonly HostRole[];
}

/** A datastore in a container on the data host, or a managed one at a TLS URL (a Pulumi secret). */
export type Datastore = { mode: "container" } | { mode: "external"; url: pulumi.Output<string> };

export interface StackConfig {
  project: string;
  stack: StackName;
  commit: string;
  cloudflare: { accountId: string; zoneId: string; zoneName: string };
  edge: { hostname: string; vars: Record<ConfiguredEdgeVar, string>; optionalVars: Partial<Record<keyof typeof optionalVars, string>> };
  backend: {
    authHostname: string;
    apiHostname: string;
    /** At least one; hosts[0] is the primary (the migration, backups and monitoring run there). */
    hosts: readonly BackendVm[];
    database: Datastore;
    redis: Datastore;
  } & ServiceSettings;
  operations: { grafanaHostname: string; operatorEmails: string[]; cloudflarePlan: "free" | "pro" | "business" | "enterprise"; edgeIpRateLimitPer10s: number };
  backups: { intervalMinutes: number; keep: number; retentionDays: number; tokenExpiresOn: string };
  /** Every secret, as a Pulumi secret Output; the conditional ones only when their condition holds. */
  secrets: Record<Exclude<SecretKeyName, ConditionalSecret>, pulumi.Output<string>> & Partial<Record<ConditionalSecret, pulumi.Output<string>>>;
}

type Problem = { key: string; message: string };
const BACKEND_KEY = `${PROJECT}:backend`;
/** The single-VM shape: hosts[0] when twist:backend is not set, and in conflict with it when it is. */
const SINGLE_VM_KEYS = ["vmHost", "vmUser", "vmSshPort", "vmHostKey", "vmPlatform"] as const;
/** A twist:backend.hosts entry's fields: checked and defaulted like the single-VM key of the same meaning. */
const HOST_FIELDS = {
  name: { check: matches(/^[a-z][a-z0-9]{0,11}$/, "a short name (a lowercase letter, then letters or digits, at most 12)") },
  host: PLAIN_KEYS.vmHost,
  user: PLAIN_KEYS.vmUser,
  sshPort: PLAIN_KEYS.vmSshPort,
  hostKey: PLAIN_KEYS.vmHostKey,
  platform: PLAIN_KEYS.vmPlatform,
} satisfies Record<string, PlainKey>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const hostKeyOf = (i: number, field?: string) => `${BACKEND_KEY}.hosts[${i}]${field ? `.${field}` : ""}`;

/** twist:backend.hosts, each entry validated field by field; a problem names its path (twist:backend.hosts[1].hostKey). */
function readBackendHosts(backend: unknown, problems: Problem[]): { index: number; vm: BackendVm }[] {
  if (!isObject(backend)) {
    problems.push({ key: BACKEND_KEY, message: "must be an object with a hosts list" });
    return [];
  }
  for (const k of Object.keys(backend)) if (k !== "hosts") problems.push({ key: `${BACKEND_KEY}.${k}`, message: "is not a backend setting (expected hosts)" });
  if (!Array.isArray(backend.hosts) || backend.hosts.length === 0) {
    problems.push({ key: `${BACKEND_KEY}.hosts`, message: "must be a non-empty list of VMs" });
    return [];
  }
  const hosts: { index: number; vm: BackendVm }[] = [];
  for (const [i, entry] of (backend.hosts as unknown[]).entries()) {
    if (!isObject(entry)) {
      problems.push({ key: hostKeyOf(i), message: `must be an object with ${Object.keys(HOST_FIELDS).join(", ")} and roles` });
      continue;
    }
    const before = problems.length;
    const value: Record<string, string> = {};
    for (const [field, spec] of Object.entries(HOST_FIELDS) as [keyof typeof HOST_FIELDS, PlainKey][]) {
      const given = entry[field];
      const raw = given === undefined ? spec.default : typeof given === "string" || typeof given === "number" ? String(given) : null;
      const message = raw === undefined ? "is required" : raw === null ? "must be a string" : spec.check(raw);
      if (message) problems.push({ key: hostKeyOf(i, field), message });
      else value[field] = raw!;
    }
    for (const field of Object.keys(entry)) {
      if (!(field in HOST_FIELDS) && field !== "roles")
        problems.push({ key: hostKeyOf(i, field), message: `is not a host setting (expected ${Object.keys(HOST_FIELDS).join(", ")}, roles)` });
    }
    const roles = entry.roles ?? ["app"];
    if (!Array.isArray(roles) || roles.length === 0 || new Set(roles).size !== roles.length || roles.some((r) => !(HOST_ROLES as readonly unknown[]).includes(r))) {
      problems.push({ key: hostKeyOf(i, "roles"), message: `must be a non-empty list of distinct roles out of ${HOST_ROLES.join(", ")}` });
    }
    if (problems.length > before) continue;
    const vm = {
      name: value.name!,
      host: value.host!,
      user: value.user!,
      port: Number(value.sshPort),
      hostKey: value.hostKey!.trim(),
      platform: value.platform!,
      roles: roles as HostRole[],
    };
    const same = hosts.find((h) => h.vm.name === vm.name);
    if (same) problems.push({ key: hostKeyOf(i, "name"), message: `repeats hosts[${same.index}].name` });
    const twin = hosts.find((h) => h.vm.host === vm.host && h.vm.port === vm.port);
    if (twin) problems.push({ key: hostKeyOf(i, "host"), message: `is hosts[${twin.index}] again (one entry per VM)` });
    if (!same && !twin) hosts.push({ index: i, vm });
  }
  return hosts;
}

/**
 * Where the roles may run. Container datastores publish no host port (policy
 * datastore-no-host-ports), so only containers on their own host reach them: with either one in a
 * container, the data host is the one app host. With both external, no host has the data role.
 */
function checkRoles(hosts: { index: number; vm: BackendVm }[], containers: string[], problems: Problem[]): void {
  const data = hosts.filter((h) => h.vm.roles.includes("data"));
  if (!hosts.some((h) => h.vm.roles.includes("app"))) problems.push({ key: `${BACKEND_KEY}.hosts`, message: "needs at least one host with the app role" });
  for (const extra of data.slice(1)) problems.push({ key: hostKeyOf(extra.index, "roles"), message: `only one host runs the data role (hosts[${data[0]!.index}] has it)` });
  if (containers.length === 0) {
    for (const h of data) problems.push({ key: hostKeyOf(h.index, "roles"), message: "has the data role, but twist:database and twist:redis are external: remove it" });
    return;
  }
  const stores = containers.map((k) => `${PROJECT}:${k}`).join(" and ");
  if (data.length === 0) {
    problems.push({ key: `${BACKEND_KEY}.hosts`, message: `no host has the data role, but ${stores} run in a container: give one host roles [app, data], or make them external` });
    return;
  }
  for (const h of hosts) {
    if (h !== data[0] && h.vm.roles.includes("app")) {
      problems.push({
        key: hostKeyOf(h.index, "roles"),
        message: `an app host other than the data host cannot reach ${stores} in a container (it publishes no port): make them external (docs/deploy.md, "Growing past one VM") or run the app role on the data host only`,
      });
    }
  }
}

const EDGE_VAR_CHECKS: Record<ConfiguredEdgeVar, Check> = {
  RATE_LIMIT_WALLET_PER_MINUTE: matches(POSINT, "a positive integer"),
  RATE_LIMIT_DEVICE_PER_MINUTE: matches(POSINT, "a positive integer"),
  VAU_MAX_AGE_SECONDS: matches(POSINT, "a positive integer"),
  MAX_EARNED_PER_VAU: matches(UINT_STRING, "a positive integer amount in base units"),
};

/** Reads and validates the whole stack configuration. Throws StackConfigError naming every bad key. */
export function loadStackConfig(): StackConfig {
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const config = new pulumi.Config(PROJECT);
  const problems: { key: string; message: string }[] = [];
  const fq = (k: string) => `${PROJECT}:${k}`;

  if (!(STACKS as readonly string[]).includes(stack)) problems.push({ key: "stack", message: `"${stack}" is not one of ${STACKS.join(", ")}` });

  let backendObject: unknown;
  try {
    backendObject = config.getObject<unknown>("backend");
  } catch {
    problems.push({ key: BACKEND_KEY, message: "must be an object with a hosts list" });
  }
  const hostsGiven = backendObject !== undefined || problems.some((p) => p.key === BACKEND_KEY);

  const plain: Record<string, string | undefined> = {};
  const get = (k: string) => plain[k];
  for (const [key, spec] of Object.entries(PLAIN_KEYS) as [PlainKeyName, PlainKey][]) {
    if (spec.when && !spec.when(get)) continue;
    if (hostsGiven && (SINGLE_VM_KEYS as readonly string[]).includes(key)) {
      if (config.get(key) !== undefined)
        problems.push({ key: fq(key), message: `conflicts with ${BACKEND_KEY}: describe every VM in its hosts list (this key is the single-VM shape)` });
      continue;
    }
    const raw = config.get(key) ?? spec.default;
    if (raw === undefined || (raw === "" && spec.default !== "")) {
      problems.push({ key: fq(key), message: "is required" });
      continue;
    }
    if (raw === "" && spec.default === "") continue;
    const message = spec.check(raw);
    if (message) problems.push({ key: fq(key), message });
    else plain[key] = raw;
  }
  for (const host of ["edgeHostname", "authHostname", "apiHostname", "grafanaHostname"] as const) {
    const h = plain[host];
    if (h && plain.zoneName && !h.endsWith(`.${plain.zoneName}`)) problems.push({ key: fq(host), message: `must be inside the zone ${plain.zoneName}` });
  }

  // The backend's VMs: twist:backend.hosts, or the single-VM keys as its only host.
  const containers = (["database", "redis"] as const).filter((k) => plain[k] === "container");
  let hosts: { index: number; vm: BackendVm }[] = [];
  if (backendObject !== undefined) {
    hosts = readBackendHosts(backendObject, problems);
    if (hosts.length > 0 && !problems.some((p) => p.key.startsWith(`${BACKEND_KEY}.hosts[`))) checkRoles(hosts, containers, problems);
  } else if (!hostsGiven && plain.vmHost && plain.vmHostKey) {
    const vm = { host: plain.vmHost, user: plain.vmUser!, port: Number(plain.vmSshPort), hostKey: plain.vmHostKey.trim(), platform: plain.vmPlatform! };
    hosts = [{ index: 0, vm: { name: "vm", ...vm, roles: containers.length > 0 ? ["app", "data"] : ["app"] } }];
  }

  // Edge Worker tuning: an object of plain_text values keyed by the declared variable names.
  const edgeVars: Partial<Record<ConfiguredEdgeVar, string>> = {};
  const edgeOptional: Partial<Record<keyof typeof optionalVars, string>> = {};
  let edgeObject: Record<string, unknown> | undefined;
  try {
    edgeObject = config.getObject<Record<string, unknown>>("edgeVars");
  } catch {
    problems.push({ key: fq("edgeVars"), message: "must be an object of variable name -> string value" });
  }
  if (edgeObject === undefined) {
    if (!problems.some((p) => p.key === fq("edgeVars"))) problems.push({ key: fq("edgeVars"), message: "is required" });
  } else {
    for (const [name, value] of Object.entries(edgeObject)) {
      const key = `${fq("edgeVars")}.${name}`;
      if (typeof value !== "string" && typeof value !== "number") {
        problems.push({ key, message: "must be a string" });
      } else if (name in EDGE_VAR_CHECKS) {
        const message = EDGE_VAR_CHECKS[name as ConfiguredEdgeVar](String(value));
        if (message) problems.push({ key, message });
        else edgeVars[name as ConfiguredEdgeVar] = String(value);
      } else if (name in optionalVars) {
        edgeOptional[name as keyof typeof optionalVars] = String(value);
      } else {
        problems.push({ key, message: `is not a variable the Worker declares (runtime/edge/bindings.ts)` });
      }
    }
    for (const name of Object.keys(EDGE_VAR_CHECKS)) {
      if (!(name in edgeObject)) problems.push({ key: `${fq("edgeVars")}.${name}`, message: "is required" });
    }
  }

  // Secrets: presence now (synchronously, so the error lists them with the rest), format in an apply.
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKeyName, (typeof SECRET_KEYS)[SecretKeyName]][]) {
    if ("when" in spec && !spec.when(get)) continue;
    let value: pulumi.Output<string>;
    try {
      value = config.requireSecret(key);
    } catch {
      problems.push({ key: fq(key), message: `is required (pulumi config set --secret ${fq(key)}; ${spec.purpose})` });
      continue;
    }
    secrets[key] = value.apply((v) => {
      const message = spec.check(v);
      if (message) throw new StackConfigError([{ key: fq(key), message }]);
      return v;
    });
  }

  if (problems.length > 0) throw new StackConfigError(problems);

  const p = plain as Record<PlainKeyName, string>;
  return {
    project,
    stack: stack as StackName,
    commit: p.commit || currentCommit(),
    cloudflare: { accountId: p.cloudflareAccountId, zoneId: p.cloudflareZoneId, zoneName: p.zoneName },
    edge: { hostname: p.edgeHostname, vars: edgeVars as Record<ConfiguredEdgeVar, string>, optionalVars: edgeOptional },
    backend: {
      authHostname: p.authHostname,
      apiHostname: p.apiHostname,
      hosts: hosts.map((h) => h.vm),
      database: p.database === "external" ? { mode: "external", url: secrets.databaseUrl! } : { mode: "container" },
      redis: p.redis === "external" ? { mode: "external", url: secrets.redisUrl! } : { mode: "container" },
      siwsChainId: p.siwsChainId,
      siwsDomain: plain.siwsDomain ?? p.authHostname,
      merchantDomains: p.merchantDomains,
      trustedProxyHeader: p.trustedProxyHeader,
      settlementAdapter: p.settlementAdapter as "ledger" | "solana",
      ...(p.settlementAdapter === "solana" ? { solanaRpcUrl: p.solanaRpcUrl, twistMint: p.twistMint } : {}),
      smtp: { host: p.smtpHost, port: p.smtpPort, tls: p.smtpTls, user: p.smtpUser, from: p.mailFrom },
    },
    operations: {
      grafanaHostname: p.grafanaHostname,
      operatorEmails: p.operatorEmails.split(",").map((e) => e.trim().toLowerCase()),
      cloudflarePlan: p.cloudflarePlan as StackConfig["operations"]["cloudflarePlan"],
      edgeIpRateLimitPer10s: Number(p.edgeIpRateLimitPer10s),
    },
    backups: { intervalMinutes: Number(p.backupIntervalMinutes), keep: Number(p.backupKeep), retentionDays: Number(p.backupRetentionDays), tokenExpiresOn: p.backupTokenExpiry },
    secrets: secrets as StackConfig["secrets"],
  };
}

/**
 * TWIST_ARTIFACTS_DIR: a directory with the built bundles (edge/index.js, auth/, influencer/) and
 * the image contexts staged from them (images/<image>/) to deploy instead of <repo>/dist. The
 * rollback workflow builds the chosen commit there and stages its image contexts with this
 * checkout's Dockerfiles; anything missing stops the run, named.
 */
export function artifactsDirectory(repoRoot: string): string {
  const dir = process.env.TWIST_ARTIFACTS_DIR;
  if (!dir) return join(repoRoot, "dist");
  const abs = resolve(dir);
  const has = (files: string[]) => files.filter((f) => !existsSync(join(abs, f)));
  const bundles = has(["edge/index.js", "auth/main.js", "influencer/main.js", "influencer/migrate.js", "influencer/worker.js", "influencer/backup.js"]);
  if (bundles.length > 0) throw new StackConfigError([{ key: "TWIST_ARTIFACTS_DIR", message: `${dir} lacks ${bundles.join(", ")} (build the commit there with npm run build)` }]);
  const contexts = has(["images/auth/main.js", "images/influencer/main.js", "images/migrate/migrate.js", "images/backup/backup.js"]);
  if (contexts.length > 0)
    throw new StackConfigError([
      {
        key: "TWIST_ARTIFACTS_DIR",
        message: `${dir} lacks the image contexts ${contexts.join(", ")} (stage them with this checkout's \`node scripts/build.mjs --stage-images ${dir}\`)`,
      },
    ]);
  return abs;
}

/**
 * The commit being deployed: TWIST_COMMIT or GITHUB_SHA (CI), else `git rev-parse HEAD` with a
 * "-dirty" suffix for uncommitted changes, so stack history always names what was deployed.
 */
export function currentCommit(): string {
  const fromEnv = process.env.TWIST_COMMIT || process.env.GITHUB_SHA;
  if (fromEnv) return fromEnv;
  try {
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    throw new StackConfigError([{ key: `${PROJECT}:commit`, message: "cannot determine the commit: set TWIST_COMMIT or run inside the git checkout" }]);
  }
}
