// Contract 2: the SIWS-style sign-in message. The server builds it; the wallet signs its UTF-8 bytes.

export const SIWS_STATEMENT = "Sign in to TWIST.";
export const SIWS_VERSION = "1";

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
