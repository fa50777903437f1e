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

/**
 * The 64 signature bytes from their base58 or base64 text, or null. Base58 is tried first (what
 * Solana wallets and bs58 produce); padded base64 ("...==") can never be base58. An unpadded base64
 * string that happens to be valid 64-byte base58 is read as base58, so clients should pad base64.
 */
export function decodeSignature(text: unknown): Uint8Array | null {
  if (typeof text !== "string" || text.length > 100) return null;
  if (BASE58_SIGNATURE.test(text)) {
    const bytes = bs58.decodeUnsafe(text);
    if (bytes && bytes.length === SIGNATURE_BYTES) return bytes;
  }
  const bytes = fromBase64(text);
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
