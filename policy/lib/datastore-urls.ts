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
 * Why a datastore URL does not require TLS and how to fix it, or undefined when it does. Neither
 * names more than the scheme and sslmode: the URL carries a password.
 */
export function tlsProblem(url: URL): { reason: string; fix: string } | undefined {
  const kind = datastoreKind(url);
  if (kind === "redis") return url.protocol === "rediss:" ? undefined : { reason: "uses redis:// (plaintext)", fix: "use the provider's rediss:// URL" };
  if (kind !== "postgres") return undefined;
  const mode = url.searchParams.get("sslmode");
  if (mode !== null && (POSTGRES_TLS_MODES as readonly string[]).includes(mode)) return undefined;
  const has = mode === null ? "no sslmode" : KNOWN_SSLMODES.includes(mode) ? `sslmode=${mode}` : "an unknown sslmode";
  return { reason: `has ${has}`, fix: `add sslmode=require (or verify-ca, verify-full) so it cannot fall back to plaintext` };
}

/** A value that is one datastore URL (a secret file's content, a command's stdin), parsed; else undefined. */
export function asDatastoreUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text)) return undefined;
  try {
    const url = new URL(text);
    return datastoreKind(url) ? url : undefined;
  } catch {
    return undefined;
  }
}
