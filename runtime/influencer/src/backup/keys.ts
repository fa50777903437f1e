// BACKUP_ENCRYPTION_KEYS: "kid:<base64 of 32 random bytes>[,kid:<previous>]", current first (the
// same kid:secret list as JWT_KEYS). Backups are written with the current key; a restore uses the
// key the object's header names, so old backups stay readable while their key is still listed.
import { KeySetError, parseJwtKeySet } from "@twist/shared/keys";

export interface BackupKeySet {
  currentKid: string;
  keys: Readonly<Record<string, Buffer>>;
}

export function parseBackupKeys(text: string): BackupKeySet {
  const set = parseJwtKeySet(text);
  const keys: Record<string, Buffer> = {};
  for (const [kid, secret] of Object.entries(set.keys)) {
    const bytes = Buffer.from(secret, "base64");
    if (bytes.length !== 32 || bytes.toString("base64") !== secret) throw new KeySetError(`key "${kid}" must be base64 of exactly 32 bytes (openssl rand -base64 32)`);
    keys[kid] = bytes;
  }
  return { currentKid: set.currentKid, keys };
}
