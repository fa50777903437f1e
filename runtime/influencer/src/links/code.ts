// Short, unguessable link codes: 10 characters of base62 from the CSPRNG (~59.5 bits), drawn by
// rejection sampling so every character is uniform.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const LINK_CODE_LENGTH = 10;
/** What a path segment must look like to be looked up at all. */
export const LINK_CODE_PATTERN = /^[0-9A-Za-z]{10}$/;

export function newLinkCode(): string {
  let code = "";
  while (code.length < LINK_CODE_LENGTH) {
    for (const byte of randomBytes(16)) {
      if (byte < 248 && code.length < LINK_CODE_LENGTH) code += ALPHABET[byte % 62];
    }
  }
  return code;
}
