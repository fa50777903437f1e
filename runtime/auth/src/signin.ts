// POST /auth/verify's decision (contract 2): the message must be exactly what this service issued,
// for this service, signed by the wallet it names. Every refusal is 401 with its own code; input
// that is not a sign-in request at all is 400 (the route validates shape before calling this).
import { ApiError, validationError } from "@twist/shared/errors";
import { SIGN_IN_FAILURES, SIWS_STATEMENT, SIWS_VERSION, parseSiwsMessage, type SignInFailure } from "@twist/shared/siws";
import type { AuthConfig } from "./config";
import type { NonceStore } from "./nonces";
import { verifyWalletSignature } from "./signature";

export const signInFailure = (code: SignInFailure) => new ApiError(code, SIGN_IN_FAILURES[code]);

export interface SignInRequest {
  walletAddress: string;
  message: string;
  signature: string;
}

/**
 * Checks the request and consumes its nonce; returns the signed-in wallet or throws. Stateless checks
 * and the signature come first, so a refused attempt never touches the nonce (nobody but the wallet's
 * owner can burn it); then `proven` runs (the per-wallet rate limit: only the owner can spend that
 * budget), then one atomic Redis script checks and consumes the nonce.
 */
export async function checkSignIn(input: SignInRequest, config: AuthConfig, nonces: NonceStore, now: number, proven: () => Promise<void> = async () => {}): Promise<string> {
  const fields = parseSiwsMessage(input.message);
  if (!fields) throw validationError("request is invalid", [{ field: "message", message: "is not a sign-in message of this service's format" }]);
  if (fields.domain !== config.SIWS_DOMAIN) throw signInFailure("DOMAIN_MISMATCH");
  if (fields.uri !== config.SIWS_URI) throw signInFailure("URI_MISMATCH");
  if (fields.chainId !== config.SIWS_CHAIN_ID) throw signInFailure("CHAIN_MISMATCH");
  if (fields.version !== SIWS_VERSION) throw signInFailure("VERSION_MISMATCH");
  if (fields.statement !== SIWS_STATEMENT) throw signInFailure("STATEMENT_MISMATCH");
  if (fields.address !== input.walletAddress) throw signInFailure("ADDRESS_MISMATCH");
  if (!verifyWalletSignature(input.walletAddress, input.message, input.signature)) throw signInFailure("SIGNATURE_INVALID");
  await proven();
  const outcome = await nonces.consume({
    nonce: fields.nonce,
    address: input.walletAddress,
    issuedAt: Date.parse(fields.issuedAt),
    expirationTime: Date.parse(fields.expirationTime),
    now,
  });
  if (outcome !== "OK") throw signInFailure(outcome);
  return input.walletAddress;
}
