// The encrypted backup object: AES-256-GCM over the whole pg_dump archive, with a small plaintext
// header that names the key, so keys can rotate (new backups use the current key, restores find any
// key still held). The header is authenticated too (it is the GCM additional data):
//
//   "TWISTBK1" | kid length (1 byte) | kid (ASCII) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// Decryption writes plaintext to a file and only reports success after the tag verified, so a
// corrupted or truncated object is rejected before anything reads the plaintext.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BackupKeySet } from "@twist/shared/keys";

const MAGIC = Buffer.from("TWISTBK1", "ascii");
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A backup object that cannot be decrypted: not ours, damaged, or under a key we do not hold. */
export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupIntegrityError";
  }
}

function header(kid: string, nonce: Buffer): Buffer {
  const id = Buffer.from(kid, "ascii");
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, nonce]);
}

/** Encrypts `plaintext` (a stream, e.g. pg_dump's stdout) into `outPath` with the current key; returns the bytes written. */
export async function encryptToFile(plaintext: Readable, keys: BackupKeySet, outPath: string): Promise<number> {
  const nonce = randomBytes(NONCE_BYTES);
  const head = header(keys.currentKid, nonce);
  const cipher = createCipheriv("aes-256-gcm", keys.keys[keys.currentKid]!, nonce);
  cipher.setAAD(head);
  let written = 0;
  const framed = new Transform({
    construct(done) {
      this.push(head);
      done();
    },
    transform(chunk: Buffer, _enc, done) {
      done(null, chunk);
    },
    flush(done) {
      // The cipher has ended by now, so its tag is final.
      done(null, cipher.getAuthTag());
    },
  });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(plaintext, cipher, framed, counter, createWriteStream(outPath, { mode: 0o600 }));
  return written;
}

/** Decrypts the object at `inPath` into `outPath`; throws BackupIntegrityError unless it authenticates. Returns the key id used. */
export async function decryptToFile(inPath: string, keys: BackupKeySet, outPath: string): Promise<string> {
  const { size } = await stat(inPath);
  const prefix = Buffer.alloc(Math.min(size, MAGIC.length + 1 + 255 + NONCE_BYTES));
  const fd = await open(inPath, "r");
  try {
    await fd.read(prefix, 0, prefix.length, 0);
  } finally {
    await fd.close();
  }
  if (prefix.length < MAGIC.length + 1 || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupIntegrityError("the object is not a TWIST backup (no TWISTBK1 header): wrong object or corrupted");
  }
  const kidLength = prefix[MAGIC.length]!;
  const headerLength = MAGIC.length + 1 + kidLength + NONCE_BYTES;
  if (size < headerLength + TAG_BYTES) throw new BackupIntegrityError("the backup object is truncated (shorter than its header and tag)");
  const kid = prefix.subarray(MAGIC.length + 1, MAGIC.length + 1 + kidLength).toString("ascii");
  const key = keys.keys[kid];
  if (!key) throw new BackupIntegrityError(`the backup is encrypted with key id "${kid}", which BACKUP_ENCRYPTION_KEYS does not hold`);
  const nonce = prefix.subarray(MAGIC.length + 1 + kidLength, headerLength);

  const tag = Buffer.alloc(TAG_BYTES);
  const tagFd = await open(inPath, "r");
  try {
    await tagFd.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    await tagFd.close();
  }
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(prefix.subarray(0, headerLength));
  decipher.setAuthTag(tag);
  try {
    await pipeline(createReadStream(inPath, { start: headerLength, end: size - TAG_BYTES - 1 }), decipher, createWriteStream(outPath, { mode: 0o600 }));
  } catch (err) {
    if (/unable to authenticate|auth/i.test((err as Error).message)) {
      throw new BackupIntegrityError(`the backup object failed authentication with key id "${kid}": it is corrupted or truncated, or that key is not the one it was written with`);
    }
    throw err;
  }
  return kid;
}
