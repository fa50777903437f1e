// Contract 2: the SIWS-style sign-in message. The server builds it; the wallet signs its UTF-8 bytes.

export const SIWS_STATEMENT = "Sign in to TWIST.";
export const SIWS_VERSION = "1";

/** Every refusal of POST /auth/verify: answered 401 with this code and message (also listed in docs/auth.md). */
export const SIGN_IN_FAILURES = {
  DOMAIN_MISMATCH: "the message is for another domain",
  URI_MISMATCH: "the message is for another URI",
  CHAIN_MISMATCH: "the message is for another chain",
  VERSION_MISMATCH: "the message has an unsupported version",
  STATEMENT_MISMATCH: "the message has another statement",
  ADDRESS_MISMATCH: "the message names another wallet than walletAddress",
  SIGNATURE_INVALID: "the signature does not verify for this wallet and message",
  NONCE_UNKNOWN: "the nonce was not issued by this service",
  NONCE_MISMATCH: "the message carries another nonce than the one issued to this wallet",
  NONCE_ADDRESS_MISMATCH: "the nonce was issued to another wallet",
  NONCE_EXPIRED: "the nonce has expired; request a new one",
  NONCE_REPLAYED: "the nonce has already been used",
  ISSUED_AT_MISMATCH: "the message's Issued At differs from the one issued with the nonce",
  EXPIRATION_MISMATCH: "the message's Expiration Time is later than the nonce's",
  MESSAGE_EXPIRED: "the message's Expiration Time has passed",
} as const;

export type SignInFailure = keyof typeof SIGN_IN_FAILURES;

export interface SiwsFields {
  domain: string;
  address: string;
  statement: string;
  uri: string;
  version: string;
  chainId: string;
  nonce: string;
  issuedAt: string;
  expirationTime: string;
}

export function buildSiwsMessage(f: Omit<SiwsFields, "statement" | "version"> & Partial<Pick<SiwsFields, "statement" | "version">>): string {
  return [
    `${f.domain} wants you to sign in with your Solana account:`,
    f.address,
    "",
    f.statement ?? SIWS_STATEMENT,
    "",
    `URI: ${f.uri}`,
    `Version: ${f.version ?? SIWS_VERSION}`,
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
    `Expiration Time: ${f.expirationTime}`,
  ].join("\n");
}

const MESSAGE_PATTERN = new RegExp(
  [
    "^(?<domain>[^\\s]+) wants you to sign in with your Solana account:",
    "(?<address>[1-9A-HJ-NP-Za-km-z]{32,44})",
    "",
    "(?<statement>[^\\n]*)",
    "",
    "URI: (?<uri>[^\\s]+)",
    "Version: (?<version>[^\\s]+)",
    "Chain ID: (?<chainId>[^\\s]+)",
    "Nonce: (?<nonce>[A-Za-z0-9]+)",
    "Issued At: (?<issuedAt>[^\\s]+)",
    "Expiration Time: (?<expirationTime>[^\\s]+)$",
  ].join("\\n"),
);

/** Parses a message built by buildSiwsMessage; null when it does not have exactly that shape. */
export function parseSiwsMessage(message: string): SiwsFields | null {
  const groups = MESSAGE_PATTERN.exec(message)?.groups;
  if (!groups) return null;
  const fields = groups as unknown as SiwsFields;
  for (const instant of [fields.issuedAt, fields.expirationTime]) {
    if (Number.isNaN(Date.parse(instant)) || new Date(instant).toISOString() !== instant) return null;
  }
  return { ...fields };
}
