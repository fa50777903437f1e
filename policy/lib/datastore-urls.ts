// Which datastore connection URLs leave the host, and whether they require TLS. Shared by the stack
// config (infra/config.ts rejects an external URL without TLS before anything deploys) and the
// policy that checks the recorded graph (policies/external-datastore-tls.ts).

/** Postgres sslmode values that refuse a plaintext connection (libpq's names). */
export const POSTGRES_TLS_MODES = ["require", "verify-ca", "verify-full"] as const;
const KNOWN_SSLMODES = ["disable", "allow", "prefer", ...POSTGRES_TLS_MODES];

export type DatastoreKind = "postgres" | "redis";

/** The datastore a URL points at, by scheme; undefined for anything else. */
export function datastoreKind(url: URL): DatastoreKind | undefined {
  if (url.protocol === "postgres:" || url.protocol === "postgresql:") return "postgres";
  if (url.protocol === "redis:" || url.protocol === "rediss:") return "redis";
  return undefined;
}

/**
 * True when the URL stays on its host: a container network alias (one DNS label, e.g. `postgres`)
 * or loopback. Anything else (a dotted hostname, an IP address) crosses a network.
 */
export function staysOnHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return /^[a-z0-9-]+$/.test(host) || host === "127.0.0.1" || host === "::1";
}

/**
 * Why a datastore URL does not require TLS, or undefined when it does. The message names the
 * scheme and sslmode only, never the URL (it carries a password).
 */
export function tlsProblem(url: URL): string | undefined {
  const kind = datastoreKind(url);
  if (kind === "redis") return url.protocol === "rediss:" ? undefined : "uses redis:// (plaintext); use the provider's rediss:// URL";
  if (kind !== "postgres") return undefined;
  const mode = url.searchParams.get("sslmode");
  if (mode !== null && (POSTGRES_TLS_MODES as readonly string[]).includes(mode)) return undefined;
  const has = mode === null ? "no sslmode" : KNOWN_SSLMODES.includes(mode) ? `sslmode=${mode}` : "an unknown sslmode";
  return `has ${has}; add sslmode=require (or verify-ca, verify-full) so the connection cannot fall back to plaintext`;
}
