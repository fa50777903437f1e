// Solana wallet addresses: base58 of a 32-byte ed25519 public key. The address is the identity root.
import bs58 from "bs58";

export const WALLET_ADDRESS_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

/** The 32 public-key bytes an address decodes to, or null when it is not a wallet address. */
export function decodeWalletAddress(address: unknown): Uint8Array | null {
  if (typeof address !== "string" || !WALLET_ADDRESS_PATTERN.test(address)) return null;
  const bytes = bs58.decodeUnsafe(address);
  return bytes && bytes.length === 32 ? bytes : null;
}

export function isWalletAddress(address: unknown): address is string {
  return decodeWalletAddress(address) !== null;
}
