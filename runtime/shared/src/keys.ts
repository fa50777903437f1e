// Key sets for rotation (contracts 1 and 3). Environment format, current key first:
//   JWT_KEYS="2026-01:<secret>,2025-12:<previous secret>"    (kid:secret pairs)
//   VAU_SIGNING_KEYS="<current>,<previous>"                 (bare secrets)
// Secrets may contain ':' but not ','.

export interface JwtKeySet {
  /** kid used when signing. */
  currentKid: string;
  /** Every kid a verifier accepts, current and previous. */
  keys: Readonly<Record<string, string>>;
}

export const MIN_SECRET_LENGTH = 16;

export class KeySetError extends Error {}

export function parseJwtKeySet(text: string): JwtKeySet {
  const entries = splitList(text).map((entry) => {
    const colon = entry.indexOf(":");
    if (colon <= 0) throw new KeySetError("each entry must be kid:secret");
    const kid = entry.slice(0, colon);
    const secret = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) throw new KeySetError(`kid "${kid}" must be 1-64 of [A-Za-z0-9._-]`);
    if (secret.length < MIN_SECRET_LENGTH) throw new KeySetError(`secret of kid "${kid}" is shorter than ${MIN_SECRET_LENGTH}`);
    return [kid, secret] as const;
  });
  const keys: Record<string, string> = {};
  for (const [kid, secret] of entries) {
    if (kid in keys) throw new KeySetError(`kid "${kid}" appears twice`);
    keys[kid] = secret;
  }
  return { currentKid: entries[0]![0], keys };
}

/** Signing keys for contract 3: the first signs, all verify. */
export function parseSigningKeys(text: string): string[] {
  const keys = splitList(text);
  for (const key of keys) {
    if (key.length < MIN_SECRET_LENGTH) throw new KeySetError(`a signing key is shorter than ${MIN_SECRET_LENGTH}`);
  }
  if (keys.length > 3) throw new KeySetError("at most 3 keys (current, previous, next)");
  return keys;
}

function splitList(text: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === "")) throw new KeySetError("expected a non-empty comma-separated list");
  return items;
}

/**
 * Backup encryption keys (BACKUP_ENCRYPTION_KEYS, read by the backup job and validated by the
 * Pulumi program): "kid:<base64 of 32 random bytes>[,kid:<previous>]", current first. Backups are
 * written with the current key; a restore uses the key its object's header names.
 */
export interface BackupKeySet {
  currentKid: string;
  keys: Readonly<Record<string, Uint8Array>>;
}

export function parseBackupKeySet(text: string): BackupKeySet {
  const set = parseJwtKeySet(text);
  const keys: Record<string, Uint8Array> = {};
  for (const [kid, secret] of Object.entries(set.keys)) {
    // atob/btoa rather than Buffer: this module also runs in the Worker.
    let binary = "";
    try {
      binary = atob(secret);
    } catch {
      // not base64: reported below
    }
    if (binary.length !== 32 || btoa(binary) !== secret) throw new KeySetError(`key "${kid}" must be base64 of exactly 32 bytes (openssl rand -base64 32)`);
    keys[kid] = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  return { currentKid: set.currentKid, keys };
}
