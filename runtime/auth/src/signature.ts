// Ed25519 verification of the wallet's signature over the sign-in message (contract 2), on Node's
// own crypto (OpenSSL): bench/auth measures it against tweetnacl and it is the faster by two orders
// of magnitude, so the server hot path uses it. Clients and tests may sign with anything.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import bs58 from "bs58";
import { decodeWalletAddress } from "@twist/shared/wallet";
import { fromBase64, utf8 } from "@twist/shared/encoding";

export const SIGNATURE_BYTES = 64;

/** DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410); the 32 key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const BASE58_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/;

/** 64 bytes in standard base64 are always 88 characters ending in "==". */
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

/**
 * The 64 signature bytes from their base58 or base64 text, or null. Base64 must be the standard
 * padded form (what btoa and Buffer produce): unpadded, an 86-character string could be read both
 * ways (base58 of 63 bytes is also unpadded base64 of 64), and a signature has one meaning only.
 */
export function decodeSignature(text: unknown): Uint8Array | null {
  if (typeof text !== "string") return null;
  const bytes = BASE64_SIGNATURE.test(text) ? fromBase64(text) : BASE58_SIGNATURE.test(text) ? bs58.decodeUnsafe(text) : null;
  return bytes && bytes.length === SIGNATURE_BYTES ? bytes : null;
}

export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** Ed25519 verification; false (never a throw) for keys that are not valid curve points. */
export function verifyEd25519(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, ed25519PublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/** Does `signature` (bytes, or base58/base64 text) sign the UTF-8 bytes of `message` for the wallet `address`? */
export function verifyWalletSignature(address: string, message: string, signature: Uint8Array | string): boolean {
  const publicKey = decodeWalletAddress(address);
  const bytes = typeof signature === "string" ? decodeSignature(signature) : signature;
  if (!publicKey || !bytes) return false;
  return verifyEd25519(utf8(message), bytes, publicKey);
}
